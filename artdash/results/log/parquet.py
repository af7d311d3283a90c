"""The impression log as Parquet files partitioned by day — the embedded default.

    <folder>/day=20393/import-12-0.parquet      one file (or a few) per day per import

Files are written from Arrow batches and never changed; DuckDB (in memory, a new connection
per question) reads them in place, in parallel, and computes the rollups with GROUP BY; Spark
or any lake engine can read the same folder (``day`` is a Hive partition).

What is in the log is decided by the results database: a file belongs to the log only while
its import is listed in ``results_imports``. So an import is atomic: its files are written in
``_staging/`` while the rows are checked, moved into place, and the import's row and rollups
are committed — a crash before that commit leaves files no reader counts, and the next import
clears them away. Removing an import takes its row out first and its files after.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, select

from artdash.db.results_schema import imports
from artdash.errors import ValidationError
from artdash.results.log.grouping import rollup_queries
from artdash.results.validate import Rows

# What each file holds (``day`` is in its folder's name).
SCHEMA = pa.schema([
    ("event_key", pa.int64()), ("event_id", pa.string()), ("ts", pa.int64()), ("member_id", pa.string()),
    ("title_id", pa.int32()), ("variant_id", pa.int32()), ("policy", pa.string()), ("experiment", pa.string()),
    ("cell", pa.string()), ("propensity", pa.float64()), ("played", pa.int8()), ("play_seconds", pa.float64()),
    ("country", pa.string()), ("device", pa.string()), ("import_id", pa.int32()), ("row", pa.int64()),
])
FILE_NAME = re.compile(r"^import-(\d{1,9})-(\d{1,6})\.parquet$")
DAY_FOLDER = re.compile(r"^day=(-?\d{1,7})$")
STAGING = "_staging"
TRASH = "_removed"
FLUSH_ROWS = 1_000_000     # rows buffered before they are written out (per day, as row groups)
MAX_OPEN_FILES = 128       # a log of many days closes its files and starts a new part per day
TEXT_COLUMNS = ("policy", "experiment", "cell", "country", "device")


@dataclass(frozen=True)
class LogFile:
    """One file of the log: where it is, its day and its import."""
    path: Path
    day: int
    import_id: int


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


DUCKDB_MEMORY = "1GB"


def _duckdb(spill: Path) -> Any:
    import duckdb

    # A memory ceiling (by default DuckDB takes 80 % of RAM); beyond it, spill into the log's folder.
    return duckdb.connect(config={"threads": 2, "preserve_insertion_order": False, "memory_limit": DUCKDB_MEMORY,
                                  "temp_directory": str(spill)})


def scan_sql(files: Sequence[LogFile]) -> str:
    """A DuckDB relation over ``files`` (with ``day`` from their folders)."""
    listed = ", ".join(_quote(f.path) for f in files)
    return f"read_parquet([{listed}], hive_partitioning = true, hive_types = {{'day': INTEGER}})"


def list_files(folder: Path) -> list[LogFile]:
    """Every file under ``folder`` named as the log names them (staging not included)."""
    out: list[LogFile] = []
    if not folder.is_dir():
        return out
    for day_dir in folder.iterdir():
        day = DAY_FOLDER.match(day_dir.name)
        if not day or not day_dir.is_dir():
            continue
        for file in day_dir.iterdir():
            name = FILE_NAME.match(file.name)
            if name:
                out.append(LogFile(file, int(day.group(1)), int(name.group(1))))
    return sorted(out, key=lambda f: (f.day, f.import_id, f.path.name))


def to_arrow(rows: Rows, import_id: int, first_row: int) -> pa.Table:
    """Validated rows as a table of the log's schema."""
    n = len(rows)
    c = rows.columns
    arrays: dict[str, Any] = {
        "event_key": pa.array(c["event_key"], pa.int64()), "event_id": pa.array(c["event_id"], pa.string()),
        "ts": pa.array(c["ts"], pa.int64()), "member_id": pa.array(c["member_id"], pa.string()),
        "title_id": pa.array(c["title_id"].astype(np.int32)), "variant_id": pa.array(c["variant_id"].astype(np.int32)),
        "propensity": pa.array(c["propensity"], pa.float64()), "played": pa.array(c["played"].astype(np.int8)),
        "play_seconds": pa.array(c["play_seconds"], pa.float64()),
        "import_id": pa.array(np.full(n, import_id, dtype=np.int32)),
        "row": pa.array(np.arange(first_row, first_row + n, dtype=np.int64)),
    }
    for name in TEXT_COLUMNS:
        codes, values = rows.coded[name]
        arrays[name] = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()),
                                                      pa.array(values, pa.string())).cast(pa.string())
    return pa.table([arrays[f.name] for f in SCHEMA], schema=SCHEMA)


class ParquetLog:
    """The impression log in a folder of Parquet files, committed through the results database."""

    kind = "parquet"

    def __init__(self, engine: Engine, folder: Path):
        check_folder(Path(folder))
        self.engine = engine
        self.folder = Path(folder)

    def describe(self) -> str:
        """Where the impressions are, for people."""
        return f"Parquet files by day in {self.folder}"

    # --- what is in the log ------------------------------------------------------------------

    @staticmethod
    def committed(conn: Connection) -> set[int]:
        """Ids of the imports the results database lists."""
        return set(conn.execute(select(imports.c.id)).scalars())

    def files(self, conn: Connection, import_ids: Iterable[int] | None = None) -> list[LogFile]:
        """The files of committed imports (of ``import_ids`` only, if given)."""
        wanted = self.committed(conn)
        if import_ids is not None:
            wanted &= set(import_ids)
        return [f for f in list_files(self.folder) if f.import_id in wanted]

    @contextmanager
    def scan(self, conn: Connection, import_ids: Iterable[int] | None = None) -> Iterator[tuple[Any, str | None]]:
        """(DuckDB connection, relation) over the committed files; the relation is None when
        the log is empty."""
        files = self.files(conn, import_ids)
        duck = _duckdb(self.folder / STAGING / "duckdb-spill")
        try:
            yield duck, (scan_sql(files) if files else None)
        finally:
            duck.close()

    def count(self, conn: Connection) -> int:
        """How many impressions the log holds (from the files' footers, not their rows)."""
        return sum(pq.ParquetFile(f.path).metadata.num_rows for f in self.files(conn))

    def next_import_id(self, conn: Connection) -> int:
        """An id no import and no file on disk has: files of a removed import may still be
        on their way out, and must never be taken for a new import's."""
        on_disk = [f.import_id for f in list_files(self.folder)]
        return max([*self.committed(conn), *on_disk, 0]) + 1

    def prepare(self, conn: Connection) -> None:
        """Before an import (holding the write lock): clear files that no committed import
        owns (left by a crash) and any staging left behind; put back the files of a removal
        that did not commit."""
        committed = self.committed(conn)
        trash = self.folder / TRASH
        if trash.is_dir():
            for folder in trash.iterdir():
                name = re.fullmatch(r"import-(\d+)", folder.name)
                if name and int(name.group(1)) in committed:
                    self._move_all(folder, self.folder)
                shutil.rmtree(folder, ignore_errors=True)
            _rmdir(trash)
        for f in list_files(self.folder):
            if f.import_id not in committed:
                f.path.unlink(missing_ok=True)
        shutil.rmtree(self.folder / STAGING, ignore_errors=True)

    @staticmethod
    def _move_all(source: Path, target: Path) -> None:
        for f in list_files(source):
            folder = target / f"day={f.day}"
            folder.mkdir(parents=True, exist_ok=True)
            f.path.replace(folder / f.path.name)

    def check(self, conn: Connection) -> tuple[list[str], list[Path]]:
        """(problems, leftovers): imports whose files are missing, short or unreadable; and
        files no committed import owns, staging and removal leftovers (cleared by
        :meth:`prepare`, which the next import runs anyway)."""
        expected = {int(r.id): int(r.n_rows) - int(r.n_already_present) - int(r.n_skipped)
                    for r in conn.execute(select(imports.c.id, imports.c.n_rows, imports.c.n_already_present,
                                                 imports.c.n_skipped).where(imports.c.kind != "source"))}
        found: dict[int, int] = {}
        problems, leftovers = [], []
        for f in list_files(self.folder):
            if f.import_id not in expected:
                leftovers.append(f.path)
                continue
            try:
                found[f.import_id] = found.get(f.import_id, 0) + pq.ParquetFile(f.path).metadata.num_rows
            except Exception as exc:  # noqa: BLE001 — any unreadable file is reported, not raised
                problems.append(f"{f.path.name} of import #{f.import_id} cannot be read ({str(exc)[:80]})")
        for import_id, n in sorted(expected.items()):
            if found.get(import_id, 0) != n:
                problems.append(f"import #{import_id} should hold {n:,} impressions, its files hold "
                                f"{found.get(import_id, 0):,} — remove it and import the file again")
        for extra in (STAGING, TRASH):
            if (self.folder / extra).exists():
                leftovers += [p for p in (self.folder / extra).rglob("*") if p.is_file()]
        return problems, leftovers

    def known_keys(self, conn: Connection) -> np.ndarray:
        """Sorted event keys of every committed impression (idempotent imports)."""
        with self.scan(conn) as (duck, relation):
            if relation is None:
                return np.empty(0, dtype=np.int64)
            keys = duck.execute(f"SELECT event_key FROM {relation}").fetchnumpy()["event_key"]
        return np.sort(np.asarray(keys, dtype=np.int64))

    # --- writing -----------------------------------------------------------------------------

    def writer(self, conn: Connection, import_id: int) -> ParquetWriter:
        """A writer for one import, staging its files until :meth:`ParquetWriter.publish`."""
        return ParquetWriter(self, import_id, self.known_keys(conn))

    def contributions(self, conn: Connection, import_ids: Iterable[int] | None,
                      quality_seconds: float) -> dict[str, pd.DataFrame]:
        """The rollup rows of the committed impressions (of ``import_ids``), by grain."""
        with self.scan(conn, import_ids) as (duck, relation):
            return _group(duck, relation, quality_seconds)

    def drop_rows(self, conn: Connection, import_id: int) -> None:
        """Take an import's files out of the log (into ``_removed/``), in the removal's
        transaction and under its lock: :meth:`remove` deletes them once it has committed,
        :meth:`restore` puts them back if it did not (and so does the next import's
        :meth:`prepare`, after a crash)."""
        trash = self.folder / TRASH / f"import-{import_id}"
        for f in list_files(self.folder):
            if f.import_id == import_id:
                folder = trash / f"day={f.day}"
                folder.mkdir(parents=True, exist_ok=True)
                f.path.replace(folder / f.path.name)
        for day_dir in self.folder.glob("day=*"):
            _rmdir(day_dir)  # only if empty

    def restore(self, import_id: int) -> None:
        """Put back the files of a removal that failed."""
        trash = self.folder / TRASH / f"import-{import_id}"
        if trash.is_dir():
            self._move_all(trash, self.folder)
            shutil.rmtree(trash, ignore_errors=True)
            _rmdir(self.folder / TRASH)

    def remove(self, import_id: int) -> None:
        """Delete a removed import's files for good (after its removal committed)."""
        shutil.rmtree(self.folder / TRASH / f"import-{import_id}", ignore_errors=True)
        _rmdir(self.folder / TRASH)

    def query(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """An aggregate over the committed impressions, by DuckDB: ``sql`` names them ``{log}``
        and takes ``?`` parameters. None committed: the query runs on an empty relation."""
        with self.scan(conn) as (duck, relation):
            if relation is None:                  # the same columns, no rows
                empty = SCHEMA.empty_table()
                if "day" not in SCHEMA.names:
                    empty = empty.append_column("day", pa.array([], pa.int32()))
                duck.register("empty_log", empty)
                relation = "empty_log"
            return duck.execute(sql.replace("{log}", f"(SELECT * FROM {relation}) AS log_rows"), list(params)).df()

    def frame(self, conn: Connection, columns: Sequence[str], where: str = "", params: Sequence[Any] = (),
              limit: int | None = None) -> pd.DataFrame:
        """Columns of the committed impressions matching ``where`` (DuckDB SQL with ``?``
        parameters), in log order (time, then import, then row)."""
        with self.scan(conn) as (duck, relation):
            if relation is None:
                return pd.DataFrame(columns=list(columns))
            sql = (f"SELECT {', '.join(columns)} FROM {relation}" + (f" WHERE {where}" if where else "")
                   + " ORDER BY ts, import_id, row" + (f" LIMIT {int(limit)}" if limit else ""))
            return duck.execute(sql, list(params)).df()

    def write_import(self, import_id: int, tables: Iterable[pa.Table]) -> ParquetWriter:
        """Stage already-typed tables of one import (carrying rows over, restoring)."""
        writer = ParquetWriter(self, import_id, np.empty(0, dtype=np.int64))
        for table in tables:
            writer.add_table(table)
        return writer


def _rmdir(folder: Path) -> None:
    """Remove ``folder`` if it is empty."""
    try:
        folder.rmdir()
    except OSError:
        pass


def _group(duck: Any, relation: str | None, quality_seconds: float) -> dict[str, pd.DataFrame]:
    if relation is None:
        return {}
    duck.execute(f"CREATE OR REPLACE TEMP VIEW log AS SELECT * FROM {relation}")
    return {grain: duck.execute(sql).df() for grain, sql in rollup_queries("log", quality_seconds).items()}


class ParquetWriter:
    """Stages one import's rows as Parquet files, one per day (row groups as rows arrive)."""

    def __init__(self, log: ParquetLog, import_id: int, known: np.ndarray):
        self.log = log
        self.import_id = import_id
        self.known = known
        self.stage = log.folder / STAGING / f"import-{import_id}"
        shutil.rmtree(self.stage, ignore_errors=True)
        try:
            self.stage.mkdir(parents=True)
        except OSError as exc:
            raise ValidationError(f"cannot write to the impression log folder {log.folder} ({exc.strerror}); give "
                                  "ArtDash a folder it may write (ARTDASH_RESULTS_LOG_DIR) — nothing was imported") from None
        self._buffer: dict[int, list[pa.Table]] = {}
        self._buffered = 0
        self._open: dict[int, pq.ParquetWriter] = {}
        self._part: dict[int, int] = {}
        self._rows = 0
        self._closed = False

    def insert(self, rows: Rows) -> np.ndarray:
        """Stage the rows not yet in the log; returns a mask of the rows that were new."""
        keys = rows.columns["event_key"]
        if len(self.known):
            at = np.minimum(np.searchsorted(self.known, keys), len(self.known) - 1)
            new = self.known[at] != keys
        else:
            new = np.ones(len(keys), dtype=bool)
        fresh = rows if new.all() else rows.take(np.flatnonzero(new))
        if len(fresh):
            self.add_table(to_arrow(fresh, self.import_id, self._rows), fresh.columns["day"])
        return new

    def add_table(self, table: pa.Table, days: np.ndarray | None = None) -> None:
        """Stage a table of the log's schema (plus ``day`` when ``days`` is not given)."""
        if days is None:
            days = table.column("day").to_numpy()
            table = table.drop_columns(["day"])
        self._rows += table.num_rows
        order = np.argsort(days, kind="stable")
        days = days[order]
        table = table.take(pa.array(order))
        edges = np.flatnonzero(np.r_[True, days[1:] != days[:-1], True])
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
                self._open[day] = pq.ParquetWriter(folder / f"import-{self.import_id}-{part}.parquet", SCHEMA,
                                                   compression="zstd")
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

    def contributions(self, quality_seconds: float) -> dict[str, pd.DataFrame]:
        """The rollup rows of this import's staged impressions, by grain."""
        self.close()
        files = self.staged()
        duck = _duckdb(self.stage.parent / "duckdb-spill")
        try:
            return _group(duck, scan_sql(files) if files else None, quality_seconds)
        finally:
            duck.close()

    finds_duplicates = True   # repeated event ids are found in the staged files: no keys kept in Python

    def repeated_keys(self) -> int:
        """How many staged rows repeat an event key staged before them (DuckDB, under its cap)."""
        self.close()
        files = self.staged()
        if not files:
            return 0
        duck = _duckdb(self.stage.parent / "duckdb-spill")
        try:
            found = duck.execute(f"SELECT count(*) - count(DISTINCT event_key) FROM {scan_sql(files)}").fetchone()
            return int(found[0]) if found else 0
        finally:
            duck.close()

    def publish(self) -> None:
        """Move the staged files into the log (they count once the import's row commits)."""
        self.close()
        for f in self.staged():
            target = self.log.folder / f"day={f.day}"
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


def check_folder(folder: Path) -> None:
    """Refuse a log folder that is a file, or that cannot be written."""
    if folder.exists() and not folder.is_dir():
        raise ValidationError(f"the impression log folder {folder} is a file; point ARTDASH_RESULTS_LOG_DIR at a folder")
