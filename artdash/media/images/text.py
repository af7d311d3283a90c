"""Whether a still carries lettering (a title treatment, captions, a sign): the classic
morphological text detector — strong local contrast, joined along lines, kept where the blobs
have the shape of words. No model; a cue for tagging, not OCR."""

from __future__ import annotations

import cv2
import numpy as np

WORK_WIDTH = 640


def text_share(rgb: np.ndarray) -> float:
    """Share of the picture covered by word-shaped blobs of high local contrast (0 to 1)."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if grey.shape[1] > WORK_WIDTH:
        grey = cv2.resize(grey, (WORK_WIDTH, round(grey.shape[0] * WORK_WIDTH / grey.shape[1])),
                          interpolation=cv2.INTER_AREA)
    height, width = grey.shape
    gradient = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    _, strokes = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    joined = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    count, _, boxes, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    covered = 0
    for x, y, w, h, _ in boxes[1:count]:
        if not (0.012 * height <= h <= 0.12 * height and w >= 2.0 * h and w <= 0.95 * width):
            continue
        box = strokes[y:y + h, x:x + w]
        fill = float(np.count_nonzero(box)) / (w * h)
        if 0.25 <= fill <= 0.85:   # strokes with gaps between them, not a solid bar or a texture
            covered += w * h
    return round(covered / (width * height), 4)
