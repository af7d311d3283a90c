"""Decode, validate and normalise uploaded artwork; compute hashes and visual features.

Everything here is pure: bytes in, a :class:`ProcessedImage` (or an :class:`ImageRejected`
with a sentence a person can act on) out. Nothing touches the database or the disk.

What happens to an accepted file (:func:`process_image`, in ``process``):

- ``validate``: the format is read from the bytes, never from the name; JPEG, PNG and WebP
  are accepted; the declared size is checked against the pixel limit *before* decoding
  (decompression bombs), then the whole image is decoded (truncated files are refused);
- ``encode``: EXIF orientation is applied and metadata (camera, GPS, XMP, IPTC, comments)
  removed; CMYK, 16-bit, palette and transparent images become 8-bit RGB (or greyscale);
- ``jpeg``: a clean JPEG is stored as its own compressed data minus metadata segments (no
  re-encoding, no quality loss); anything else is re-encoded in its own format;
- ``features``: visual features, dominant colours and a perceptual hash.
"""

from artdash.media.images.encode import make_small, make_thumbnail
from artdash.media.images.features import (
    NEAR_DUPLICATE_BITS,
    VisualFeatures,
    compute_features,
    dominant_colours,
    hamming,
    perceptual_hash,
)
from artdash.media.images.jpeg import strip_jpeg_metadata
from artdash.media.images.process import ProcessedImage, process_image
from artdash.media.images.validate import (
    ACCEPTED_FORMATS,
    ASPECTS,
    EXTENSIONS,
    MAX_NAME_LENGTH,
    MIN_SHORT_SIDE,
    THUMBNAIL_BOX,
    aspect_name,
    clean_file_name,
    shape_warnings,
    sniff_format,
)

__all__ = [
    "ACCEPTED_FORMATS", "ASPECTS", "EXTENSIONS", "MAX_NAME_LENGTH", "MIN_SHORT_SIDE", "NEAR_DUPLICATE_BITS",
    "THUMBNAIL_BOX", "ProcessedImage", "VisualFeatures", "aspect_name", "clean_file_name", "compute_features",
    "dominant_colours", "hamming", "make_small", "make_thumbnail", "perceptual_hash", "process_image",
    "shape_warnings", "sniff_format", "strip_jpeg_metadata",
]
