"""JPEG surgery without re-encoding: drop metadata segments, keep the compressed picture bit for bit."""

from __future__ import annotations

import re


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
