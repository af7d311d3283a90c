"""What a backup archive must be before a restore writes anything: a ZIP with ArtDash's
manifest, a directory of the names, sizes and expansion ArtDash writes (checked before a byte
is decompressed), every checksum right, and every media file an image under the name the media
store gives it."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

from artdash.errors import ValidationError
from artdash.media.images.validate import sniff_format

FORMAT = "artdash-backup"
VERSION = 1
# What a genuine archive can hold (checked on the ZIP directory, before a byte is decompressed):
MAX_MANIFEST_BYTES = 64 << 20        # the manifest lists every media file: 64 MB is ~500k of them
MAX_MEDIA_BYTES = 256 << 20          # one stored image or thumbnail (uploads are capped far lower)
MAX_RATIO = 100                      # uncompressed / compressed for a member over RATIO_FROM bytes:
RATIO_FROM = 64 << 10                # JSON lines compress 5–30×; zip bombs 1,000× and more; images ~1×
# A media member is what the store writes: an original ab/cd/<sha256>.<ext> or its thumbnail
# thumbs/ab/cd/<sha256>.jpg — and an image (checked on its first bytes before anything is written).
MEDIA_NAME = re.compile(r"^(?:thumbs/)?([0-9a-f]{2})/([0-9a-f]{2})/(([0-9a-f]{64})\.[a-z0-9]{2,5})$")


class BackupError(ValidationError):
    """An archive that cannot be restored, and why; nothing was changed."""


def read_manifest(path: Path) -> dict:
    """The archive's manifest, after checking that it is an ArtDash backup at all."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    if not zipfile.is_zipfile(path):
        raise BackupError(f"{path.name} is not an ArtDash backup (not a ZIP archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.getinfo("manifest.json").file_size > MAX_MANIFEST_BYTES:
                raise BackupError(f"{path.name} is not an ArtDash backup (its manifest is larger than "
                                  f"{MAX_MANIFEST_BYTES >> 20} MB)")
            manifest = json.loads(archive.read("manifest.json"))
    except KeyError:
        raise BackupError(f"{path.name} is not an ArtDash backup (no manifest.json)") from None
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise BackupError(f"{path.name} is damaged ({str(exc)[:120]})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path.name} is not an ArtDash backup (its manifest says {str(manifest)[:60]!r})")
    if manifest.get("version") != VERSION:
        raise BackupError(f"{path.name} is backup format {manifest.get('version')}; this ArtDash reads {VERSION}")
    return manifest


def check_members(path: Path, manifest: dict, free_bytes: int | None = None) -> None:
    """Refuse an archive whose ZIP directory is not what ArtDash writes — before anything is
    decompressed: a member name that is absolute, climbs out (``..``) or uses backslashes, a
    media file over :data:`MAX_MEDIA_BYTES` or of another size than the manifest says, a member
    that expands more than :data:`MAX_RATIO` times (a zip bomb), or a total larger than the
    free disk space."""
    name = Path(path).name
    declared = manifest.get("media", {})
    if not isinstance(declared, dict) or not isinstance(manifest.get("checksums", {}), dict):
        raise BackupError(f"{name} is not an ArtDash backup (its manifest lists files the wrong way)")
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            member = info.filename
            parts = member.split("/")
            if member.startswith("/") or "\\" in member or ":" in parts[0] or ".." in parts or "" in parts[:-1]:
                raise BackupError(f"{name} names a file outside the archive's folders ({member[:80]!r}); "
                                  "it was not written by ArtDash — nothing was restored")
            if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise BackupError(f"{name}: {member[:80]} would expand {info.file_size / max(info.compress_size, 1):,.0f} "
                                  f"times (to {info.file_size >> 20:,} MB) — not a backup ArtDash writes; "
                                  "nothing was restored")
            if member.startswith("media/"):
                relative = member[len("media/"):]
                shape = MEDIA_NAME.match(relative)
                if shape is None or not shape.group(4).startswith(shape.group(1) + shape.group(2)):
                    raise BackupError(f"{name}: {member[:80]} is not an image ArtDash stores (they are named "
                                      "ab/cd/<sha256>.<ext>); not a backup ArtDash writes — nothing was restored")
                if info.file_size > MAX_MEDIA_BYTES:
                    raise BackupError(f"{name}: media file {relative[:80]} is {info.file_size >> 20:,} MB, larger "
                                      "than any image ArtDash stores; nothing was restored")
                if declared.get(relative) != info.file_size:
                    raise BackupError(f"{name} is altered: {relative[:80]} is not the size its manifest says")
            total += info.file_size
    if free_bytes is not None and total > free_bytes:
        raise BackupError(f"{name} needs {total >> 20:,} MB once unpacked and the data folder's disk has "
                          f"{free_bytes >> 20:,} MB free; nothing was restored")


def verify(path: Path, free_bytes: int | None = None) -> dict:
    """Check the archive's directory (:func:`check_members`), then every member's checksum,
    reading in blocks; returns the manifest or raises :class:`BackupError`."""
    manifest = read_manifest(path)
    check_members(path, manifest, free_bytes)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist()) - {"manifest.json"}
        expected = manifest.get("checksums", {})
        if names != set(expected):
            missing, extra = set(expected) - names, names - set(expected)
            raise BackupError(f"{Path(path).name} is incomplete or altered: "
                              + (f"missing {sorted(missing)[:3]} " if missing else "")
                              + (f"unexpected {sorted(extra)[:3]}" if extra else ""))
        for name, digest in expected.items():
            try:
                h = hashlib.sha256()
                with archive.open(name) as f:
                    first = f.read(1 << 20)
                    if name.startswith("media/") and not sniff_format(first):
                        raise BackupError(f"{Path(path).name}: {name[:80]} is not an image (JPEG, PNG or WebP) — "
                                          "not a backup ArtDash writes; nothing was restored")
                    h.update(first)
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise BackupError(f"{Path(path).name} is damaged: {name} cannot be read ({str(exc)[:80]})") from None
            if h.hexdigest() != digest:
                raise BackupError(f"{Path(path).name} is damaged: {name} does not match its checksum")
    return manifest


__all__ = ["FORMAT", "MAX_MANIFEST_BYTES", "MAX_MEDIA_BYTES", "MAX_RATIO", "MEDIA_NAME", "RATIO_FROM", "VERSION",
           "BackupError", "check_members", "read_manifest", "verify"]
