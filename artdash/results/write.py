"""Writing validated rows into the impressions table (key-sorted batches on SQLite, COPY on PostgreSQL), one writer at a time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Engine, func, select

from artdash.db.results_schema import (
    impressions,
)
from artdash.errors import ValidationError
from artdash.results.validate import IngestError, Rows

KEY_BATCH = 5000
# --- writing ---------------------------------------------------------------------------------

_IMPRESSION_COLUMNS = [c.name for c in impressions.columns]


def _placeholders(conn: Connection, n: int) -> str:
    style = conn.dialect.paramstyle
    if style == "qmark":
        return ", ".join("?" * n)
    if style in ("format", "pyformat"):
        return ", ".join(["%s"] * n)
    if style == "numeric_dollar":
        return ", ".join(f"${i}" for i in range(1, n + 1))
    if style == "numeric":
        return ", ".join(f":{i}" for i in range(1, n + 1))
    raise ValidationError(f"unsupported database parameter style {style!r}")


def _tuples(frame: pd.DataFrame, columns: list[str]) -> list[tuple[Any, ...]]:
    return list(zip(*[frame[c].tolist() for c in columns]))


class Writer:
    """Writes impressions and rollups on one connection, in the caller's transaction."""

    def __init__(self, conn: Connection, import_id: int):
        self.conn = conn
        self.import_id = import_id
        self.next_id = (conn.execute(select(func.max(impressions.c.id))).scalar() or 0) + 1
        self.dialect = conn.dialect.name
        driver = conn.connection.driver_connection
        assert driver is not None  # an open connection
        self.dbapi: Any = driver
        if self.dialect == "sqlite":
            # A large page cache for the import: inserts by hashed key touch pages all over the table.
            self._old_cache = self.dbapi.execute("PRAGMA cache_size").fetchone()[0]
            self.dbapi.execute("PRAGMA cache_size = -262144")
        if self.dialect == "postgresql":
            conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS impressions_stage "
                                 "(LIKE impressions INCLUDING DEFAULTS) ON COMMIT DROP")

    def close(self) -> None:
        """Restore what the writer changed on the connection (SQLite's page cache)."""
        if self.dialect == "sqlite":
            self.dbapi.execute(f"PRAGMA cache_size = {int(self._old_cache)}")

    def insert(self, rows: Rows) -> np.ndarray:
        """Insert rows not yet in the log; returns a mask of the rows that were new."""
        rows.columns["id"] = np.arange(self.next_id, self.next_id + len(rows), dtype=np.int64)
        self.next_id += len(rows)
        if self.dialect == "postgresql":
            return self._copy(rows)
        sql_verb = "INSERT OR IGNORE" if self.dialect == "sqlite" else "INSERT"
        conflict = "" if self.dialect == "sqlite" else " ON CONFLICT (event_key) DO NOTHING"
        sql = (f"{sql_verb} INTO impressions ({', '.join(_IMPRESSION_COLUMNS)}) "
               f"VALUES ({_placeholders(self.conn, len(_IMPRESSION_COLUMNS))}){conflict}")
        if self.dialect != "sqlite":
            # Without a reliable row count from executemany, look the keys up first.
            keys = rows.column("event_key")
            new = ~np.isin(keys, np.fromiter(self._present(keys, other_imports=False), np.int64))
            if new.any():
                self.conn.exec_driver_sql(sql, rows.take(np.flatnonzero(new)).tuples(_IMPRESSION_COLUMNS))
            return new
        cursor = self.dbapi.cursor()
        cursor.executemany(sql, rows.tuples(_IMPRESSION_COLUMNS))
        return self._new_rows(rows, cursor.rowcount)

    def _new_rows(self, rows: Rows, inserted: int) -> np.ndarray:
        """Which rows were new, given how many the database inserted (all, nearly always)."""
        if inserted == len(rows):
            return np.ones(len(rows), dtype=bool)
        keys = rows.column("event_key")
        return ~np.isin(keys, np.fromiter(self._present(keys, other_imports=True), np.int64))

    def _copy(self, rows: Rows) -> np.ndarray:
        import pyarrow.csv as pacsv

        buffer = io.BytesIO()
        table = pa.table({c: pa.array(rows.column(c)) for c in _IMPRESSION_COLUMNS})
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
        columns = ", ".join(_IMPRESSION_COLUMNS)
        with self.dbapi.cursor() as cursor:
            cursor.execute("TRUNCATE impressions_stage")
            with cursor.copy(f"COPY impressions_stage ({columns}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            cursor.execute(f"INSERT INTO impressions ({columns}) SELECT {columns} FROM impressions_stage "
                           "ON CONFLICT (event_key) DO NOTHING")
            inserted = cursor.rowcount
        return self._new_rows(rows, inserted)

    def _present(self, keys: np.ndarray, other_imports: bool) -> set[int]:
        """Keys already in the log (from earlier imports when ``other_imports``)."""
        found: set[int] = set()
        extra = f" AND import_id <> {int(self.import_id)}" if other_imports else ""
        for start in range(0, len(keys), KEY_BATCH):
            batch = keys[start:start + KEY_BATCH].tolist()
            sql = (f"SELECT event_key FROM impressions WHERE event_key IN "
                   f"({_placeholders(self.conn, len(batch))}){extra}")
            found.update(row[0] for row in self.conn.exec_driver_sql(sql, tuple(batch)))
        return found


@contextmanager
def one_writer(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the results database's write lock from its first statement:
    import and row ids come from max(id), so imports (and deletions) take turns; readers are
    never blocked. A second writer waits (SQLite: up to the busy timeout) and is then told."""
    from sqlalchemy.exc import OperationalError

    with engine.connect() as conn:
        dbapi: Any = conn.connection.driver_connection
        sqlite = conn.dialect.name == "sqlite"
        old_level = dbapi.isolation_level if sqlite else None
        try:
            if sqlite:
                dbapi.isolation_level = "IMMEDIATE"  # the implicit BEGIN takes the write lock at once
            with conn.begin():
                try:
                    if sqlite:
                        conn.exec_driver_sql("DELETE FROM results_imports WHERE 1 = 0")
                    elif conn.dialect.name == "postgresql":
                        conn.exec_driver_sql("LOCK TABLE results_imports IN EXCLUSIVE MODE")
                except OperationalError as exc:
                    if "locked" in str(exc):
                        raise IngestError("another import into the results database is still running; "
                                          "try again when it has finished (nothing was imported)") from None
                    raise
                yield conn
        finally:
            if sqlite:
                dbapi.isolation_level = old_level
