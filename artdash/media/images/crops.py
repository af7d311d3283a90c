"""Crops for the slots a product shows — 2:3 box art, 16:9 billboard, any ratio — around a focal point."""

from __future__ import annotations

from dataclasses import dataclass

SLOT_RATIOS: dict[str, tuple[int, int]] = {"2:3": (2, 3), "16:9": (16, 9)}


@dataclass(frozen=True)
class CropBox:
    """A crop in pixels of the image it is cut from (left, top, right, bottom)."""
    left: int
    top: int
    right: int
    bottom: int

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return self.right - self.left, self.bottom - self.top

    def as_tuple(self) -> tuple[int, int, int, int]:
        """For Pillow's crop."""
        return self.left, self.top, self.right, self.bottom


def parse_ratio(text: str) -> tuple[int, int]:
    """'2:3' → (2, 3); refuses anything else with the accepted form."""
    parts = str(text).strip().split(":")
    if len(parts) == 2 and all(p.strip().isdigit() and 0 < int(p) <= 100 for p in parts):
        return int(parts[0]), int(parts[1])
    raise ValueError(f"{text!r} is not a ratio; write it as width:height, e.g. 2:3 or 16:9")


def crop_around(width: int, height: int, focal_x: float, focal_y: float, ratio: tuple[int, int]) -> CropBox:
    """The largest crop of ``ratio`` inside a ``width``×``height`` image whose centre is as close to
    the focal point (fractions of width and height) as the image's edges allow."""
    rw, rh = ratio
    crop_w = min(width, round(height * rw / rh))
    crop_h = min(height, round(crop_w * rh / rw))
    cx, cy = min(max(focal_x, 0.0), 1.0) * width, min(max(focal_y, 0.0), 1.0) * height
    left = int(round(min(max(cx - crop_w / 2, 0), width - crop_w)))
    top = int(round(min(max(cy - crop_h / 2, 0), height - crop_h)))
    return CropBox(left, top, left + crop_w, top + crop_h)


def crop_size(width: int, height: int, ratio: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of the largest ``ratio`` crop of a ``width``×``height`` image."""
    return crop_around(width, height, 0.5, 0.5, ratio).size


def soft_crops(width: int, height: int, ratios: list[str], short_side: int) -> list[tuple[str, int, int]]:
    """Of ``ratios`` ("2:3" …), the crops of a ``width``×``height`` frame whose short side falls
    under ``short_side`` (what the upload check calls low resolution): (ratio, width, height)."""
    out = []
    for text in ratios:
        w, h = crop_size(width, height, parse_ratio(text))
        if min(w, h) < short_side:
            out.append((text, w, h))
    return out
