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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Engine, select

from artdash.db.results_schema import imports
from artdash.errors import ValidationError
from artdash.results.log.files import (
    SCHEMA,
    STAGING,
    TRASH,
    LogFile,
    duckdb_connection,
    group_rollups,
    list_files,
    rmdir_if_empty,
    scan_sql,
)
from artdash.results.log.staging import ParquetWriter

__all__ = ["SCHEMA", "STAGING", "LogFile", "ParquetLog", "ParquetWriter", "check_folder", "list_files"]


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
        duck = duckdb_connection(self.folder / STAGING / "duckdb-spill")
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
            rmdir_if_empty(trash)
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

    def stored_rows(self, conn: Connection, keys: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
        """``event_key`` and ``columns`` of the committed impressions with one of ``keys``."""
        with self.scan(conn) as (duck, relation):
            if relation is None or not len(keys):
                return pd.DataFrame(columns=["event_key", *columns])
            duck.register("wanted_keys", pa.table({"event_key": pa.array(np.unique(keys), pa.int64())}))
            return duck.execute(f"SELECT event_key, {', '.join(columns)} FROM {relation} "
                                "SEMI JOIN wanted_keys USING (event_key)").df()

    # --- writing -----------------------------------------------------------------------------

    def writer(self, conn: Connection, import_id: int) -> ParquetWriter:
        """A writer for one import, staging its files until :meth:`ParquetWriter.publish`."""
        return ParquetWriter(self.folder, import_id, self.known_keys(conn))

    def contributions(self, conn: Connection, import_ids: Iterable[int] | None,
                      quality_seconds: float) -> dict[str, pd.DataFrame]:
        """The rollup rows of the committed impressions (of ``import_ids``), by grain."""
        with self.scan(conn, import_ids) as (duck, relation):
            return group_rollups(duck, relation, quality_seconds)

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
            rmdir_if_empty(day_dir)  # only if empty

    def restore(self, import_id: int) -> None:
        """Put back the files of a removal that failed."""
        trash = self.folder / TRASH / f"import-{import_id}"
        if trash.is_dir():
            self._move_all(trash, self.folder)
            shutil.rmtree(trash, ignore_errors=True)
            rmdir_if_empty(self.folder / TRASH)

    def remove(self, import_id: int) -> None:
        """Delete a removed import's files for good (after its removal committed)."""
        shutil.rmtree(self.folder / TRASH / f"import-{import_id}", ignore_errors=True)
        rmdir_if_empty(self.folder / TRASH)

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
        writer = ParquetWriter(self.folder, import_id, np.empty(0, dtype=np.int64))
        for table in tables:
            writer.add_table(table)
        return writer


def check_folder(folder: Path) -> None:
    """Refuse a log folder that is a file, or that cannot be written."""
    if folder.exists() and not folder.is_dir():
        raise ValidationError(f"the impression log folder {folder} is a file; point ARTDASH_RESULTS_LOG_DIR at a folder")
