"""One upload, bytes in: validated, normalised, hashed and described (:func:`process_image`); pure, nothing touches the database or the disk."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from PIL import Image

from artdash.config import ImageLimits
from artdash.errors import ImageRejected
from artdash.media.images.encode import (
    UPRIGHT,
    encode_image,
    encode_thumbnail,
    exif_orientation,
    has_metadata,
    make_small,
    to_web_mode,
)
from artdash.media.images.features import VisualFeatures, compute_features, perceptual_hash
from artdash.media.images.jpeg import strip_jpeg_metadata
from artdash.media.images.validate import (
    EXTENSIONS,
    NAME_EXTENSIONS,
    THUMBNAIL_BOX,
    clean_file_name,
    describe_unaccepted,
    megabytes,
    open_within_limits,
    shape_warnings,
    short_reason,
    sniff_format,
)


@dataclass(frozen=True)
class ProcessedImage:
    """An accepted upload: the bytes to store, hashes, size, features, warnings and what was changed."""
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
        """The file extension of the stored format."""
        return EXTENSIONS[self.format]

    @property
    def n_bytes(self) -> int:
        """Size of the stored bytes."""
        return len(self.data)


def process_image(name: str, data: bytes, limits: ImageLimits | None = None) -> ProcessedImage:
    """Validate and normalise one uploaded file. Raises :class:`ImageRejected` with the reason."""
    limits = limits or ImageLimits()
    display_name = clean_file_name(name)
    if not data:
        raise ImageRejected("the file is empty (0 bytes); export the artwork again and upload the new file")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            f"the file is {megabytes(len(data))}, over the {megabytes(limits.max_bytes)} limit; "
            "export it smaller (a 2000×3000 JPEG at quality 90 is about 2 MB) or raise ARTDASH_MAX_UPLOAD_MB"
        )
    source_format = sniff_format(data)
    if not source_format:
        raise ImageRejected(describe_unaccepted(data))

    warnings: list[str] = []
    notes: list[str] = []
    ext = display_name.rsplit(".", 1)[-1].lower() if "." in display_name else ""
    if ext and NAME_EXTENSIONS.get(ext) != source_format:
        warnings.append(f"the name ends in .{ext} but the file is a {source_format}; it is stored as {source_format}")

    im = open_within_limits(data, source_format, limits)
    # While this thread decodes the whole image (Pillow releases the GIL), a second core
    # hashes the bytes, strips metadata and decodes a 1/8-scale rendition for the thumbnail.
    # Its results are used only if the image turns out to be a clean JPEG.
    side = _SIDE_POOL.submit(_jpeg_side_work, data) if source_format == "JPEG" else None
    try:
        n_frames = int(getattr(im, "n_frames", 1))
        if n_frames > 1:
            raise ImageRejected(
                f"it is an animated {source_format} ({n_frames} frames); animated images are not used as "
                "artwork. Export the frame you want as a still image and upload that"
            )
        tiles = getattr(im, "tile", None) or []
        deep_colour = any(";16" in str(t[3]) for t in tiles if len(t) > 3) and im.mode == "RGB"
        try:
            im.load()  # the full decode: truncated or corrupt data fails here
        except Exception as exc:
            raise ImageRejected(
                f"the {source_format} data is truncated or corrupt ({short_reason(exc)}); export the file again"
            ) from None
        icc = im.info.get("icc_profile")
        decoded_mode = im.mode
        orientation = exif_orientation(im)
        had_metadata = has_metadata(im, source_format)

        if deep_colour:
            notes.append("reduced 16-bit colour to 8 bits per channel")
        if orientation != 1:
            im = im.transpose(UPRIGHT[orientation])
            notes.append(f"rotated upright from EXIF orientation {orientation}")
        im, icc = to_web_mode(im, icc, warnings, notes)
        if had_metadata:
            notes.append("removed camera, GPS and other metadata")

        width, height = im.size
        warnings.extend(shape_warnings(width, height))
        # The stored JPEG can be the upload minus metadata only if no pixel was touched.
        clean_jpeg = (source_format == "JPEG" and decoded_mode in ("RGB", "L") and orientation == 1
                      and not deep_colour)
        work = side.result() if side is not None else None
        if (clean_jpeg and work is not None and work.stored is not None and work.stored_sha256 is not None
                and work.small is not None):
            stored, stored_sha256, small = work.stored, work.stored_sha256, work.small
        else:
            stored = encode_image(im, source_format, icc)
            stored_sha256 = hashlib.sha256(stored).hexdigest()
            small = make_small(im, THUMBNAIL_BOX)
        source_sha256 = work.source_sha256 if work is not None else hashlib.sha256(data).hexdigest()
        thumbnail = encode_thumbnail(small)
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
