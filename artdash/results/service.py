"""Imports into the results database as a person does them: permission checked, recorded
in the audit trail (the catalog database), the work itself done by :mod:`ingest`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select

from artdash import clock
from artdash.access import audit
from artdash.access.auth import authorize
from artdash.db.models import Variant
from artdash.results.ingest import IngestReport, delete_import, ingest
from artdash.results.log import ImpressionLog, ParquetLog, log_for
from artdash.results.log.carry import carry_over
from artdash.results.names import CatalogNames
from artdash.workspace import Workspace


def impression_log(ws: Workspace) -> ImpressionLog:
    """Where this workspace's impressions live (:func:`artdash.results.log.log_for`): the
    impressions table when the results are on PostgreSQL, else the Parquet log in
    ``ARTDASH_RESULTS_LOG_DIR``. Impressions still in the table of an older ArtDash are carried
    over into the Parquet log first (once)."""
    log = log_for(ws.results_engine, ws.settings.impression_log_dir)
    if isinstance(log, ParquetLog):
        carry_over(log)  # a no-op (one count of an empty table) once done
    return log


def variant_titles(ws: Workspace) -> dict[int, int]:
    """Variant id → title id over the whole catalog (what an import checks rows against)."""
    with ws.session() as s:
        return dict(s.execute(select(Variant.id, Variant.title_id)).all())


def catalog_names(ws: Workspace) -> CatalogNames:
    """Every title's name and every variant's label (imports may name them instead of ids)."""
    from artdash.db.models import Title

    with ws.session() as s:
        return CatalogNames.build(s.execute(select(Title.id, Title.name)).all(),
                                  s.execute(select(Variant.id, Variant.title_id, Variant.label)).all())


def import_log(ws: Workspace, source: bytes | Path | pa.Table, file_name: str, actor: str, *, mapping: Mapping[str, str] | None = None,
               skip_unknown: bool = False, kind: str = "import", needs: str = "admin",
               progress: Callable[[int], None] | None = None, event_id_prefix: str = "") -> IngestReport:
    """Import an impression log (admins; lab simulations: editors) and record it;
    ``event_id_prefix`` gives the file's event ids a space of their own."""
    with ws.transaction() as s:
        authorize(s, actor, needs)
    report = ingest(impression_log(ws), source, file_name, actor, variant_titles(ws), ws.settings.quality_play_seconds,
                    mapping=mapping, skip_unknown=skip_unknown, kind=kind, progress=progress,
                    names=catalog_names(ws), event_id_prefix=event_id_prefix)
    if report.import_id is None:
        return report  # nothing new was added: nothing to record
    with ws.transaction() as s:
        authorize(s, actor, needs)
        audit.record(s, actor, "import", "impressions", report.import_id,
                     after={"file": file_name, "kind": kind, "rows": report.n_rows, "added": report.n_inserted,
                            "already present": report.n_already_present, "skipped": report.n_skipped_unknown,
                            **({"event id prefix": event_id_prefix} if event_id_prefix else {})})
    return report


def remove_import(ws: Workspace, import_id: int, actor: str) -> int:
    """Delete one import's impressions and rollup contributions (admins) and record it. A
    policy-lab run whose simulated log this was is marked as having no data any more."""

    from artdash.db.models import LabRun

    with ws.transaction() as s:
        authorize(s, actor, "admin")
    removed = delete_import(impression_log(ws), import_id)
    with ws.transaction() as s:
        authorize(s, actor, "admin")
        audit.record(s, actor, "delete", "impressions", import_id, before={"impressions": removed})
        for run in s.scalars(select(LabRun).where(LabRun.results_import_id == import_id,
                                                  LabRun.data_removed_at.is_(None))):
            run.data_removed_at = clock.now()
    return removed
