"""Faces in a still, found by OpenCV's frontal-face Haar cascade — the model ships inside the
opencv-python-headless wheel (4.x; OpenCV 5's wheels no longer carry the cascades), so nothing
is downloaded. Boxes are fractions of the image, so they hold for every size of it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CASCADE = "haarcascade_frontalface_default.xml"
DETECT_WIDTH = 512      # faces are looked for on a frame scaled to this width (or its own, if smaller)
_local = threading.local()


@dataclass(frozen=True)
class Face:
    """A face's box as fractions of the image's width and height (x, y: its top left corner)."""
    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        """Share of the image the box covers."""
        return self.w * self.h

    @property
    def centre(self) -> tuple[float, float]:
        """The box's centre (fractions)."""
        return self.x + self.w / 2, self.y + self.h / 2

    def as_list(self) -> list[float]:
        """[x, y, w, h], rounded, for JSON."""
        return [round(self.x, 4), round(self.y, 4), round(self.w, 4), round(self.h, 4)]


def _cascade() -> cv2.CascadeClassifier:
    classifier = getattr(_local, "classifier", None)
    if classifier is None:  # a classifier per thread: detectMultiScale is not safe to share
        path = Path(cv2.data.haarcascades) / CASCADE  # type: ignore[attr-defined]
        classifier = cv2.CascadeClassifier(str(path))
        if classifier.empty():
            raise RuntimeError(f"OpenCV's face model is missing ({path}); reinstall opencv-python-headless<5")
        _local.classifier = classifier
    return classifier


def detect_faces(rgb: np.ndarray) -> tuple[Face, ...]:
    """Frontal faces at least 1/24 of the short side, largest first."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    height, width = grey.shape
    scale = min(1.0, DETECT_WIDTH / width)
    if scale < 1.0:
        grey = cv2.resize(grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    side = max(24, min(grey.shape) // 24)
    boxes = _cascade().detectMultiScale(grey, scaleFactor=1.15, minNeighbors=7, minSize=(side, side))
    h, w = grey.shape
    faces = [Face(float(x) / w, float(y) / h, float(bw) / w, float(bh) / h) for x, y, bw, bh in
             (boxes if len(boxes) else [])]
    return tuple(sorted(faces, key=lambda f: -f.area))


NO_FACE = "no face found"
# What earlier versions stored for a still without a detected face: a fact about the picture
# the detector cannot know (a face turned away, too small, in profile). Shown as NO_FACE.
LEGACY_SHOTS = {"no people": NO_FACE}


def shot_label(stored: object) -> str:
    """A stored cast shot as it is shown (an old "no people" says what the detector found)."""
    return LEGACY_SHOTS.get(str(stored), str(stored))


def cast_shot(faces: tuple[Face, ...]) -> str:
    """What the face detector found, as editors name shots: close-up, one person, two-shot,
    group — or "no face found" (which is not "no people": a face can be missed)."""
    if not faces:
        return NO_FACE
    if len(faces) == 1:
        return "close-up" if faces[0].h >= 0.25 else "one person"
    return "two-shot" if len(faces) == 2 else "group"
