"""Decode, validate and normalise uploaded artwork; compute hashes and visual features.

Everything here is pure: bytes in, a :class:`ProcessedImage` (or an :class:`ImageRejected`
with a sentence a person can act on) out. Nothing touches the database or the disk.

What happens to an accepted file:

- the format is read from the bytes, never from the name; JPEG, PNG and WebP are accepted;
- the declared size is checked against the pixel limit *before* decoding (decompression
  bombs), then the whole image is decoded (truncated files are refused);
- EXIF orientation is applied and metadata (camera, GPS, XMP, IPTC, comments) removed;
- CMYK, 16-bit, palette and transparent images become 8-bit RGB (or greyscale);
- a clean JPEG is stored as its own compressed data minus metadata segments (no
  re-encoding, no quality loss); anything else is re-encoded in its own format.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings as py_warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageCms

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

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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


@dataclass(frozen=True)
class ProcessedImage:
    display_name: str
    data: bytes
    format: str
    source_format: str
    width: int
    height: int
    sha256: str
    source_sha256: str
    source_n_bytes: int
    phash: str
    features: VisualFeatures
    thumbnail: bytes
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ext(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def n_bytes(self) -> int:
        return len(self.data)


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


def _describe_unaccepted(data: bytes) -> str:
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


# EXIF orientation → the transpose that makes the picture upright (as Pillow's exif_transpose,
# applied here directly: that function re-encodes the EXIF block, which raises on damaged EXIF,
# and the stored image keeps no EXIF anyway).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1 = upright); 1 for a missing, damaged or out-of-range tag."""
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # damaged EXIF: the pixels are still good, keep them as they are
        return 1
    return value if isinstance(value, int) and value in _UPRIGHT else 1


def process_image(name: str, data: bytes, limits: ImageLimits | None = None) -> ProcessedImage:
    """Validate and normalise one uploaded file. Raises :class:`ImageRejected` with the reason."""
    limits = limits or ImageLimits()
    display_name = clean_file_name(name)
    if not data:
        raise ImageRejected("the file is empty (0 bytes); export the artwork again and upload the new file")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            f"the file is {_mb(len(data))}, over the {_mb(limits.max_bytes)} limit; "
            "export it smaller (a 2000×3000 JPEG at quality 90 is about 2 MB) or raise ARTDASH_MAX_UPLOAD_MB"
        )
    source_format = sniff_format(data)
    if not source_format:
        raise ImageRejected(_describe_unaccepted(data))

    warnings: list[str] = []
    notes: list[str] = []
    ext = display_name.rsplit(".", 1)[-1].lower() if "." in display_name else ""
    if ext and NAME_EXTENSIONS.get(ext) != source_format:
        warnings.append(f"the name ends in .{ext} but the file is a {source_format}; it is stored as {source_format}")

    im = _open_within_limits(data, source_format, limits)
    # While this thread decodes the whole image (Pillow releases the GIL), a second core
    # hashes the bytes, strips metadata and decodes a 1/8-scale rendition for the thumbnail.
    # Its results are used only if the image turns out to be a clean JPEG.
    side = _SIDE_POOL.submit(_jpeg_side_work, data) if source_format == "JPEG" else None
    try:
        if getattr(im, "n_frames", 1) > 1:
            raise ImageRejected(
                f"it is an animated {source_format} ({im.n_frames} frames); animated images are not used as "
                "artwork. Export the frame you want as a still image and upload that"
            )
        deep_colour = any(";16" in str(t[3]) for t in (im.tile or []) if len(t) > 3) and im.mode == "RGB"
        try:
            im.load()  # the full decode: truncated or corrupt data fails here
        except Exception as exc:
            raise ImageRejected(
                f"the {source_format} data is truncated or corrupt ({_short(exc)}); export the file again"
            ) from None
        icc = im.info.get("icc_profile")
        decoded_mode = im.mode
        orientation = _orientation(im)
        had_metadata = _has_metadata(im, source_format)

        if deep_colour:
            notes.append("reduced 16-bit colour to 8 bits per channel")
        if orientation != 1:
            im = im.transpose(_UPRIGHT[orientation])
            notes.append(f"rotated upright from EXIF orientation {orientation}")
        im, icc = _to_web_mode(im, icc, warnings, notes)
        if had_metadata:
            notes.append("removed camera, GPS and other metadata")

        width, height = im.size
        warnings.extend(shape_warnings(width, height))
        # The stored JPEG can be the upload minus metadata only if no pixel was touched.
        clean_jpeg = (source_format == "JPEG" and decoded_mode in ("RGB", "L") and orientation == 1
                      and not deep_colour)
        work = side.result() if side is not None else None
        if clean_jpeg and work is not None and work.stored is not None and work.small is not None:
            stored, stored_sha256, small = work.stored, work.stored_sha256, work.small
        else:
            stored = _encode(im, source_format, icc)
            stored_sha256 = hashlib.sha256(stored).hexdigest()
            small = make_small(im, THUMBNAIL_BOX)
        source_sha256 = work.source_sha256 if work is not None else hashlib.sha256(data).hexdigest()
        thumbnail = _encode_thumbnail(small)
        features = compute_features(small)
        phash = perceptual_hash(small)
    finally:
        im.close()
        if side is not None:
            side.cancel()

    return ProcessedImage(
        display_name=display_name,
        data=stored,
        format=source_format,
        source_format=source_format,
        width=width,
        height=height,
        sha256=stored_sha256,
        source_sha256=source_sha256,
        source_n_bytes=len(data),
        phash=phash,
        features=features,
        thumbnail=thumbnail,
        warnings=tuple(warnings),
        notes=tuple(notes),
    )


_SIDE_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="artdash-image")


@dataclass(frozen=True)
class _SideWork:
    source_sha256: str
    stored: bytes | None
    stored_sha256: str | None
    small: Image.Image | None


def _jpeg_side_work(data: bytes) -> _SideWork:
    """Hashes, metadata-free bytes and a thumbnail-sized rendition of a JPEG.

    Only called after the header passed the pixel limit. Never raises: a failure here just
    means the main path computes these itself.
    """
    source_sha256 = hashlib.sha256(data).hexdigest()
    stored = stored_sha256 = small = None
    try:
        stored = strip_jpeg_metadata(data)
        if stored is not None:
            stored_sha256 = source_sha256 if stored == data else hashlib.sha256(stored).hexdigest()
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
            im.draft(im.mode if im.mode in ("RGB", "L") else "RGB", THUMBNAIL_BOX)  # DCT-domain downscale
            im.load()
            small = make_small(im, THUMBNAIL_BOX)
    except Exception:  # validation happens on the main path; here we only try to save time
        small = None
    return _SideWork(source_sha256, stored, stored_sha256, small)


def _open_within_limits(data: bytes, fmt: str, limits: ImageLimits) -> Image.Image:
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
        raise ImageRejected(f"the {fmt} header cannot be read ({_short(exc)}); the file is damaged — export it again") from None
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


def _has_metadata(im: Image.Image, fmt: str) -> bool:
    info = im.info
    if len(im.getexif()):
        return True
    return any(k in info for k in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc")) or (
        fmt == "PNG" and any(isinstance(v, str) for k, v in info.items() if k not in ("icc_profile",))
    )


def _to_web_mode(im: Image.Image, icc, warnings: list[str], notes: list[str]):
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
        if rgba.getchannel("A").getextrema()[0] < 255:
            background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            out = Image.alpha_composite(background, rgba).convert("RGB")
            warnings.append("transparent areas were filled with black; artwork is shown on a solid tile")
            notes.append("filled transparency with black")
            return out, icc if mode.startswith("RGB") else None
        notes.append(f"converted {mode} (fully opaque) to RGB")
        return rgba.convert("RGB"), icc if mode.startswith("RGB") else None
    notes.append(f"converted {mode} to RGB")
    return im.convert("RGB"), icc if mode == "P" else None


def _encode(im: Image.Image, fmt: str, icc) -> bytes:
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


def _encode_thumbnail(small: Image.Image) -> bytes:
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    w, h = size
    scale = min(box[0] / w, box[1] / h, 1.0)
    return max(1, round(w * scale)), max(1, round(h * scale))


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
    counts = sorted(quantized.getcolors() or [], reverse=True)
    total = sum(c for c, _ in counts) or 1
    out = []
    for count, index in counts[:n]:
        red, green, blue = palette[3 * index: 3 * index + 3]
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
    return (int(a, 16) ^ int(b, 16)).bit_count()


NEAR_DUPLICATE_BITS = 8  # of 64; crops and re-exports of one image land well under this


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The JPEG with APP1 (EXIF/XMP), APP13 (IPTC), COM and other metadata segments removed.

    Keeps JFIF (APP0), ICC profiles (APP2) and Adobe colour info (APP14) and every byte of
    the compressed image unchanged; drops anything after the end-of-image marker (e.g. an
    embedded second picture). Returns None if the structure is unusual, and the caller
    re-encodes instead.
    """
    n = len(data)
    if data[:2] != b"\xff\xd8":
        return None
    out = [b"\xff\xd8"]
    i = 2
    while i < n:
        if data[i] != 0xFF:
            return None
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out.append(bytes((0xFF, marker)))
            continue
        if i + 2 > n:
            return None
        length = int.from_bytes(data[i:i + 2], "big")
        segment = data[i:i + length]
        if len(segment) != length or length < 2:
            return None
        if marker == 0xDA:  # start of scan: keep everything up to the end-of-image marker
            end = _find_eoi(data, i + length)
            if end is None:
                return None
            out.append(b"\xff\xda")
            out.append(data[i:end])
            return b"".join(out)
        i += length
        if _keep_segment(marker, segment):
            out.append(bytes((0xFF, marker)))
            out.append(segment)
    return None


def _keep_segment(marker: int, segment: bytes) -> bool:
    payload = segment[2:]
    if marker == 0xE0:
        return payload.startswith((b"JFIF\x00", b"JFXX\x00"))
    if marker == 0xE2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return payload.startswith(b"Adobe")
    if 0xE1 <= marker <= 0xEF or marker == 0xFE:
        return False
    return True


# A marker inside entropy-coded data: 0xFF followed by anything but stuffing (00), a restart
# marker (D0–D7) or fill (FF). One C-level regex scan instead of a Python loop per 0xFF.
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _find_eoi(data: bytes, pos: int) -> int | None:
    """Index just past the EOI marker, walking entropy-coded data and any later segments."""
    n = len(data)
    while True:
        match = _MARKER.search(data, pos)
        if match is None:
            return None
        j = match.start()
        if data[j + 1] == 0xD9:
            return j + 2
        if j + 4 > n:  # a segment between scans (DHT, SOS, DRI, ...) needs its length
            return None
        pos = j + 2 + int.from_bytes(data[j + 2:j + 4], "big")


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / (1024 * 1024):.1f} MB"


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:120]


def make_thumbnail(data: bytes) -> bytes:
    """A thumbnail of stored image bytes (to rebuild a lost one)."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return _encode_thumbnail(make_small(im.convert("RGB"), THUMBNAIL_BOX))
