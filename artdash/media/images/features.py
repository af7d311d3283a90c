"""What an image looks like, in numbers: brightness, contrast, colourfulness, warmth, dominant colours and a perceptual hash (near-duplicates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class VisualFeatures:
    """Numbers an editor (and later the policy) can reason about.

    brightness and contrast are the mean and standard deviation of luma in [0, 1];
    colourfulness is Hasler & Süsstrunk's metric (0 = grey, ~33 moderate, ~59 quite,
    ~82 highly colourful); warmth is mean(R − B) in [−1, 1].
    """

    brightness: float
    contrast: float
    colourfulness: float
    warmth: float
    dominant_colours: tuple[tuple[str, float], ...]


def compute_features(im: Image.Image) -> VisualFeatures:
    """Features from a small RGB rendition (a few hundred pixels a side is plenty)."""
    rgb = np.asarray(im.convert("RGB"), dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255.0
    rg = r - g
    yb = 0.5 * (r + g) - b
    # Hasler & Süsstrunk (2003): spread of the opponent channels plus a share of their mean.
    colourfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    return VisualFeatures(
        brightness=round(float(luma.mean()), 4),
        contrast=round(float(luma.std()), 4),
        colourfulness=round(colourfulness, 2),
        warmth=round(float((r - b).mean() / 255.0), 4),
        dominant_colours=dominant_colours(im),
    )


def dominant_colours(im: Image.Image, n: int = 5) -> tuple[tuple[str, float], ...]:
    """Up to ``n`` colours with their share of the picture, largest first."""
    tiny = im.convert("RGB").resize((64, 64), Image.Resampling.BOX)
    quantized = tiny.quantize(colors=n, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    counts: list[tuple[int, Any]] = sorted(quantized.getcolors() or [], reverse=True)
    total = sum(c for c, _ in counts) or 1
    out = []
    for count, index in counts[:n]:
        red, green, blue = palette[3 * int(index): 3 * int(index) + 3]
        out.append((f"#{red:02x}{green:02x}{blue:02x}", round(count / total, 3)))
    return tuple(out)


_DCT32 = np.array(
    [[np.cos(np.pi * (2 * x + 1) * u / 64) * (np.sqrt(1 / 32) if u == 0 else np.sqrt(2 / 32)) for x in range(32)]
     for u in range(32)]
)


def perceptual_hash(im: Image.Image) -> str:
    """64-bit pHash (DCT of a 32×32 grey image, low 8×8 frequencies vs. their median) as hex."""
    grey = np.asarray(im.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    low = (_DCT32 @ grey @ _DCT32.T)[:8, :8].flatten()
    median = np.median(low[1:])  # the DC term only says how bright the image is
    bits = low > median
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Bits in which two perceptual hashes differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


NEAR_DUPLICATE_BITS = 8  # of 64; crops and re-exports of one image land well under this
# Two frames of one shot whose colours overlap this much are one still seen twice (a pan or a
# slow zoom moves the picture, so their perceptual hashes differ; the palette stays): measured
# on footage, the same shot 0.87–0.93 apart a few seconds on, different scenes at most 0.32.
SAME_SHOT_OVERLAP = 0.75


def colour_signature(im: Image.Image) -> np.ndarray:
    """The image's colours as a normalised histogram (hue 8 × saturation 4 × value 4 bins): what
    a pan or a zoom within one shot leaves nearly unchanged."""
    hsv = np.asarray(im.convert("RGB").convert("HSV"), dtype=np.uint8).reshape(-1, 3)
    bins = (hsv[:, 0] >> 5).astype(np.int64) * 16 + (hsv[:, 1] >> 6) * 4 + (hsv[:, 2] >> 6)
    counts = np.bincount(bins, minlength=128).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def colour_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """How much two colour signatures share, from 0 (nothing) to 1 (the same histogram)."""
    return float(np.minimum(a, b).sum())
