"""Health checks of the media store against the catalog, and repairs.

Files are written before their rows are committed (see :mod:`artdash.media.store`), so a crash can
leave files no row refers to (orphans) and half-written temporary files, but never a row
without its file — unless a file was deleted or damaged outside ArtDash. The doctor finds:

- **orphans**: originals and thumbnails no variant refers to, and ``.tmp-*`` leftovers
  (repairable: deleted);
- **missing**: variants whose original or thumbnail is gone (a thumbnail is rebuilt from the
  original; a missing original can only come back from a backup);
- **damaged**: originals whose bytes no longer hash to their name (restore from a backup);
- **the impression log** (Parquet files by day): an import whose files are missing, short or
  unreadable (remove it and import the file again); files no import owns and staging
  leftovers of an interrupted import (repairable: cleared, as the next import would);
- **unlinked simulations**: a policy-lab run whose simulated log reached the results
  database, while the process stopped before the run was linked to it (repairable: linked,
  so the run can show and remove its data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from artdash.db import health
from artdash.db.models import LabRun, Variant
from artdash.media.store import file_sha256

TMP_PREFIX = ".tmp-"


@dataclass
class Checkup:
    """What the media check found: orphan, leftover, missing and damaged files."""
    orphans: list[Path] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)
    missing_originals: list[int] = field(default_factory=list)     # variant ids
    missing_thumbnails: list[int] = field(default_factory=list)
    damaged: list[int] = field(default_factory=list)               # variant ids
    unlinked_runs: list[tuple[int, int]] = field(default_factory=list)  # (lab run id, results import id)
    database_problems: list[str] = field(default_factory=list)          # integrity check findings
    log_problems: list[str] = field(default_factory=list)               # the impression log's files
    log_leftovers: list[Path] = field(default_factory=list)
    files_checked: int = 0
    repaired: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """Whether nothing remains to repair."""
        return not (self.orphans or self.leftovers or self.missing_originals or self.missing_thumbnails
                    or self.damaged or self.unlinked_runs or self.database_problems or self.log_problems
                    or self.log_leftovers)

    def lines(self) -> list[str]:
        """The report as lines for the terminal."""
        out = [f"database: {p} — restore the last backup into a new data folder (`artdash restore`)"
               for p in self.database_problems]
        out.append(f"{self.files_checked:,} media files checked")
        out += [f"impression log: {p}" for p in self.log_problems]
        if self.log_leftovers:
            out.append(f"{len(self.log_leftovers):,} impression-log file(s) no import owns (an interrupted import "
                       "or removal)")
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
        if self.unlinked_runs:
            out.append(f"{len(self.unlinked_runs):,} policy-lab run(s) not linked to the simulated data they wrote: "
                       + ", ".join(f"run #{r} (import #{i})" for r, i in self.unlinked_runs[:20]))
        out += self.repaired
        if self.healthy and not self.repaired:
            out.append("everything is in order")
        return out



def examine(ws, verify_hashes: bool = True) -> Checkup:
    """Check the media store against the catalog (re-hashing every image unless ``verify_hashes`` is off)."""
    report = Checkup()
    report.database_problems = [f"catalog: {p}" for p in health.problems(ws.engine)]
    if ws.settings.results_url != ws.settings.database_url:
        report.database_problems += [f"results: {p}" for p in health.problems(ws.results_engine)]
    if report.database_problems:
        return report  # nothing else can be checked against a database that cannot be read
    store = ws.store
    with ws.session() as s:
        variants = s.execute(select(Variant.id, Variant.sha256, Variant.media_ext)).all()
    expected_originals = {store.original_path(sha, ext).resolve(): vid for vid, sha, ext in variants}
    expected_thumbs = {store.thumbnail_path(sha).resolve(): vid for vid, sha, _ in variants}
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
        elif verify_hashes and file_sha256(original) != sha:
            report.damaged.append(vid)
        if not store.thumbnail_path(sha).is_file():
            report.missing_thumbnails.append(vid)
    report.unlinked_runs = _unlinked_runs(ws)
    report.log_problems, report.log_leftovers = _log_checkup(ws)
    return report


def _log_checkup(ws) -> tuple[list[str], list[Path]]:
    from artdash.results.log import ParquetLog
    from artdash.results.service import impression_log

    log = impression_log(ws)
    if not isinstance(log, ParquetLog):
        return [], []
    with ws.results_engine.connect() as conn:
        return log.check(conn)


def _unlinked_runs(ws) -> list[tuple[int, int]]:
    """Lab runs without a link to the simulation import that carries their log (the process
    stopped between the import's commit and the link)."""
    from artdash.db.results_schema import imports
    from artdash.lab.store import run_of_log

    with ws.results_engine.connect() as conn:
        logs = conn.execute(select(imports.c.id, imports.c.source).where(imports.c.kind == "simulation")).all()
    by_run = {run_of_log(source): import_id for import_id, source in logs if run_of_log(source) is not None}
    if not by_run:
        return []
    with ws.session() as s:
        waiting = s.scalars(select(LabRun.id).where(LabRun.id.in_(by_run), LabRun.results_import_id.is_(None),
                                                    LabRun.data_removed_at.is_(None))).all()
    return [(run_id, by_run[run_id]) for run_id in sorted(waiting)]


def repair(ws, report: Checkup) -> Checkup:
    """Delete orphans and leftovers; rebuild missing thumbnails from intact originals."""
    from artdash.media.images import make_thumbnail

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
    if report.unlinked_runs:
        from artdash.lab import store as lab_store

        with ws.transaction() as s:
            for run_id, import_id in report.unlinked_runs:
                lab_store.attach_log(s, run_id, import_id, s.get(LabRun, run_id).created_by)
        report.repaired.append(f"linked {len(report.unlinked_runs):,} lab run(s) to their simulated data")
        report.unlinked_runs = []
    if report.log_leftovers:
        from artdash.results.log import ParquetLog
        from artdash.results.service import impression_log
        from artdash.results.write import one_writer

        log = impression_log(ws)
        if isinstance(log, ParquetLog):
            with one_writer(log.engine) as conn:  # as the next import would, under its lock
                log.prepare(conn)
            report.repaired.append(f"cleared {len(report.log_leftovers):,} impression-log file(s) no import owns")
            report.log_leftovers = []
    report.orphans, report.leftovers = [], []
    report.missing_thumbnails = [v for v in report.missing_thumbnails
                                 if v in report.missing_originals or v in report.damaged]
    return report
