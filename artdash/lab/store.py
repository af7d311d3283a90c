"""Saved policy-lab runs and the record of which policy Preview serves.

A run is saved with its configuration and seed (so it can be run again exactly), its summary,
curves and offline estimates, and the id of the simulated log it wrote to the results
database (removable in one step). Promotions are an append-only history: the newest entry
says which policy Preview uses by default.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from artdash import clock
from artdash.access.auth import authorize
from artdash.db.models import LabRun, PolicyPromotion
from artdash.errors import NotFoundError, ValidationError
from artdash.lab import estimates
from artdash.lab.config import LabConfig
from artdash.lab.display import with_labels
from artdash.lab.estimates import Estimate
from artdash.lab.online import LabResult
from artdash.lab.promotions import PromotionView, _promotion_view, current_policy, demote  # noqa: F401  (its public face too)
from artdash.policy import registry
from artdash.policy.registry import LABELS


def _records(frame: pd.DataFrame | None) -> list[dict] | None:
    """JSON-safe rows (NaN and infinities become null)."""
    if frame is None:
        return None
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if hasattr(v, "item"):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out


@dataclass(frozen=True)
class RunView:
    """A saved lab run: its configuration, outcome, catalog fingerprint and logged data."""
    id: int
    name: str
    created_at: datetime
    created_by: str
    seed: int
    status: str
    impressions: int
    seconds: float
    config: LabConfig
    summary: pd.DataFrame
    curves: pd.DataFrame
    offline: pd.DataFrame | None
    results_import_id: int | None
    data_removed_at: datetime | None
    catalog_fingerprint: str | None = None   # the catalog it ran on (None: saved before it was recorded)

    @property
    def has_logged_data(self) -> bool:
        """Whether its simulated impressions are in the results database now."""
        return self.results_import_id is not None and self.data_removed_at is None

    @property
    def title(self) -> str:
        """``#id name``, as runs are listed."""
        return f"#{self.id} {self.name}"


def _view(run: LabRun) -> RunView:
    return RunView(run.id, run.name, run.created_at, run.created_by, run.seed, run.status, run.impressions,
                   run.seconds, LabConfig.from_dict(run.config), pd.DataFrame(run.summary), pd.DataFrame(run.curves),
                   pd.DataFrame(run.offline) if run.offline is not None else None, run.results_import_id,
                   run.data_removed_at, run.catalog_fingerprint)


def _clean_name(name: str | None, fallback: str) -> str:
    text = " ".join((name or "").split())
    if len(text) > 120:
        raise ValidationError("a run name must be at most 120 characters")
    return text or fallback


def save_run(session: Session, result: LabResult, actor: str, name: str | None = None,
             offline: pd.DataFrame | None = None, results_import_id: int | None = None) -> RunView:
    """Save a finished (or cancelled) run with its summary, curves and offline estimates (editors)."""
    authorize(session, actor, "editor")
    config = result.config
    fallback = f"{result.n_done:,} impressions, seed {config.seed}"
    run = LabRun(name=_clean_name(name, fallback), created_by=actor, seed=config.seed,
                 status="cancelled" if result.cancelled else "done", impressions=result.n_done,
                 seconds=float(result.seconds), config=config.to_dict(), summary=_records(result.summary()),
                 curves=_records(result.curves()), offline=_records(offline), results_import_id=results_import_id,
                 catalog_fingerprint=result.catalog_fingerprint or None)
    session.add(run)
    session.flush()
    return _view(run)


def _get(session: Session, run_id: int) -> LabRun:
    run = session.get(LabRun, run_id)
    if run is None:
        raise NotFoundError(f"there is no lab run #{run_id}; pick one from the history")
    return run


def get_run(session: Session, run_id: int) -> RunView:
    """One saved run; refuses an unknown id."""
    return _view(_get(session, run_id))


def list_runs(session: Session) -> list[RunView]:
    """Every saved run, newest first."""
    return [_view(r) for r in session.scalars(select(LabRun).order_by(LabRun.id.desc()))]


def set_offline(session: Session, run_id: int, offline: pd.DataFrame, actor: str) -> RunView:
    """Store offline estimates for a saved run (editors)."""
    authorize(session, actor, "editor")
    run = _get(session, run_id)
    run.offline = _records(offline)
    session.flush()
    return _view(run)


def attach_log(session: Session, run_id: int, import_id: int, actor: str) -> RunView:
    """Link a run to the import that holds its simulated impressions."""
    authorize(session, actor, "editor")
    run = _get(session, run_id)
    run.results_import_id = import_id
    run.data_removed_at = None
    session.flush()
    return _view(run)


def remove_run_data(ws, run_id: int, actor: str) -> int:
    """Delete the simulated impressions a run wrote to the results database (the run itself
    stays in the history; admins only). Returns how many impressions were removed. Takes the
    workspace: the results may share the catalog's SQLite file, so the deletion runs in its
    own transaction, never inside a session that already holds the write lock."""
    from artdash.results.service import remove_import

    with ws.session() as s:
        run = _get(s, run_id)
        import_id, removed_at = run.results_import_id, run.data_removed_at
    if import_id is None or removed_at is not None:
        raise ValidationError(f"run #{run_id} has no simulated data in the results database")
    try:
        return remove_import(ws, import_id, actor)  # also marks the run as without data
    except NotFoundError:
        pass  # already gone (removed by hand, or an earlier attempt stopped half-way)
    with ws.transaction() as s:
        authorize(s, actor, "admin")
        _get(s, run_id).data_removed_at = clock.now()
    return 0


def log_file_name(run_id: int) -> str:
    """The name a run's simulated log is imported under (the import history shows it)."""
    return f"policy-lab-run-{int(run_id)}.csv"


def run_of_log(file_name: str) -> int | None:
    """The lab run a simulated log was written by, from its import's file name."""
    match = re.fullmatch(r"policy-lab-run-(\d+)\.csv", file_name)
    return int(match.group(1)) if match else None


def log_run(ws, world, result: LabResult, run_id: int, actor: str, progress=None):
    """Write a saved run's impressions to the results database as simulated data (experiment
    ``lab-<run id>``, one import) and link it to the run."""
    import pyarrow as pa

    from artdash.lab.logs import run_log
    from artdash.results.service import import_log

    data = pa.Table.from_pandas(run_log(world, result, str(run_id)), preserve_index=False)
    report = import_log(ws, data, log_file_name(run_id), actor, kind="simulation", needs="editor",
                        progress=progress)
    if report.import_id is None:  # only a person's file ("import") can add nothing new; a run's log is new
        raise RuntimeError(f"the simulated log of run #{run_id} added no impressions")
    with ws.transaction() as s:
        attach_log(s, run_id, report.import_id, actor)
    return report


def compare_runs(runs: list[RunView]) -> pd.DataFrame:
    """One row per (run, policy): the runs' summaries side by side."""
    frames = []
    for run in runs:
        if run.summary.empty:
            continue
        frames.append(with_labels(run.summary).assign(run=run.title, seed=run.seed, status=run.status))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --- promotions ------------------------------------------------------------------------------

def promote(session: Session, policy: str, actor: str, run_id: int | None = None, note: str = "",
            expected: Sequence[Estimate] = ()) -> PromotionView:
    """Make ``policy`` the one the decision service serves and Preview shows (recorded with who,
    when and why). A policy the service cannot serve is refused, with the reason. What it was
    expected to earn is kept with it for the calibration history: ``expected`` (e.g. the
    shadow's or an offline evaluation's estimate) and, with ``run_id``, that run's estimates."""
    authorize(session, actor, "admin")
    registry.check_servable(policy)
    run = _view(_get(session, run_id)) if run_id is not None else None
    entry = PolicyPromotion(policy=policy, action="promote", by=actor, run_id=run_id, note=(note or "").strip()[:2000])
    session.add(entry)
    session.flush()
    estimates.record(session, entry.id, [*expected, *(estimates.lab_estimates(run, policy) if run else [])])
    return _promotion_view(entry)


def promotion_history(session: Session) -> pd.DataFrame:
    """The promotion history, newest first, as a table."""
    rows = session.scalars(select(PolicyPromotion).order_by(PolicyPromotion.id.desc())).all()
    return pd.DataFrame([{"when": p.at, "action": p.action, "policy": LABELS.get(p.policy, p.policy),
                          "by": p.by, "run": f"#{p.run_id}" if p.run_id else "", "note": p.note} for p in rows],
                        columns=["when", "action", "policy", "by", "run", "note"])
