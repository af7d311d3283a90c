"""How good a still is as a photograph: sharpness, exposure, contrast, colour — numbers in [0, 1] a ranking can add."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_WIDTH = 320   # every score is measured on a frame scaled to this width, so sizes compare


@dataclass(frozen=True)
class StillQuality:
    """A still's photographic quality; ``score`` is their weighted sum (higher is better)."""
    sharpness: float      # variance of the Laplacian, squashed to [0, 1] (0.5 at a variance of 150)
    exposure: float       # 1 = mid-tones well filled, 0 = black or blown out
    contrast: float       # standard deviation of luma in [0, 1], doubled and capped at 1
    clipped: float        # share of pixels crushed to black or blown to white

    @property
    def score(self) -> float:
        """Weighted: sharpness counts most, then exposure, then contrast."""
        return round(0.5 * self.sharpness + 0.3 * self.exposure + 0.2 * self.contrast, 4)


def working_grey(rgb: np.ndarray) -> np.ndarray:
    """The frame as 8-bit grey, scaled to :data:`WORK_WIDTH` wide."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if grey.shape[1] != WORK_WIDTH:
        height = max(1, round(grey.shape[0] * WORK_WIDTH / grey.shape[1]))
        grey = cv2.resize(grey, (WORK_WIDTH, height), interpolation=cv2.INTER_AREA)
    return grey


def still_quality(grey: np.ndarray) -> StillQuality:
    """Quality of a working-size grey frame (see :func:`working_grey`)."""
    variance = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    sharpness = variance / (variance + 150.0)
    luma = grey.astype(np.float64) / 255.0
    mean, std = float(luma.mean()), float(luma.std())
    clipped = float(((grey <= 8) | (grey >= 247)).mean())
    exposure = max(0.0, 1.0 - 2.0 * abs(mean - 0.45) - 1.5 * clipped)
    return StillQuality(sharpness=round(sharpness, 4), exposure=round(exposure, 4),
                        contrast=round(min(1.0, 2.0 * std), 4), clipped=round(clipped, 4))
