"""Daily sufficient statistics per variant, cell and segment: summed in memory per import, written once; rebuilt from the stored impressions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, select

from artdash.db.results_schema import (
    SEGMENT_KINDS,
    SUMS,
    imports,
    impressions,
    rollup_cells,
    rollup_segments,
    rollup_variants,
)
from artdash.errors import ValidationError
from artdash.results.quality import quality_plays
from artdash.results.validate import Rows
from artdash.results.write import Writer, one_writer

VARIANT_KEYS = ["day", "variant_id", "experiment"]
CELL_KEYS = ["day", "experiment", "cell"]
SEGMENT_KEYS = ["day", "variant_id", "experiment", "segment_kind", "segment"]
class Rollups:
    """This import's rollup contributions, summed in memory across chunks. Text dimensions are
    grouped as integer codes (one code table per dimension for the whole import)."""

    COMPACT_AT = 3_000_000

    def __init__(self, quality_seconds: float):
        self.quality_seconds = quality_seconds
        self.values: dict[str, dict[str, int]] = {}
        self.variants: list[pd.DataFrame] = []
        self.cells: list[pd.DataFrame] = []
        self.segments: dict[str, list[pd.DataFrame]] = {kind: [] for kind in SEGMENT_KINDS}
        self._rows = 0

    def _codes(self, rows: Rows, name: str) -> np.ndarray:
        codes, values = rows.coded[name]
        table = self.values.setdefault(name, {})
        remap = np.array([table.setdefault(v, len(table)) for v in values.tolist()], dtype=np.int32)
        return remap[codes] if len(remap) else codes

    def _decode(self, name: str, codes: pd.Series) -> np.ndarray:
        values = np.array(list(self.values.get(name, {})), dtype=object)
        return values[codes.to_numpy()]

    def add(self, rows: Rows) -> None:
        """Add the contributions of one chunk of new impressions."""
        if not len(rows):
            return
        played = rows.columns["played"].astype(np.int64)
        seconds = rows.columns["play_seconds"]
        base = pd.DataFrame({
            "day": rows.columns["day"], "variant_id": rows.columns["variant_id"],
            "experiment": self._codes(rows, "experiment"), "title_id": rows.columns["title_id"],
            "impressions": np.ones(len(rows), dtype=np.int64), "plays": played,
            "quality_plays": quality_plays(played, seconds, self.quality_seconds).astype(np.int64),
            "play_seconds": seconds})
        self.variants.append(self._sum(base, VARIANT_KEYS))
        self.cells.append(self._sum(base.assign(cell=self._codes(rows, "cell")), CELL_KEYS))
        self._rows += len(self.variants[-1]) + len(self.cells[-1])
        for kind in SEGMENT_KINDS:
            part = self._sum(base.assign(segment=self._codes(rows, kind)), ["day", "variant_id", "experiment",
                                                                            "segment"])
            self.segments[kind].append(part)
            self._rows += len(part)
        if self._rows > self.COMPACT_AT:
            self._compact()

    def _compact(self) -> None:
        self.variants = [self._sum(pd.concat(self.variants, ignore_index=True), VARIANT_KEYS)]
        self.cells = [self._sum(pd.concat(self.cells, ignore_index=True), CELL_KEYS)]
        self._rows = len(self.variants[0]) + len(self.cells[0])
        for kind, parts in self.segments.items():
            if parts:
                self.segments[kind] = [self._sum(pd.concat(parts, ignore_index=True),
                                                 ["day", "variant_id", "experiment", "segment"])]
                self._rows += len(self.segments[kind][0])

    @staticmethod
    def _sum(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        agg = {c: "sum" for c in SUMS} | {"title_id": "first"}
        return frame.groupby(keys, sort=False).agg(agg).reset_index()

    def total_variants(self) -> pd.DataFrame:
        """Summed contributions per (day, variant, experiment)."""
        if not self.variants:
            return pd.DataFrame()
        self._compact()
        frame = self.variants[0]
        return frame.assign(experiment=self._decode("experiment", frame["experiment"]))

    def total_cells(self) -> pd.DataFrame:
        """Summed contributions per (day, experiment, cell)."""
        if not self.cells:
            return pd.DataFrame()
        self._compact()
        frame = self.cells[0]
        return frame.assign(experiment=self._decode("experiment", frame["experiment"]),
                            cell=self._decode("cell", frame["cell"]))

    def total_segments(self) -> pd.DataFrame:
        """Summed contributions per (day, variant, experiment, segment kind, segment)."""
        if not self.variants:
            return pd.DataFrame()
        self._compact()
        parts = [frame.assign(experiment=self._decode("experiment", frame["experiment"]), segment_kind=kind,
                              segment=self._decode(kind, frame["segment"]))
                 for kind, frames in self.segments.items() for frame in frames]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


_STORED = ["day", "variant_id", "title_id", "experiment", "cell", "policy", "country", "device", "played",
           "play_seconds"]


def stored_rollups(conn: Connection, where: ColumnElement[bool] | None, quality_seconds: float, chunk_rows: int) -> tuple[Rollups, int]:
    """The rollup contributions of stored impressions matching ``where``, read in chunks."""
    rollups = Rollups(quality_seconds)
    query = select(*(impressions.c[c] for c in _STORED))
    if where is not None:
        query = query.where(where)
    count = 0
    result = conn.execute(query.execution_options(yield_per=chunk_rows))
    for part in result.partitions(chunk_rows):
        frame = pd.DataFrame(part, columns=_STORED)
        coded = {}
        for name in ("policy", "experiment", "cell", "country", "device"):
            codes, values = pd.factorize(frame[name].astype(object))
            coded[name] = (codes.astype(np.int32), np.asarray(values, dtype=object))
        rollups.add(Rows({c: frame[c].to_numpy() for c in ("day", "variant_id", "title_id", "played",
                                                            "play_seconds")}
                         | {"event_key": np.zeros(len(frame), dtype=np.int64)}, coded))
        count += len(frame)
    return rollups, count


def write_rollups(conn: Connection, rollups: Rollups, sign: int) -> None:
    """Add (``sign`` 1) or take away (``sign`` −1) contributions from the stored rollups."""
    from sqlalchemy import delete

    writer = Writer(conn, 0)
    try:
        for table, keys, sums in ((rollup_variants, VARIANT_KEYS, rollups.total_variants()),
                                  (rollup_cells, CELL_KEYS, rollups.total_cells()),
                                  (rollup_segments, SEGMENT_KEYS, rollups.total_segments())):
            if not sums.empty:
                for c in SUMS:
                    sums[c] = sign * sums[c]
                writer.add_rollups(table, keys, sums)
                if sign < 0:
                    conn.execute(delete(table).where(table.c.impressions <= 0))
    finally:
        writer.close()


def rebuild_rollups(engine: Engine, quality_seconds: float, chunk_rows: int = 500_000,
                    progress: Callable[[int], None] | None = None) -> int:
    """Recompute every rollup from the stored impressions with ``quality_seconds`` as the
    quality-play threshold (after the setting changed), in one transaction. Returns the number
    of impressions read."""
    from sqlalchemy import delete, update

    if not quality_seconds >= 0:
        raise ValidationError("the quality-play threshold must be a number of seconds ≥ 0")
    with one_writer(engine) as conn:
        for table in (rollup_variants, rollup_cells, rollup_segments):
            conn.execute(delete(table))
        rollups, count = stored_rollups(conn, None, quality_seconds, chunk_rows)
        if progress:
            progress(count)
        write_rollups(conn, rollups, +1)
        conn.execute(update(imports).values(quality_seconds=quality_seconds))
    return count
