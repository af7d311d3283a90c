"""Carrying impressions stored in the results database's table (ArtDash before the columnar
log) over into the Parquet log: automatic when a workspace first opens its results, one
transaction, nothing lost — the rows leave the table only as their files arrive, and a move
that was interrupted is redone from the rows, which stay until it has finished."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, delete, func, select

from artdash.db.results_schema import impressions
from artdash.results.log.parquet import SCHEMA, ParquetLog
from artdash.results.write import one_writer

_COLUMNS = [f.name for f in SCHEMA if f.name != "row"] + ["day"]


def rows_in_table(log: ParquetLog) -> int:
    """How many impressions still sit in the results database's table."""
    with log.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(impressions)).scalar() or 0


def _tables(conn: Connection, import_id: int, chunk_rows: int) -> Iterator[pa.Table]:
    query = (select(*(impressions.c[c] for c in _COLUMNS)).where(impressions.c.import_id == import_id)
             .order_by(impressions.c.id).execution_options(yield_per=chunk_rows))
    row = 0
    for part in conn.execute(query).partitions(chunk_rows):
        columns = list(zip(*part))
        data = {name: columns[i] for i, name in enumerate(_COLUMNS)}
        arrays = [pa.array(data[f.name], pa.int64()).cast(f.type) if pa.types.is_integer(f.type)
                  else pa.array(data[f.name], f.type) for f in SCHEMA if f.name != "row"]
        table = pa.Table.from_arrays(arrays, names=[f.name for f in SCHEMA if f.name != "row"])
        table = table.append_column("row", pa.array(np.arange(row, row + len(part), dtype=np.int64)))
        row += len(part)
        yield table.select([f.name for f in SCHEMA]).append_column("day", pa.array(data["day"], pa.int64()))


def carry_over(log: ParquetLog, chunk_rows: int = 500_000, progress: Callable[[int], None] | None = None) -> int:
    """Move every impression from the table into the log; returns how many moved."""
    if rows_in_table(log) == 0:
        return 0
    moved = 0
    with one_writer(log.engine) as conn:
        ids = list(conn.execute(select(impressions.c.import_id).group_by(impressions.c.import_id)
                                .order_by(impressions.c.import_id)).scalars())
        for import_id in ids:
            log.remove(import_id)  # files of a move that did not finish: the rows are the truth
            writer = log.write_import(import_id, _tables(conn, import_id, chunk_rows))
            moved += writer.n_rows
            writer.publish()
            conn.execute(delete(impressions).where(impressions.c.import_id == import_id))
            if progress:
                progress(moved)
    return moved
