"""Where a still's subject is: its focal point (the faces, else the most salient region) and how
it sits in the frame (on a third, centred, or off balance)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from artdash.media.images.faces import Face

_SALIENCY_SIDE = 64


@dataclass(frozen=True)
class Composition:
    """The focal point (fractions of width and height), what placed it, and how it sits in the frame."""
    focal_x: float
    focal_y: float
    source: str          # "faces" or "saliency"
    placement: str       # "on a third", "centred" or "off balance"


def saliency_map(rgb: np.ndarray) -> np.ndarray:
    """Hou & Zhang's spectral residual (CVPR 2007) on a 64×64 grey image; values in [0, 1]."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (_SALIENCY_SIDE, _SALIENCY_SIDE), interpolation=cv2.INTER_AREA).astype(np.float64)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    salient = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    salient = cv2.GaussianBlur(salient, (9, 9), 2.5)
    span = salient.max() - salient.min()
    return (salient - salient.min()) / span if span > 0 else np.zeros_like(salient)


def focal_point(rgb: np.ndarray, faces: tuple[Face, ...]) -> tuple[float, float, str]:
    """The faces' area-weighted centre, or the centre of the most salient tenth of the image."""
    if faces:
        total = sum(f.area for f in faces)
        x = sum(f.centre[0] * f.area for f in faces) / total
        y = sum(f.centre[1] * f.area for f in faces) / total
        return round(x, 4), round(y, 4), "faces"
    salient = saliency_map(rgb)
    mask = salient >= np.quantile(salient, 0.9)
    ys, xs = np.nonzero(mask)
    weights = salient[mask]
    if weights.sum() <= 0:
        return 0.5, 0.5, "saliency"
    x = float((xs + 0.5) @ weights / weights.sum()) / _SALIENCY_SIDE
    y = float((ys + 0.5) @ weights / weights.sum()) / _SALIENCY_SIDE
    return round(x, 4), round(y, 4), "saliency"


def placement(x: float, y: float) -> str:
    """'centred' within 1/12 of the middle, 'on a third' within 1/12 of a thirds intersection."""
    if abs(x - 0.5) <= 1 / 12 and abs(y - 0.5) <= 1 / 12:
        return "centred"
    near_third = min(np.hypot(x - tx, y - ty) for tx in (1 / 3, 2 / 3) for ty in (1 / 3, 2 / 3))
    return "on a third" if near_third <= 1 / 12 else "off balance"


def composition(rgb: np.ndarray, faces: tuple[Face, ...]) -> Composition:
    """The still's focal point and placement."""
    x, y, source = focal_point(rgb, faces)
    return Composition(x, y, source, placement(x, y))


def skin_share(rgb: np.ndarray, faces: tuple[Face, ...]) -> float:
    """Share of the image outside the face boxes whose colour falls in the usual skin range
    (YCrCb 133–173 / 77–127, Chai & Ngan 1999) — a cue for a person to look, not a verdict."""
    small = cv2.resize(np.ascontiguousarray(rgb), (96, 54), interpolation=cv2.INTER_AREA)
    ycrcb = cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    skin = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
    keep = np.ones_like(skin)
    h, w = skin.shape
    for f in faces:  # faces are expected; the cue is skin elsewhere
        x0, y0 = int(f.x * w), int(f.y * h)
        keep[max(0, y0 - 1): int((f.y + f.h * 1.3) * h) + 1, max(0, x0 - 1): int((f.x + f.w) * w) + 1] = False
    return round(float(skin[keep].mean()) if keep.any() else 0.0, 4)
