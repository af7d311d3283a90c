"""The impression log as a table of the results database — for teams whose results live in
PostgreSQL (rows arrive by COPY; the rollups are computed by the database with GROUP BY). The
same class works on SQLite, which is how the benchmarks compare it with the Parquet log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, select, text

from artdash.db.results_schema import imports, impressions
from artdash.results.log.grouping import rollup_queries
from artdash.results.validate import Rows
from artdash.results.write import KEY_BATCH, Writer


def _source(import_ids: Iterable[int] | None) -> str:
    if import_ids is None:
        return "impressions"
    ids = ", ".join(str(int(i)) for i in import_ids) or "NULL"
    return f"(SELECT * FROM impressions WHERE import_id IN ({ids})) AS src"


def group(conn: Connection, import_ids: Iterable[int] | None, quality_seconds: float) -> dict[str, pd.DataFrame]:
    """The rollup rows of the stored impressions (of ``import_ids``), computed by the database."""
    out = {}
    for grain, sql in rollup_queries(_source(import_ids), quality_seconds).items():
        result = conn.execute(text(sql))
        out[grain] = pd.DataFrame(result.all(), columns=list(result.keys()))
    return out


def _bound(sql: str, params: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
    """``?`` parameters (as DuckDB takes them) as named ones SQLAlchemy binds."""
    names = iter(range(len(params)))
    return text("".join(f":p{next(names)}" if ch == "?" else ch for ch in sql)), {f"p{i}": p for i, p in enumerate(params)}


class TableLog:
    """The impression log in the ``impressions`` table of the results database."""

    kind = "table"

    def __init__(self, engine: Engine):
        self.engine = engine

    def describe(self) -> str:
        """Where the impressions are, for people."""
        return f"the impressions table of the results database ({self.engine.dialect.name})"

    def count(self, conn: Connection) -> int:
        """How many impressions the table holds."""
        return conn.execute(select(func.count()).select_from(impressions)).scalar() or 0

    def next_import_id(self, conn: Connection) -> int:
        """The next import's id."""
        return (conn.execute(select(func.max(imports.c.id))).scalar() or 0) + 1

    def prepare(self, conn: Connection) -> None:
        """Nothing to clear: a failed import rolled back with its transaction."""

    def writer(self, conn: Connection, import_id: int) -> TableWriter:
        """A writer for one import, in the caller's transaction."""
        return TableWriter(conn, import_id)

    def contributions(self, conn: Connection, import_ids: Iterable[int] | None,
                      quality_seconds: float) -> dict[str, pd.DataFrame]:
        """The rollup rows of the stored impressions (of ``import_ids``), by grain."""
        return group(conn, import_ids, quality_seconds)

    def drop_rows(self, conn: Connection, import_id: int) -> None:
        """Delete an import's rows (in the caller's transaction)."""
        conn.execute(delete(impressions).where(impressions.c.import_id == import_id))

    def restore(self, import_id: int) -> None:
        """Nothing to put back: the rollback keeps the rows."""

    def remove(self, import_id: int) -> None:
        """Nothing left to do after the commit: the rows went with it."""

    def stored_rows(self, conn: Connection, keys: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
        """``event_key`` and ``columns`` of the stored impressions with one of ``keys``."""
        parts = []
        wanted = np.unique(keys)
        for start in range(0, len(wanted), KEY_BATCH):
            batch = wanted[start:start + KEY_BATCH]
            sql = (f"SELECT event_key, {', '.join(columns)} FROM impressions "
                   f"WHERE event_key IN ({', '.join('?' * len(batch))})")
            parts.append(self.query_rows(conn, sql, batch.tolist(), ["event_key", *columns]))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["event_key", *columns])

    @staticmethod
    def query_rows(conn: Connection, sql: str, params: Sequence[Any], columns: list[str]) -> pd.DataFrame:
        """Rows of a ``?``-parameter query as a frame of ``columns``."""
        return pd.DataFrame(conn.execute(*_bound(sql, params)).all(), columns=columns)

    def query(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """An aggregate over the stored impressions: ``sql`` names them ``{log}`` and takes
        ``?`` parameters (portable SQL: it runs on DuckDB over Parquet too)."""
        result = conn.execute(*_bound(sql.replace("{log}", "impressions"), params))
        return pd.DataFrame(result.all(), columns=list(result.keys()))

    def frame(self, conn: Connection, columns: Sequence[str], where: str = "", params: Sequence[Any] = (),
              limit: int | None = None) -> pd.DataFrame:
        """Columns of the stored impressions matching ``where`` (SQL with ``?`` parameters),
        in log order."""
        sql = (f"SELECT {', '.join(columns)} FROM impressions" + (f" WHERE {where}" if where else "")
               + " ORDER BY ts, import_id, id" + (f" LIMIT {int(limit)}" if limit else ""))
        result = conn.execute(*_bound(sql, params))
        return pd.DataFrame(result.all(), columns=list(columns))


class TableWriter:
    """Inserts one import's rows into the table (COPY on PostgreSQL), in one transaction."""

    finds_duplicates = False   # the import keeps each row's key and finds repeats itself

    def __init__(self, conn: Connection, import_id: int):
        self.conn = conn
        self.import_id = import_id
        self._writer = Writer(conn, import_id)
        self._closed = False

    def prepare(self, rows: Rows) -> Rows:
        """Nothing to prepare ahead: the database does the work."""
        return rows

    def insert(self, rows: Rows) -> np.ndarray:
        """Insert the rows not yet in the log; returns a mask of the rows that were new."""
        rows.columns["import_id"] = np.full(len(rows), self.import_id, dtype=np.int64)
        order = np.argsort(rows.columns["event_key"], kind="stable")  # neighbouring keys: fewer pages
        new_sorted = self._writer.insert(rows.take(order))
        new = np.empty_like(new_sorted)
        new[order] = new_sorted
        return new

    def repeated_keys(self) -> int:
        """Not counted here (see ``finds_duplicates``)."""
        return 0

    def contributions(self, quality_seconds: float) -> dict[str, pd.DataFrame]:
        """The rollup rows of this import's rows (read back inside the transaction)."""
        return group(self.conn, [self.import_id], quality_seconds)

    def close(self) -> None:
        """Restore the connection's settings (idempotent)."""
        if not self._closed:
            self._closed = True
            self._writer.close()

    def publish(self) -> None:
        """Nothing to move: the rows commit with the transaction."""
        self.close()

    def discard(self) -> None:
        """The transaction's rollback takes the rows away."""
        self.close()
