"""Turning a decoded image into what is stored: upright, 8-bit RGB or greyscale, re-encoded in its own format, and a thumbnail."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms

from artdash.media.images.validate import JPEG_QUALITY, THUMBNAIL_BOX

# EXIF orientation → the transpose that makes the picture upright (as Pillow's exif_transpose,
# applied here directly: that function re-encodes the EXIF block, which raises on damaged EXIF,
# and the stored image keeps no EXIF anyway).
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def exif_orientation(im: Image.Image) -> int:
    """The EXIF orientation (1 = upright); 1 for a missing, damaged or out-of-range tag."""
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # damaged EXIF: the pixels are still good, keep them as they are
        return 1
    return value if isinstance(value, int) and value in UPRIGHT else 1


def has_metadata(im: Image.Image, fmt: str) -> bool:
    """Whether the decoded image carries camera, GPS, XMP, IPTC or comment metadata."""
    info = im.info
    if len(im.getexif()):
        return True
    return any(k in info for k in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc")) or (
        fmt == "PNG" and any(isinstance(v, str) for k, v in info.items() if k not in ("icc_profile",))
    )


def to_web_mode(im: Image.Image, icc, warnings: list[str], notes: list[str]):
    """8-bit RGB or L, no alpha. Returns the image and the ICC profile still valid for it."""
    mode = im.mode
    if mode in ("RGB", "L"):
        return im, icc
    if mode == "CMYK":
        converted = None
        if icc:
            try:
                src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                converted = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
            except Exception:  # a broken profile: fall back to the plain formula
                converted = None
        notes.append("converted CMYK (print colours) to RGB")
        return (converted or im.convert("RGB")), None
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode != "F" else max(float(arr.max()), 1e-9)
        out = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        notes.append("reduced 16-bit greyscale to 8-bit")
        return out, None
    if mode == "1":
        notes.append("converted 1-bit image to greyscale")
        return im.convert("L"), None
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info) or (
        mode in ("RGB", "L") and "transparency" in im.info
    )
    if has_alpha:
        rgba = im.convert("RGBA")
        low_alpha = rgba.getchannel("A").getextrema()[0]
        if isinstance(low_alpha, int | float) and low_alpha < 255:
            background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            out = Image.alpha_composite(background, rgba).convert("RGB")
            warnings.append("transparent areas were filled with black; artwork is shown on a solid tile")
            notes.append("filled transparency with black")
            return out, icc if mode.startswith("RGB") else None
        notes.append(f"converted {mode} (fully opaque) to RGB")
        return rgba.convert("RGB"), icc if mode.startswith("RGB") else None
    notes.append(f"converted {mode} to RGB")
    return im.convert("RGB"), icc if mode == "P" else None


def encode_image(im: Image.Image, fmt: str, icc) -> bytes:
    """The picture re-encoded in its own format (JPEG at :data:`JPEG_QUALITY`), ICC profile kept."""
    buf = io.BytesIO()
    kwargs = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        im.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=False, **kwargs)
    elif fmt == "PNG":
        im.save(buf, "PNG", compress_level=6, **kwargs)
    else:
        im.save(buf, "WEBP", quality=90, method=4, **kwargs)
    return buf.getvalue()


def make_small(im: Image.Image, box: tuple[int, int]) -> Image.Image:
    """An RGB rendition fitting ``box``: integer box-reduce first (one cheap pass over the
    full image), then Lanczos on the small result."""
    size = _fit(im.size, box)
    factor = max(1, min(im.size[0] // size[0], im.size[1] // size[1]) // 2)
    reduced = im.reduce(factor) if factor > 1 else im
    small = reduced.resize(size, Image.Resampling.LANCZOS)
    return small if small.mode == "RGB" else small.convert("RGB")


def encode_thumbnail(small: Image.Image) -> bytes:
    """The JPEG bytes of a thumbnail."""
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    w, h = size
    scale = min(box[0] / w, box[1] / h, 1.0)
    return max(1, round(w * scale)), max(1, round(h * scale))


def make_thumbnail(data: bytes) -> bytes:
    """A thumbnail of stored image bytes (to rebuild a lost one)."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return encode_thumbnail(make_small(im.convert("RGB"), THUMBNAIL_BOX))


TILE = (300, 450)      # a 2:3 tile: the shape of box art, which most of a row is


def letterboxed(data: bytes, tile: tuple[int, int] = TILE) -> bytes:
    """``data`` (a thumbnail) fitted whole inside a ``tile``, centred, the bands transparent
    (WebP with alpha): a row of 2:3, 3:2 and 1:1 images lines up in tiles of one shape, and the
    bands take the page's own background in a light or a dark theme."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        picture = im.convert("RGB")
    scale = min(tile[0] / picture.width, tile[1] / picture.height)     # up or down: it touches two sides
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    canvas = Image.new("RGBA", tile, (0, 0, 0, 0))
    canvas.paste(picture.resize(size, Image.Resampling.LANCZOS), ((tile[0] - size[0]) // 2, (tile[1] - size[1]) // 2))
    buf = io.BytesIO()
    canvas.save(buf, "WEBP", quality=85)
    return buf.getvalue()
