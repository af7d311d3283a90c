"""Staging one import's rows as Parquet files (one per day, row groups as rows arrive), moved
into the log only when the import commits."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from artdash.errors import ValidationError
from artdash.results.log.files import (
    FLUSH_ROWS,
    MAX_OPEN_FILES,
    STAGING,
    WRITE_OPTIONS,
    WRITE_SCHEMA,
    LogFile,
    duckdb_connection,
    group_rollups,
    list_files,
    scan_sql,
    to_arrow,
)
from artdash.results.validate import Rows


@dataclass(frozen=True)
class Staged:
    """A chunk ready to stage: its new rows in day order, the days, where each day starts (and
    the end), and which of the chunk's rows were new."""
    table: pa.Table
    days: np.ndarray
    edges: np.ndarray
    new: np.ndarray


def _by_day(table: pa.Table, days: np.ndarray, new: np.ndarray) -> Staged:
    if len(days) > 1 and (days[1:] < days[:-1]).any():   # a log in time order needs no reordering
        order = np.argsort(days, kind="stable")
        days = days[order]
        table = table.take(pa.array(order))
    edges = np.flatnonzero(np.r_[True, days[1:] != days[:-1], True]) if len(days) else np.zeros(1, dtype=np.int64)
    return Staged(table, days, edges, new)


class ParquetWriter:
    """Stages one import's rows as Parquet files, one per day (row groups as rows arrive)."""

    def __init__(self, folder: Path, import_id: int, known: np.ndarray):
        self.folder = folder
        self.import_id = import_id
        self.known = known
        self.stage = folder / STAGING / f"import-{import_id}"
        shutil.rmtree(self.stage, ignore_errors=True)
        try:
            self.stage.mkdir(parents=True)
        except OSError as exc:
            raise ValidationError(f"cannot write to the impression log folder {folder} ({exc.strerror}); give "
                                  "ArtDash a folder it may write (ARTDASH_RESULTS_LOG_DIR) — nothing was imported") from None
        self._buffer: dict[int, list[pa.Table]] = {}
        self._buffered = 0
        self._open: dict[int, pq.ParquetWriter] = {}
        self._part: dict[int, int] = {}
        self._rows = 0          # rows staged
        self._numbered = 0      # rows numbered (prepared), a chunk or two ahead of those staged
        self._closed = False

    def prepare(self, rows: Rows) -> Staged:
        """The work on one chunk that needs nothing staged before it: which rows are new, and
        those as a table in day order. Called in file order; may run on the reader thread, while
        :meth:`insert` writes the chunk before."""
        keys = rows.columns["event_key"]
        if len(self.known):
            at = np.minimum(np.searchsorted(self.known, keys), len(self.known) - 1)
            new = self.known[at] != keys
        else:
            new = np.ones(len(keys), dtype=bool)
        fresh = rows if new.all() else rows.take(np.flatnonzero(new))
        table = to_arrow(fresh, self.import_id, self._numbered)
        self._numbered += table.num_rows
        return _by_day(table, fresh.columns["day"], new)

    def insert(self, staged: Staged) -> np.ndarray:
        """Stage a prepared chunk's new rows; returns a mask of the rows that were new."""
        self._stage(staged)
        return staged.new

    def add_table(self, table: pa.Table, days: np.ndarray | None = None) -> None:
        """Stage a table of the log's schema (plus ``day`` when ``days`` is not given)."""
        if days is None:
            days = table.column("day").to_numpy()
            table = table.drop_columns(["day"])
        table = table.select(WRITE_SCHEMA.names).cast(WRITE_SCHEMA)
        self._numbered += table.num_rows
        self._stage(_by_day(table, days, np.ones(table.num_rows, dtype=bool)))

    def _stage(self, staged: Staged) -> None:
        table, days, edges = staged.table, staged.days, staged.edges
        self._rows += table.num_rows
        for start, stop in zip(edges[:-1], edges[1:]):
            self._buffer.setdefault(int(days[start]), []).append(table.slice(start, stop - start))
        self._buffered += table.num_rows
        if self._buffered >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        for day, parts in self._buffer.items():
            if day not in self._open:
                if len(self._open) >= MAX_OPEN_FILES:
                    self._close_files()
                part = self._part.get(day, 0)
                self._part[day] = part + 1
                folder = self.stage / f"day={day}"
                folder.mkdir(exist_ok=True)
                self._open[day] = pq.ParquetWriter(folder / f"import-{self.import_id}-{part}.parquet",
                                                   WRITE_SCHEMA, **WRITE_OPTIONS)
            self._open[day].write_table(pa.concat_tables(parts))
        self._buffer.clear()
        self._buffered = 0

    def _close_files(self) -> None:
        for writer in self._open.values():
            writer.close()
        self._open.clear()

    def close(self) -> None:
        """Write what is buffered and close every file (idempotent)."""
        if not self._closed:
            self._flush()
            self._close_files()
            self._closed = True

    @property
    def n_rows(self) -> int:
        """Rows staged so far."""
        return self._rows

    def staged(self) -> list[LogFile]:
        """The files staged so far (after :meth:`close`)."""
        return list_files(self.stage)

    def contributions(self, quality_seconds: float) -> dict[str, pa.Table]:
        """The rollup rows of this import's staged impressions, by grain (Arrow tables)."""
        self.close()
        files = self.staged()
        duck = duckdb_connection(self.stage.parent / "duckdb-spill")
        try:
            return group_rollups(duck, scan_sql(files) if files else None, quality_seconds, arrow=True)
        finally:
            duck.close()

    finds_duplicates = True   # repeated event ids are found in the staged files: no keys kept in Python

    def repeated_keys(self) -> int:
        """How many staged rows repeat an event key staged before them (DuckDB, under its cap)."""
        self.close()
        files = self.staged()
        if not files:
            return 0
        duck = duckdb_connection(self.stage.parent / "duckdb-spill")
        try:
            found = duck.execute(f"SELECT count(*) - count(DISTINCT event_key) FROM {scan_sql(files)}").fetchone()
            return int(found[0]) if found else 0
        finally:
            duck.close()

    def publish(self) -> None:
        """Move the staged files into the log (they count once the import's row commits)."""
        self.close()
        for f in self.staged():
            target = self.folder / f"day={f.day}"
            target.mkdir(parents=True, exist_ok=True)
            f.path.replace(target / f.path.name)
        self._clear_stage()

    def _clear_stage(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)
        try:
            self.stage.parent.rmdir()  # the staging folder, once no import is staged in it
        except OSError:
            pass

    def discard(self) -> None:
        """Drop everything staged (a refused import)."""
        try:
            self._close_files()
        finally:
            self._closed = True
            self._clear_stage()
