"""Where the impressions live: the columnar log (Parquet files by day, read by DuckDB) by
default, or the ``impressions`` table of the results database (PostgreSQL).

    >>> log = log_for(engine, Path("data/impression-log"))     # the store this database wants
    >>> log = open_log(engine)                                  # the table (e.g. PostgreSQL)

Every store gives the import the same operations (:class:`ImpressionLog`, whose writer is a
:class:`LogWriter`); the rollups the pages read are always tables of the results database.
The stores are registered in :data:`STORES`, the built-in ones the way a new one would be: a
ClickHouse log is one module (its ``ImpressionLog``) and one :func:`register_store` call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import Connection, Engine

from artdash.results.log.parquet import ParquetLog
from artdash.results.log.table import TableLog
from artdash.results.validate import Rows


class LogWriter(Protocol):
    """One import's writer: rows in, its rollup contributions out, then published or discarded.
    ``finds_duplicates``: whether the store finds event ids repeated within the file itself
    (:meth:`repeated_keys`, after the last row) — else the import keeps every row's key."""

    finds_duplicates: bool

    def repeated_keys(self) -> int: ...
    def prepare(self, rows: Rows) -> Any: ...   # in file order, on the reader thread
    def insert(self, prepared: Any) -> np.ndarray: ...
    def contributions(self, quality_seconds: float) -> dict[str, pd.DataFrame | pa.Table]: ...
    def publish(self) -> None: ...
    def discard(self) -> None: ...


class ImpressionLog(Protocol):
    """What imports, removals, rebuilds and the lab need from wherever impressions live."""

    kind: str
    engine: Engine

    def describe(self) -> str: ...
    def count(self, conn: Connection) -> int: ...
    def next_import_id(self, conn: Connection) -> int: ...
    def prepare(self, conn: Connection) -> None: ...
    def writer(self, conn: Connection, import_id: int) -> LogWriter: ...
    def contributions(self, conn: Connection, import_ids: Iterable[int] | None,
                      quality_seconds: float) -> dict[str, pd.DataFrame]: ...
    def drop_rows(self, conn: Connection, import_id: int) -> None: ...
    def restore(self, import_id: int) -> None: ...
    def remove(self, import_id: int) -> None: ...
    def frame(self, conn: Connection, columns: Sequence[str], where: str = "", params: Sequence[Any] = (),
              limit: int | None = None) -> pd.DataFrame: ...
    def query(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame: ...
    def stored_rows(self, conn: Connection, keys: np.ndarray, columns: Sequence[str]) -> pd.DataFrame: ...


@dataclass(frozen=True)
class LogStore:
    """A kind of place impressions can live: its name, what it is for people, which results
    databases keep their log there (``wanted``), and how to open it on one."""

    name: str
    summary: str
    wanted: Callable[[Engine], bool]
    open: Callable[[Engine, Path], ImpressionLog]


STORES: list[LogStore] = []


def register_store(store: LogStore, first: bool = False) -> None:
    """Add a store; the first whose ``wanted`` accepts a database is used (``first``: ask it
    before the others — a store for one engine before the catch-all)."""
    STORES[:] = [s for s in STORES if s.name != store.name]
    STORES.insert(0, store) if first else STORES.append(store)


def log_for(engine: Engine, folder: Path) -> ImpressionLog:
    """The impression log of a results database on ``engine`` (``folder``: where a file-based
    store keeps it): the first registered store that wants it."""
    store = next(s for s in STORES if s.wanted(engine))
    return store.open(engine, folder)


register_store(LogStore("table", "the impressions table of the results database (COPY in, SQL out)",
                        lambda engine: engine.dialect.name == "postgresql", lambda engine, folder: TableLog(engine)))
register_store(LogStore("parquet", "Parquet files by day, read by DuckDB", lambda engine: True,
                        lambda engine, folder: ParquetLog(engine, Path(folder))))


def open_log(engine: Engine, folder: Path | None = None) -> ImpressionLog:
    """The Parquet log in ``folder`` (its imports and rollups in ``engine``), or with no
    folder the ``impressions`` table of ``engine``."""
    if folder is None:
        return TableLog(engine)
    return ParquetLog(engine, Path(folder))


__all__ = ["STORES", "ImpressionLog", "LogStore", "LogWriter", "ParquetLog", "TableLog", "log_for", "open_log",
           "register_store"]
