"""Aggregations over the daily rollups: SQLAlchemy Core statements over the rollup relations,
run by DuckDB over their columnar generations (:mod:`artdash.results.rollup_store`), whichever
database holds them. Pages never scan raw impressions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Double,
    Label,
    Select,
    Table,
    and_,
    cast,
    func,
    select,
    true,
)

from artdash import clock
from artdash.db.results_schema import (
    SEGMENT_KINDS,
    SUMS,
    imports,
    rollup_cells,
    rollup_segments,
    rollup_variants,
)
from artdash.results import rollup_store

EPOCH = date(1970, 1, 1)
# (imports, newest import id, impressions stored, lowest and highest quality threshold, digest)
DataStamp = tuple[int, int | None, int, float | None, float | None, str]


def to_day(value: date) -> int:
    """A date as a day number (days since 1970-01-01, as the rollups store it)."""
    return (value - EPOCH).days


def from_day(day: int) -> date:
    """A day number back to its date."""
    return EPOCH + timedelta(days=int(day))


@dataclass(frozen=True)
class Selection:
    """What a reviewer is looking at: a title (or all), a day range, a segment, an experiment
    — or, with no experiment, all traffic except the experiments in ``exclude`` (simulated
    ones: real take rates are never mixed with a simulation's)."""

    title_id: int | None = None
    day_from: int | None = None
    day_to: int | None = None
    segment_kind: str = "all"
    segment: str = ""
    experiment: str | None = None
    exclude: tuple[str, ...] = ()

    def describe(self, titles: Mapping[int, str]) -> dict[str, object]:
        """The selection as columns for a download (so a CSV says what it is about)."""
        return {"title_id": self.title_id, "title": titles.get(self.title_id, "") if self.title_id else "all titles",
                "experiment": self.experiment or ("all real traffic" if self.exclude else "all traffic"),
                "segment_kind": self.segment_kind, "segment": self.segment or "everyone",
                "date_from": str(from_day(self.day_from)) if self.day_from is not None else "",
                "date_to": str(from_day(self.day_to)) if self.day_to is not None else ""}

    def table(self) -> Table:
        """The rollup table this selection reads (per segment when one is chosen)."""
        return rollup_variants if self.segment_kind == "all" else rollup_segments

    def log_filter(self, plays_only: bool = False) -> tuple[str, list[Any]]:
        """The selection as a WHERE clause on the impression log itself (``?`` parameters,
        never text pasted in; plays only, or every impression): what the engine holding the
        log runs for member sums and play durations, where :meth:`where` filters the rollups."""
        clauses: list[str] = ["played = 1" if plays_only else "1 = 1"]
        params: list[Any] = []
        if self.title_id is not None:
            clauses.append("title_id = ?")
            params.append(int(self.title_id))
        if self.day_from is not None:
            clauses.append("day >= ?")
            params.append(int(self.day_from))
        if self.day_to is not None:
            clauses.append("day <= ?")
            params.append(int(self.day_to))
        if self.segment_kind in SEGMENT_KINDS and self.segment:
            clauses.append(f"{self.segment_kind} = ?")
            params.append(self.segment)
        if self.experiment is not None:
            clauses.append("experiment = ?")
            params.append(self.experiment)
        elif self.exclude:
            clauses.append(f"experiment NOT IN ({', '.join('?' for _ in self.exclude)})")
            params += list(self.exclude)
        return " AND ".join(clauses), params

    def where(self, table: Table | None = None, kind: str | None = None) -> ColumnElement[bool]:
        """Filter on a rollup table; with ``kind``, the segment rows of that kind, every value."""
        r = table if table is not None else self.table()
        clauses = []
        if kind is not None:
            clauses.append(r.c.segment_kind == kind)
        elif self.segment_kind != "all":
            clauses += [r.c.segment_kind == self.segment_kind, r.c.segment == self.segment]
        if self.title_id is not None:
            clauses.append(r.c.title_id == self.title_id)
        if self.day_from is not None:
            clauses.append(r.c.day >= self.day_from)
        if self.day_to is not None:
            clauses.append(r.c.day <= self.day_to)
        if self.experiment is not None:
            clauses.append(r.c.experiment == self.experiment)
        elif self.exclude:
            clauses.append(r.c.experiment.notin_(self.exclude))
        return and_(true(), *clauses)


def _sum(r: Table, column: str) -> Label[Any]:
    """The sum of a rollup column in its own type (counts stay integers)."""
    if column == "play_seconds":
        return cast(func.sum(r.c[column]), Double()).label(column)
    return cast(func.sum(r.c[column]), BigInteger()).label(column)


def _sums(r: Table) -> list[Label[Any]]:
    return [_sum(r, c) for c in SUMS]


def _frame(conn: Connection, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    """Run a query over the rollups (DuckDB over their columnar generations) as a frame with
    ``columns``; sums of no rows are 0."""
    frame = rollup_store.frame(conn, query)
    frame.columns = columns
    for c in SUMS:   # the sums come typed (see _sum); a frame of no rows may not be
        kind = np.float64 if c == "play_seconds" else np.int64
        if c in frame and frame[c].dtype != kind:
            frame[c] = pd.to_numeric(frame[c]).fillna(0).astype(kind)
    return frame


def _column(conn: Connection, query: Select[Any]) -> list[Any]:
    return [row[0] for row in rollup_store.rows(conn, query)]


def variant_totals(conn: Connection, sel: Selection) -> pd.DataFrame:
    """One row per variant: impressions, plays, quality plays, play seconds."""
    r = sel.table()
    query = (select(r.c.variant_id, r.c.title_id, *_sums(r)).where(sel.where())
             .group_by(r.c.variant_id, r.c.title_id).order_by(r.c.variant_id))
    return _frame(conn, query, ["variant_id", "title_id", *SUMS])


def daily_totals(conn: Connection, sel: Selection) -> pd.DataFrame:
    """One row per (day, variant)."""
    r = sel.table()
    query = (select(r.c.day, r.c.variant_id, *_sums(r)).where(sel.where())
             .group_by(r.c.day, r.c.variant_id).order_by(r.c.day, r.c.variant_id))
    frame = _frame(conn, query, ["day", "variant_id", *SUMS])
    days, at = np.unique(frame["day"].to_numpy(dtype=np.int64), return_inverse=True)
    dates = np.empty(len(days), dtype=object)
    dates[:] = [from_day(d) for d in days]
    frame["date"] = dates[at]
    return frame


def segment_totals(conn: Connection, sel: Selection, kind: str) -> pd.DataFrame:
    """One row per (segment value, variant) for ``kind`` in country, device, policy."""
    r = rollup_segments
    query = (select(r.c.segment, r.c.variant_id, *_sums(r)).where(sel.where(r, kind=kind))
             .group_by(r.c.segment, r.c.variant_id).order_by(r.c.segment, r.c.variant_id))
    return _frame(conn, query, ["segment", "variant_id", *SUMS])


def cell_totals(conn: Connection, experiment: str, day_from: int | None = None,
                day_to: int | None = None) -> pd.DataFrame:
    """Impressions per cell of an experiment (for the sample-ratio check)."""
    r = rollup_cells
    sel = Selection(None, day_from, day_to, "all", "", experiment)
    query = select(r.c.cell, _sum(r, "impressions")).where(sel.where(r)).group_by(r.c.cell).order_by(r.c.cell)
    return _frame(conn, query, ["cell", "impressions"])


def experiments(conn: Connection) -> list[str]:
    """Every experiment the log has impressions of, by name."""
    r = rollup_variants
    return _column(conn, select(r.c.experiment).where(r.c.experiment != "")
                   .group_by(r.c.experiment).order_by(r.c.experiment))


def simulated_experiments(conn: Connection) -> list[str]:
    """Experiments whose impressions came from simulations (policy-lab runs written to the
    results database): reviews of real traffic leave them out."""
    found: set[str] = set()
    for listed in conn.execute(select(imports.c.experiments).where(imports.c.kind == "simulation")).scalars():
        found.update(json.loads(listed or "[]"))
    return sorted(e for e in found if e)


def titles_with_impressions(conn: Connection) -> set[int]:
    """Ids of titles the log has impressions of (one GROUP BY over the rollups)."""
    r = rollup_variants
    return {int(t) for t in _column(conn, select(r.c.title_id).group_by(r.c.title_id))}


def segments(conn: Connection, kind: str, title_id: int | None = None) -> list[str]:
    """The values of a segment kind (of one title's impressions, when given)."""
    r = rollup_segments
    query = select(r.c.segment).where(r.c.segment_kind == kind)
    if title_id is not None:
        query = query.where(r.c.title_id == title_id)
    return [s for s in _column(conn, query.group_by(r.c.segment).order_by(r.c.segment)) if s]


def day_range(conn: Connection, title_id: int | None = None, experiment: str | None = None,
              exclude: tuple[str, ...] = ()) -> tuple[date, date] | None:
    """The first and last day of the impressions a selection can see: one title (or all),
    one experiment, or — with none — all traffic except the experiments in ``exclude``.
    A simulated log never moves the window of real traffic."""
    r = rollup_variants
    sel = Selection(title_id=title_id, experiment=experiment, exclude=exclude)
    ((low, high),) = rollup_store.rows(conn, select(func.min(r.c.day), func.max(r.c.day)).where(sel.where(r)))
    return (from_day(low), from_day(high)) if low is not None else None


def import_history(conn: Connection) -> pd.DataFrame:
    """Every import, newest first, with ``n_new``: the impressions it added."""
    i = imports.c
    query = select(imports, (i.n_rows - i.n_already_present - i.n_skipped).label("n_new")).order_by(i.id.desc())
    return pd.DataFrame(conn.execute(query).mappings().all())


def count_impressions(conn: Connection) -> int:
    """How many impressions the log stores (the sum over the rollups: wherever the log lives)."""
    ((total,),) = rollup_store.rows(conn, select(func.sum(rollup_variants.c.impressions)))
    return int(total or 0)


def data_stamp(conn: Connection) -> DataStamp:
    """A cheap fingerprint of everything the rollups hold: it changes with every import,
    deletion of an import and rebuild (the import log is a few rows; the impressions table is
    never touched). Also the number of impressions stored. Results computed from the rollups
    can be cached under this stamp."""
    i = imports.c
    rows = conn.execute(select(i.id, i.kind, i.source, i.created_at, i.n_rows, i.n_already_present, i.n_skipped,
                               i.quality_seconds).order_by(i.id)).all()
    # Every field of every import, not just the newest id or time: an id can come back after
    # its import was deleted, and two imports can share a clock tick (or a frozen clock).
    digest = hashlib.sha256(repr([tuple(str(v) for v in row) for row in rows]).encode()).hexdigest()[:16]
    stored = sum(int(r.n_rows) - int(r.n_already_present) - int(r.n_skipped) for r in rows)
    qualities = [float(r.quality_seconds) for r in rows]
    return (len(rows), rows[-1].id if rows else None, stored, min(qualities, default=None),
            max(qualities, default=None), digest)


def quality_thresholds(stamp: DataStamp) -> tuple[float | None, float | None]:
    """The (lowest, highest) quality-play threshold the stored rollups were built with, from the
    :func:`data_stamp` (None, None with no imports)."""
    return stamp[3], stamp[4]


def stored_impressions(stamp: DataStamp) -> int:
    """The number of impressions in the results database, from its :func:`data_stamp`."""
    return int(stamp[2])


def today_day() -> int:
    """Today as a day number (days since 1970-01-01), from the clock."""
    return to_day(clock.today())
