"""Pictures of what ArtDash read off a still: face boxes, the focal point, the crops it will cut."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

FACE = (255, 214, 0)
FOCAL = (255, 64, 64)
CROP = (80, 200, 255)


def annotated_picture(data: bytes, faces: Sequence[Sequence[float]] = (), focal: tuple[float, float] | None = None,
                      crops: Sequence[tuple[int, int, int, int]] = (), crop_scale: float = 1.0,
                      box: tuple[int, int] = (640, 640)) -> bytes:
    """A JPEG of ``data`` fitted in ``box`` with face boxes (fractions), the focal point (fractions)
    and crop rectangles (pixels of the original, ``crop_scale`` original pixels per given pixel)."""
    with Image.open(io.BytesIO(data)) as im:
        picture = im.convert("RGB")
    original_width = picture.width * crop_scale
    picture.thumbnail(box, Image.Resampling.BILINEAR)
    w, h = picture.size
    draw = ImageDraw.Draw(picture)
    line = max(2, w // 200)
    scale = w / original_width
    for left, top, right, bottom in crops:
        draw.rectangle((left * scale, top * scale, right * scale - 1, bottom * scale - 1), outline=CROP, width=line)
    for x, y, fw, fh in faces:
        draw.rectangle((x * w, y * h, (x + fw) * w, (y + fh) * h), outline=FACE, width=line)
    if focal is not None:
        fx, fy, r = focal[0] * w, focal[1] * h, max(6, w // 60)
        draw.ellipse((fx - r, fy - r, fx + r, fy + r), outline=FOCAL, width=line)
        draw.line((fx - 2 * r, fy, fx + 2 * r, fy), fill=FOCAL, width=line)
        draw.line((fx, fy - 2 * r, fx, fy + 2 * r), fill=FOCAL, width=line)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=88)
    return out.getvalue()


def cut(data: bytes, crop: tuple[int, int, int, int], box: tuple[int, int] = (360, 360)) -> bytes:
    """A JPEG preview of one crop of ``data``."""
    with Image.open(io.BytesIO(data)) as im:
        piece = im.convert("RGB").crop(crop)
    piece.thumbnail(box, Image.Resampling.BILINEAR)
    out = io.BytesIO()
    piece.save(out, "JPEG", quality=88)
    return out.getvalue()
