"""Where the impressions live: the columnar log (Parquet files by day, read by DuckDB) by
default, or the ``impressions`` table of the results database (PostgreSQL).

    >>> log = open_log(engine, Path("data/impression-log"))    # the Parquet log
    >>> log = open_log(engine)                                  # the table (e.g. PostgreSQL)

Both give the import the same operations (:class:`ImpressionLog`); the rollups the pages read
are always tables of the results database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    """One import's writer: rows in, its rollup contributions out, then published or discarded."""

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
    def writer(self, conn: Connection, import_id: int) -> Any: ...
    def contributions(self, conn: Connection, import_ids: Iterable[int] | None,
                      quality_seconds: float) -> dict[str, pd.DataFrame]: ...
    def drop_rows(self, conn: Connection, import_id: int) -> None: ...
    def restore(self, import_id: int) -> None: ...
    def remove(self, import_id: int) -> None: ...
    def frame(self, conn: Connection, columns: Sequence[str], where: str = "", params: Sequence[Any] = (),
              limit: int | None = None) -> pd.DataFrame: ...
    def query(self, conn: Connection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame: ...
    def stored_rows(self, conn: Connection, keys: np.ndarray, columns: Sequence[str]) -> pd.DataFrame: ...


def open_log(engine: Engine, folder: Path | None = None) -> ImpressionLog:
    """The Parquet log in ``folder`` (its imports and rollups in ``engine``), or with no
    folder the ``impressions`` table of ``engine``."""
    if folder is None:
        return TableLog(engine)
    return ParquetLog(engine, Path(folder))


__all__ = ["ImpressionLog", "LogWriter", "ParquetLog", "TableLog", "open_log"]
