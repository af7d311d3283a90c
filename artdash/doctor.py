"""Health checks of the media store against the catalog, and repairs.

Files are written before their rows are committed (see :mod:`artdash.media`), so a crash can
leave files no row refers to (orphans) and half-written temporary files, but never a row
without its file — unless a file was deleted or damaged outside ArtDash. The doctor finds:

- **orphans**: originals and thumbnails no variant refers to, and ``.tmp-*`` leftovers
  (repairable: deleted);
- **missing**: variants whose original or thumbnail is gone (a thumbnail is rebuilt from the
  original; a missing original can only come back from a backup);
- **damaged**: originals whose bytes no longer hash to their name (restore from a backup).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from artdash.db.models import Variant

TMP_PREFIX = ".tmp-"


@dataclass
class Checkup:
    orphans: list[Path] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)
    missing_originals: list[int] = field(default_factory=list)     # variant ids
    missing_thumbnails: list[int] = field(default_factory=list)
    damaged: list[int] = field(default_factory=list)               # variant ids
    files_checked: int = 0
    repaired: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not (self.orphans or self.leftovers or self.missing_originals or self.missing_thumbnails
                    or self.damaged)

    def lines(self) -> list[str]:
        out = [f"{self.files_checked:,} media files checked"]
        if self.orphans:
            out.append(f"{len(self.orphans):,} orphan file(s) no variant refers to")
        if self.leftovers:
            out.append(f"{len(self.leftovers):,} temporary file(s) left by an interrupted write")
        if self.missing_thumbnails:
            out.append(f"{len(self.missing_thumbnails):,} variant(s) without a thumbnail: "
                       + ", ".join(f"#{v}" for v in self.missing_thumbnails[:20]))
        if self.missing_originals:
            out.append(f"{len(self.missing_originals):,} variant(s) whose image file is missing — restore it from a "
                       "backup: " + ", ".join(f"#{v}" for v in self.missing_originals[:20]))
        if self.damaged:
            out.append(f"{len(self.damaged):,} image file(s) damaged (bytes do not match their hash) — restore from "
                       "a backup: " + ", ".join(f"#{v}" for v in self.damaged[:20]))
        out += self.repaired
        if self.healthy and not self.repaired:
            out.append("everything is in order")
        return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def examine(ws, verify_hashes: bool = True) -> Checkup:
    store = ws.store
    with ws.session() as s:
        variants = s.execute(select(Variant.id, Variant.sha256, Variant.media_ext)).all()
    expected_originals = {store.original_path(sha, ext).resolve(): vid for vid, sha, ext in variants}
    expected_thumbs = {store.thumbnail_path(sha).resolve(): vid for vid, sha, _ in variants}
    report = Checkup()
    root = Path(store.root)
    if root.exists():
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            report.files_checked += 1
            resolved = path.resolve()
            if path.name.startswith(TMP_PREFIX):
                report.leftovers.append(path)
            elif resolved not in expected_originals and resolved not in expected_thumbs:
                report.orphans.append(path)
    for vid, sha, ext in variants:
        original = store.original_path(sha, ext)
        if not original.is_file():
            report.missing_originals.append(vid)
        elif verify_hashes and _sha256(original) != sha:
            report.damaged.append(vid)
        if not store.thumbnail_path(sha).is_file():
            report.missing_thumbnails.append(vid)
    return report


def repair(ws, report: Checkup) -> Checkup:
    """Delete orphans and leftovers; rebuild missing thumbnails from intact originals."""
    from artdash.images import make_thumbnail

    for path in report.orphans + report.leftovers:
        path.unlink(missing_ok=True)
    if report.orphans or report.leftovers:
        report.repaired.append(f"deleted {len(report.orphans) + len(report.leftovers):,} orphan/temporary file(s)")
    rebuilt = 0
    with ws.session() as s:
        for vid in report.missing_thumbnails:
            if vid in report.missing_originals or vid in report.damaged:
                continue
            v = s.get(Variant, vid)
            ws.store.put_thumbnail(v.sha256, make_thumbnail(ws.store.read(v.sha256, v.media_ext)))
            rebuilt += 1
    if rebuilt:
        report.repaired.append(f"rebuilt {rebuilt:,} thumbnail(s)")
    report.orphans, report.leftovers = [], []
    report.missing_thumbnails = [v for v in report.missing_thumbnails
                                 if v in report.missing_originals or v in report.damaged]
    return report
