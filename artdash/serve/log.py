"""Writing decisions and joining outcomes: the jobs the group writer commits.

Outcomes join their decision by event id. One that names no logged decision is refused
(counted as unknown); a second outcome for the same event is ignored (counted as a
duplicate: the first one stands); one that arrives after the reward window has closed is
kept and flagged late — it is not counted as a play in Results or in training, because by
then the impression may already have been read as "not played".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from artdash.db.results_schema import decision_contexts, decisions, outcomes
from artdash.decision.rows import DECISION_COLUMNS, DecisionRows

MAX_OUTCOMES = 10_000


@dataclass(frozen=True)
class Outcome:
    """What the member did with one decision."""

    event_id: str
    played: bool
    play_seconds: float


@dataclass(frozen=True)
class OutcomeReport:
    """What became of a batch of outcomes."""

    accepted: int
    late: int
    unknown: int
    duplicate: int
    unknown_ids: tuple[str, ...] = ()

    def as_json(self) -> dict:
        """The JSON object the API returns."""
        return {"accepted": self.accepted, "late": self.late, "unknown": self.unknown, "duplicate": self.duplicate,
                "unknown_event_ids": list(self.unknown_ids[:20])}


def _insert_new(conn: Connection, table, key: str, rows: Sequence[dict]) -> None:
    if not rows:
        return
    present = set(conn.execute(select(table.c[key]).where(table.c[key].in_([r[key] for r in rows]))).scalars())
    fresh = [r for r in rows if r[key] not in present]
    if fresh:
        conn.execute(insert(table), fresh)


_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _insert_tuples(conn: Connection, table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """INSERT the rows (tuples in ``columns`` order) into ``table`` by the driver's own
    executemany: no per-row work in Python (SQLAlchemy's would cost ~20 µs a row)."""
    mark = _MARKS.get(conn.dialect.paramstyle)
    if mark is None:    # a driver with another parameter style: the portable way
        conn.execute(insert(table), [dict(zip(columns, r)) for r in rows])
        return
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})",
                         list(rows))


def write_decisions(rows: DecisionRows, context: dict | None):
    """A job that logs ``rows`` and, unless None (known to be stored already), their context."""
    def job(conn: Connection) -> int:
        if len(rows) and context is not None:
            _insert_new(conn, decision_contexts, "context_hash", [context])
        if len(rows):
            _insert_tuples(conn, decisions, DECISION_COLUMNS, rows.tuples())
        return len(rows)
    return job


def record_outcomes(items: Sequence[Outcome], now_ms: int, window_ms: int):
    """A job that joins ``items`` to their decisions; returns an :class:`OutcomeReport`."""
    def job(conn: Connection) -> OutcomeReport:
        ids = list(dict.fromkeys(o.event_id for o in items))
        made: dict[str, int] = {}
        present: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            made.update(conn.execute(select(decisions.c.event_id, decisions.c.at_ms)
                                     .where(decisions.c.event_id.in_(chunk))).all())
            present.update(conn.execute(select(outcomes.c.event_id).where(outcomes.c.event_id.in_(chunk))).scalars())
        rows, unknown, duplicate, late = [], [], 0, 0
        seen: set[str] = set()
        for o in items:
            if o.event_id not in made:
                unknown.append(o.event_id)
                continue
            if o.event_id in present or o.event_id in seen:
                duplicate += 1
                continue
            seen.add(o.event_id)
            is_late = now_ms - made[o.event_id] > window_ms
            late += is_late
            rows.append((o.event_id, now_ms, int(o.played), float(o.play_seconds), int(is_late)))
        if rows:
            _insert_tuples(conn, outcomes, ("event_id", "at_ms", "played", "play_seconds", "late"), rows)
        return OutcomeReport(len(rows), late, len(unknown), duplicate, tuple(unknown))
    return job


def is_legacy_id(event_id: str) -> bool:
    """An event id from before ids were signed (32 hex characters): looked up in the store."""
    return len(event_id) == 32 and all(c in "0123456789abcdef" for c in event_id)


def sum_reports(*reports: OutcomeReport) -> OutcomeReport:
    """Several parts of one batch's answer as one."""
    return OutcomeReport(sum(r.accepted for r in reports), sum(r.late for r in reports),
                         sum(r.unknown for r in reports), sum(r.duplicate for r in reports),
                         tuple(i for r in reports for i in r.unknown_ids))


def gather(parts: Sequence[Future], combine: Callable[[list[Any]], Any]) -> Future:
    """A future of ``combine`` over the results of ``parts`` once all are done (or the first
    error among them)."""
    out: Future = Future()
    remaining = [len(parts)]
    lock = threading.Lock()

    def done(_: Future) -> None:
        with lock:
            remaining[0] -= 1
            if remaining[0]:
                return
        errors = [f.exception() for f in parts if f.exception() is not None]
        if errors:
            out.set_exception(errors[0])
        else:
            out.set_result(combine([f.result() for f in parts]))

    if not parts:
        out.set_result(combine([]))
    for part in parts:
        part.add_done_callback(done)
    return out


def check_signed(items: Sequence[Outcome], check: Callable[[str], int | None], recent: set[str], now_ms: int,
                 window_ms: int) -> tuple[list[tuple], list[Outcome], OutcomeReport]:
    """Outcomes checked by their event ids alone (``check``: when a signed id's decision was
    made, or None): the rows to journal (``OUTCOME_COLUMNS``), those with ids from before
    signing (to look up in the store), and the answer for the rest — unknown, late, and
    duplicates of this batch or of ``recent`` (ids this worker took already)."""
    rows: list[tuple] = []
    legacy: list[Outcome] = []
    unknown: list[str] = []
    duplicate = late = 0
    seen: set[str] = set()
    for o in items:
        at_ms = check(o.event_id)
        if at_ms is None:
            if is_legacy_id(o.event_id):
                legacy.append(o)
            else:
                unknown.append(o.event_id)
            continue
        if o.event_id in seen or o.event_id in recent:
            duplicate += 1
            continue
        seen.add(o.event_id)
        is_late = now_ms - at_ms > window_ms
        late += is_late
        rows.append((o.event_id, now_ms, int(o.played), float(o.play_seconds), int(is_late)))
    return rows, legacy, OutcomeReport(len(rows), late, len(unknown), duplicate, tuple(unknown))
