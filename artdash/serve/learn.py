"""Beside the service: move decisions whose reward window has closed into the impression log
(Results shows them as live traffic), and retrain the served policy.

Both are safe to repeat: the impression log is idempotent by event id, so a flush that stopped
between writing the log and marking its decisions writes nothing twice when run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update

from artdash.db.results_schema import decisions, outcomes
from artdash.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from artdash.results.ingest import IngestReport

LIVE_EXPERIMENT = "live"
SERVICE_ACTOR = "artdash-serve"
MAX_FLUSH_ROWS = 500_000


@dataclass(frozen=True)
class FlushReport:
    """One flush: how many decisions went to the impression log, under which import."""

    n_decisions: int
    import_id: int | None
    n_plays: int


def closed_decisions(ws: Workspace, closed_before: datetime, limit: int = MAX_FLUSH_ROWS) -> pd.DataFrame:
    """Resolved decisions not yet in the impression log — their outcome arrived, or their reward
    window closed before ``closed_before`` (no play; a late outcome counts as none) — with
    their outcomes, as impression-log rows."""
    import pandas as pd  # heavy, and only the learner flushes: a --no-learn replica starts without it

    o = outcomes
    on_time = and_(o.c.event_id == decisions.c.event_id, o.c.late == 0)
    query = (select(decisions.c.event_id, decisions.c.at_ms, decisions.c.member_id, decisions.c.title_id,
                    decisions.c.variant_id, decisions.c.policy, decisions.c.propensity, decisions.c.country,
                    decisions.c.device, o.c.played, o.c.play_seconds)
             .select_from(decisions.outerjoin(o, on_time))
             .where(decisions.c.import_id.is_(None),
                    or_(decisions.c.at_ms < int(closed_before.timestamp() * 1000), o.c.event_id.is_not(None)))
             .order_by(decisions.c.at_ms).limit(limit))
    with ws.results_engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).all(), columns=[c.name for c in query.selected_columns])
    return frame


def flush_closed(ws: Workspace, closed_before: datetime, actor: str = SERVICE_ACTOR) -> FlushReport:
    """Write closed decisions to the impression log as one import of kind ``live`` (experiment
    ``live``, one cell per policy), then mark them as logged."""
    import pandas as pd
    import pyarrow as pa

    from artdash.results.service import import_log

    frame = closed_decisions(ws, closed_before)
    if frame.empty:
        return FlushReport(0, None, 0)
    played = frame["played"].fillna(0).astype(int)
    when = pd.to_datetime(frame["at_ms"], unit="ms", utc=True)
    log = pd.DataFrame({
        "event_id": frame["event_id"], "timestamp": when.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "member_id": frame["member_id"], "title_id": frame["title_id"], "variant_id": frame["variant_id"],
        "policy": frame["policy"], "experiment": LIVE_EXPERIMENT, "cell": frame["policy"],
        "propensity": frame["propensity"], "played": played,
        "play_seconds": frame["play_seconds"].fillna(0.0).where(played == 1, 0.0),
        "country": frame["country"], "device": frame["device"]})
    first, last = when.iloc[0], when.iloc[-1]
    name = f"live-{first:%Y%m%d-%H%M%S}-{last:%Y%m%d-%H%M%S}.csv"
    report: IngestReport = import_log(ws, pa.Table.from_pandas(log, preserve_index=False), name, actor, kind="live")
    ids = frame["event_id"].tolist()
    with ws.results_engine.begin() as conn:
        for start in range(0, len(ids), 500):
            conn.execute(update(decisions).where(decisions.c.event_id.in_(ids[start:start + 500]))
                         .values(import_id=report.import_id))
    return FlushReport(len(frame), report.import_id, int(played.sum()))

