"""Content-addressed media store: file name = SHA-256 of the stored bytes.

Files are written atomically (temporary file in the same folder, fsync, rename), so a
reader never sees half a file and a crash leaves at worst an unreferenced file, never a
row pointing at nothing (rows are committed after the file is in place). Uploaded file
names never become paths.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from artdash.errors import ValidationError

_KEY = re.compile(r"^[0-9a-f]{64}$")
_EXT = re.compile(r"^[a-z0-9]{2,5}$")


class MediaStore:
    """Originals under ``<root>/ab/cd/<sha256>.<ext>``, thumbnails under ``<root>/thumbs/``."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _path(self, key: str, ext: str, kind: str = "") -> Path:
        if not _KEY.match(key) or not _EXT.match(ext):
            raise ValidationError(f"not a media key: {key!r}.{ext!r}")
        base = self.root / kind if kind else self.root
        return base / key[:2] / key[2:4] / f"{key}.{ext}"

    def original_path(self, key: str, ext: str) -> Path:
        """Where the stored image with this hash lives."""
        return self._path(key, ext)

    def thumbnail_path(self, key: str) -> Path:
        """Where its thumbnail lives."""
        return self._path(key, "jpg", "thumbs")

    def put(self, data: bytes, ext: str, sha256: str | None = None) -> str:
        """Store ``data``; returns its key. Storing the same bytes twice is a no-op.

        ``sha256`` may be passed when the caller has just computed it from ``data``."""
        key = sha256 or hashlib.sha256(data).hexdigest()
        _write_atomic(self.original_path(key, ext), data)
        return key

    def put_thumbnail(self, key: str, data: bytes) -> Path:
        """Write a thumbnail atomically."""
        path = self.thumbnail_path(key)
        _write_atomic(path, data)
        return path

    def exists(self, key: str, ext: str) -> bool:
        """Whether the stored image with this hash is on disk."""
        return self.original_path(key, ext).is_file()

    def delete(self, key: str, ext: str) -> None:
        """Remove a stored image and its thumbnail (missing files are fine)."""
        for path in (self.original_path(key, ext), self.thumbnail_path(key)):
            path.unlink(missing_ok=True)

    def read(self, key: str, ext: str) -> bytes:
        """The stored image's bytes."""
        return self.original_path(key, ext).read_bytes()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time (files larger than memory are fine)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    if path.is_file() and path.stat().st_size == len(data):
        return  # content-addressed: same name, same bytes
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
