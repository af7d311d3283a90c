"""Checks on an uploaded file before and while it is decoded: its name, its format (from the bytes), its declared size, its shape; refusals say what to do."""

from __future__ import annotations

import io
import re
import unicodedata
import warnings as py_warnings

from PIL import Image

from artdash import intake
from artdash.config import ImageLimits
from artdash.errors import ImageRejected

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
NAME_EXTENSIONS = {"jpg": "JPEG", "jpeg": "JPEG", "jpe": "JPEG", "png": "PNG", "webp": "WEBP"}
THUMBNAIL_BOX = (480, 480)
MIN_SHORT_SIDE = 500  # below this, artwork looks soft on a TV; warn, don't refuse
ASPECT_TOLERANCE = 0.04
ASPECTS = {"box art (2:3)": 2 / 3, "billboard (16:9)": 16 / 9}
JPEG_QUALITY = 92
MAX_NAME_LENGTH = 200

_CONTROL = intake.CONTROL


def clean_file_name(name: str) -> str:
    """The name as shown to people. Refuses paths and control characters.

    The name is only ever displayed: the store names files by their hash.
    """
    if name is None or not str(name).strip():
        raise ImageRejected("the file has no name; give it a name such as poster.jpg and upload it again")
    name = unicodedata.normalize("NFC", str(name))
    if _CONTROL.search(name):
        shown = _CONTROL.sub("?", name)
        raise ImageRejected(f"the file name {shown!r} contains control characters; rename the file and upload it again")
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        raise ImageRejected(
            f"the file name {name!r} contains a path ('/', '\\' or '..'); upload the file itself under a plain name"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ImageRejected(f"the file name is {len(name)} characters long; shorten it to at most {MAX_NAME_LENGTH}")
    return name.strip()


def sniff_format(data: bytes) -> str:
    """Name the kind of content from its first bytes: JPEG, PNG, WEBP, or a refusal reason."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return ""


def describe_unaccepted(data: bytes) -> str:
    """What a file in an unaccepted format is, and what to do with it."""
    head = data[:512]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        if _gif_is_animated(data):
            return ("it is an animated GIF; animated images are not used as artwork. "
                    "Export the frame you want as PNG or JPEG and upload that")
        return "it is a GIF; convert it to PNG (lossless) or JPEG and upload that"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<") and (b"<svg" in data[:4096].lower()):
        return "it is an SVG (vector drawing); export it as a PNG or JPEG at full size and upload that"
    if head[:2] == b"BM":
        return "it is a BMP; convert it to PNG or JPEG"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "it is a TIFF; convert it to PNG or JPEG"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "it is a HEIC/AVIF photo; export it as JPEG and upload that"
    if head[:5] == b"%PDF-":
        return "it is a PDF; export the artwork page as PNG or JPEG"
    try:
        head.decode("utf-8")
        if all(c >= 32 or c in (9, 10, 13) for c in head):
            return "it is a text file, not an image; upload a JPEG, PNG or WebP file"
    except UnicodeDecodeError:
        pass
    return "its content is not a JPEG, PNG or WebP image; export the artwork in one of those formats"


def _gif_is_animated(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return getattr(im, "n_frames", 1) > 1
    except Exception:  # a broken GIF is refused either way
        return False


def open_within_limits(data: bytes, fmt: str, limits: ImageLimits) -> Image.Image:
    """Open the image, refusing (before decoding) a declared size above the pixel limit."""
    try:
        with py_warnings.catch_warnings():
            py_warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)) / 1e6:,.0f} MP" if pixels else "far more pixels than allowed"
        raise ImageRejected(
            f"the image declares {size}, over the {limits.max_pixels / 1e6:,.0f} MP limit "
            "(a decompression bomb, or a far larger export than artwork needs); export it at most 4000×6000"
        ) from None
    except Exception as exc:
        raise ImageRejected(f"the {fmt} header cannot be read ({short_reason(exc)}); the file is damaged — export it again") from None
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise ImageRejected("the image declares zero width or height; export it again")
    if width * height > limits.max_pixels:
        im.close()
        raise ImageRejected(
            f"the image declares {width}×{height} = {width * height / 1e6:,.0f} MP, over the "
            f"{limits.max_pixels / 1e6:,.0f} MP limit (a decompression bomb, or a far larger export than artwork "
            "needs); export it smaller, e.g. 2000×3000, or raise ARTDASH_MAX_PIXELS"
        )
    return im


def shape_warnings(width: int, height: int) -> list[str]:
    """Warnings (never refusals) about resolution and aspect ratio."""
    out = []
    if min(width, height) < MIN_SHORT_SIDE:
        out.append(
            f"low resolution: {width}×{height}; artwork should be at least {MIN_SHORT_SIDE} px on its short side "
            "to look sharp on a TV"
        )
    if aspect_name(width, height) is None:
        out.append(
            f"aspect ratio {width / height:.2f} ({width}×{height}) is unlike box art (2:3 = 0.67) or billboard "
            "(16:9 = 1.78); it will be cropped where it is shown"
        )
    return out


def aspect_name(width: int, height: int) -> str | None:
    """'box art (2:3)', 'billboard (16:9)' or None when the ratio is unlike both."""
    ratio = width / height
    for name, target in ASPECTS.items():
        if abs(ratio - target) / target <= ASPECT_TOLERANCE:
            return name
    return None


def megabytes(n_bytes: int) -> str:
    """``12.3 MB``."""
    return f"{n_bytes / (1024 * 1024):.1f} MB"


def short_reason(exc: Exception) -> str:
    """A decoder's complaint, short enough for a refusal sentence."""
    text = str(exc).strip() or type(exc).__name__
    return text[:120]
