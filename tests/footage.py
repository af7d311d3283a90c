"""Real photographs no one here drew (scikit-image's sample data, shipped in its wheel) and clips
assembled from them with known cut points."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

from artdash.media.video.assemble import AssembledClip, assemble_clip

SCENES = ("astronaut_top", "coffee", "chelsea", "rocket", "camera", "stereo_motorcycle", "hubble_deep_field",
          "retina", "immunohistochemistry", "logo", "page", "brick", "grass", "gravel", "coins", "moon")


@cache
def photo(name: str) -> Image.Image:
    """A sample photograph as RGB; "astronaut_top" is the astronaut's upper part (her face whole in 16:9)."""
    if name == "astronaut_top":
        return Image.fromarray(data.astronaut()[:300])
    array = getattr(data, name)()
    array = array[0] if isinstance(array, tuple) else array
    if array.ndim == 2:
        array = np.stack([array] * 3, -1)
    return Image.fromarray(array[..., :3].astype(np.uint8))


def scene_clip(path: Path, names=SCENES, seconds=None, size=(640, 360), fps=24) -> AssembledClip:
    """One shot per named photograph, 2–4 s each unless ``seconds`` says otherwise."""
    lengths = seconds or [2.0 + (i % 3) for i in range(len(names))]
    return assemble_clip([photo(n) for n in names], path, seconds_per_shot=lengths, size=size, fps=fps)


def labelled_faces() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """scikit-image's LFW subset: 100 face crops and 100 non-faces (25×25 grey), each scaled to
    100×100 with a 20-pixel edge of context, as a face sits in a frame."""
    def frame(a):
        big = cv2.resize((a * 255).astype(np.uint8), (100, 100), interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, 20, 20, 20, 20, cv2.BORDER_REPLICATE)
        return np.stack([big] * 3, -1)
    lfw = data.lfw_subset()
    return [frame(a) for a in lfw[:100]], [frame(a) for a in lfw[100:]]
