"""The daily rollups, stored columnar: each grain (variants, cells, segments) is a few
*generations* — Parquet rows in ``rollup_generations`` of the results database — and read by
DuckDB, which sums them.

    >>> add(conn, {"variants": frame})             # an import's contributions: one new generation
    >>> subtract(conn, {"variants": frame})        # a removal: the grain merged, minus the frame
    >>> rows(conn, select(rollup_variants.c.day, func.sum(rollup_variants.c.plays)).group_by(...))

Writes are one INSERT of a compressed file per grain, in the caller's transaction (so an import
and its rollups commit together, on SQLite, PostgreSQL or DuckDB alike); reads run the same
SQLAlchemy Core statements the rollup tables used to answer, compiled for DuckDB, over the
generations decoded once per process (a generation never changes: its token names it).
A key may appear in several generations until they are merged: every query sums.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, Select, Table, delete, func, insert, select

from artdash.db.results_schema import (
    SUMS,
    rollup_cells,
    rollup_generations,
    rollup_segments,
    rollup_variants,
)

GRAINS: dict[str, Table] = {"variants": rollup_variants, "cells": rollup_cells, "segments": rollup_segments}
KEYS = {grain: [c.name for c in table.primary_key.columns] for grain, table in GRAINS.items()}
MAX_GENERATIONS = 8        # more than this in a grain, and they are merged into one
_TYPES = {"day": pa.int32(), "variant_id": pa.int32(), "title_id": pa.int32(), "impressions": pa.int64(),
          "plays": pa.int64(), "quality_plays": pa.int64(), "play_seconds": pa.float64()}
SCHEMAS = {grain: pa.schema([(c.name, _TYPES.get(c.name, pa.string())) for c in table.columns])
           for grain, table in GRAINS.items()}


# --- encoding --------------------------------------------------------------------------------

def _column(values: Any, field: pa.Field) -> pa.ChunkedArray | pa.Array:
    """One column in its rollup type; missing values become "" (text) or 0."""
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        try:
            values = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):     # mixed Python objects: as text
            values = pa.array(pd.Series(values).astype(str).to_numpy(), pa.string())
    if pa.types.is_string(field.type):
        return pc.fill_null(values.cast(pa.string()), "")
    if pa.types.is_null(values.type):
        values = values.cast(field.type)
    return pc.fill_null(values, 0).cast(field.type)


def as_table(grain: str, frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Rollup rows of ``grain`` as an Arrow table of its columns and types (missing text → "",
    missing numbers → 0)."""
    schema = SCHEMAS[grain]
    arrow = isinstance(frame, pa.Table)
    names = set(frame.column_names if arrow else frame.columns)
    n = frame.num_rows if arrow else len(frame)
    columns = [_column((frame.column(f.name) if arrow else frame[f.name]) if f.name in names
                       else pa.nulls(n, f.type), f) for f in schema]
    return pa.table(columns, schema=schema)


def _encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _decode(data: bytes) -> pa.Table:
    return pq.read_table(pa.BufferReader(data))


# --- writing (in the caller's transaction) ---------------------------------------------------

def _insert(conn: Connection, grain: str, table: pa.Table) -> None:
    if table.num_rows == 0:
        return
    next_id = (conn.execute(select(func.max(rollup_generations.c.id))).scalar() or 0) + 1
    conn.execute(insert(rollup_generations).values(id=next_id, grain=grain, token=secrets.token_hex(16),
                                                   n_rows=table.num_rows, data=_encode(table)))


def _stored(conn: Connection, grain: str) -> list[pa.Table]:
    return _read(conn, grain)[grain]


def _merged(grain: str, parts: Sequence[pa.Table]) -> pa.Table:
    """One row per key: the sums of ``parts``, rows whose impressions sum to zero or less left out."""
    table = pa.concat_tables([p for p in parts if p.num_rows] or [SCHEMAS[grain].empty_table()])
    keys = ", ".join(KEYS[grain])
    extra = ", min(title_id) AS title_id" if "title_id" in SCHEMAS[grain].names else ""
    sums = ", ".join(f"CAST(sum({c}) AS {'DOUBLE' if c == 'play_seconds' else 'BIGINT'}) AS {c}" for c in SUMS)
    with _duck() as duck:
        duck.register("parts", table)
        merged = duck.sql(f"SELECT {keys}{extra}, {sums} FROM parts GROUP BY {keys} "
                              f"HAVING sum(impressions) > 0 ORDER BY {keys}").to_arrow_table()
    return merged.select(SCHEMAS[grain].names).cast(SCHEMAS[grain])


def _replace_grain(conn: Connection, grain: str, table: pa.Table) -> None:
    conn.execute(delete(rollup_generations).where(rollup_generations.c.grain == grain))
    _insert(conn, grain, table)


def add(conn: Connection, contributions: Mapping[str, pd.DataFrame | pa.Table]) -> None:
    """Add an import's (or a source's) rollup rows: one new generation per grain; a grain of
    more than :data:`MAX_GENERATIONS` is merged into one."""
    for grain, frame in contributions.items():
        if grain not in GRAINS or frame is None or len(frame) == 0:
            continue
        _insert(conn, grain, as_table(grain, frame))
        count = conn.execute(select(func.count()).where(rollup_generations.c.grain == grain)).scalar() or 0
        if count > MAX_GENERATIONS:
            _replace_grain(conn, grain, _merged(grain, _stored(conn, grain)))


def subtract(conn: Connection, contributions: Mapping[str, pd.DataFrame | pa.Table]) -> None:
    """Take rollup rows away (an import removed): the grain is merged with them negated."""
    for grain, frame in contributions.items():
        if grain not in GRAINS or frame is None or len(frame) == 0:
            continue
        negated = as_table(grain, frame)
        for c in SUMS:
            i = negated.schema.get_field_index(c)
            negated = negated.set_column(i, c, pc.negate(negated.column(c)))
        _replace_grain(conn, grain, _merged(grain, [*_stored(conn, grain), negated]))


def replace(conn: Connection, contributions: Mapping[str, pd.DataFrame | pa.Table]) -> None:
    """Make the stored rollups exactly ``contributions`` (one generation per grain)."""
    for grain in GRAINS:
        frame = contributions.get(grain)
        table = as_table(grain, frame) if frame is not None and len(frame) else SCHEMAS[grain].empty_table()
        _replace_grain(conn, grain, _merged(grain, [table]))


# --- reading ---------------------------------------------------------------------------------

_CACHE: OrderedDict[str, pa.Table] = OrderedDict()   # token → decoded generation
_CACHE_SIZE = 64
_LOCK = threading.Lock()
_DIALECT: Any = None


def _generations(conn: Connection, tokens: tuple[str, ...]) -> list[pa.Table] | None:
    """The decoded generations named by ``tokens`` (from the cache, or read and decoded once);
    None if one of them is gone (merged away by a writer since the tokens were listed)."""
    with _LOCK:
        found = {t: _CACHE[t] for t in tokens if t in _CACHE}
        for t in found:
            _CACHE.move_to_end(t)
    missing = [t for t in tokens if t not in found]
    if missing:
        g = rollup_generations.c
        for token, data in conn.execute(select(g.token, g.data).where(g.token.in_(missing))):
            found[token] = _decode(bytes(data))
        with _LOCK:
            for t in missing:
                if t in found:
                    _CACHE[t] = found[t]
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    if any(t not in found for t in tokens):
        return None
    return [found[t] for t in tokens]


def _listed(conn: Connection, grain: str | None = None) -> dict[str, tuple[str, ...]]:
    g = rollup_generations.c
    query = select(g.grain, g.token).order_by(g.id)
    if grain is not None:
        query = query.where(g.grain == grain)
    tokens: dict[str, list[str]] = {name: [] for name in GRAINS if grain in (None, name)}
    for name, token in conn.execute(query):
        if name in tokens:
            tokens[name].append(token)
    return {name: tuple(ts) for name, ts in tokens.items()}


def _read(conn: Connection, grain: str | None = None) -> dict[str, list[pa.Table]]:
    """Every generation of each grain (of ``grain`` only, if given). Listing and reading are
    two statements: if a writer merged generations in between, list them again."""
    for _ in range(20):
        tokens = _listed(conn, grain)
        tables = {name: _generations(conn, ts) for name, ts in tokens.items()}
        if all(t is not None for t in tables.values()):
            return {name: t for name, t in tables.items() if t is not None}
    raise RuntimeError("the rollups kept changing while they were read; try again")


def current(conn: Connection) -> dict[str, pa.Table]:
    """Every grain's rows as stored (generations side by side, not yet summed)."""
    return {grain: pa.concat_tables([SCHEMAS[grain].empty_table(), *parts]) for grain, parts in _read(conn).items()}


class _duck:
    """A DuckDB cursor of this process's in-memory database (one per use: cursors are cheap,
    and each thread gets its own)."""

    _db: Any = None

    def __enter__(self) -> Any:
        with _LOCK:
            if _duck._db is None:
                _duck._db = duckdb.connect(config={"threads": 2})
            self.cursor = _duck._db.cursor()
        return self.cursor

    def __exit__(self, *exc: object) -> None:
        self.cursor.close()


def _compiled(statement: Select[Any]) -> tuple[str, list[Any]]:
    global _DIALECT
    if _DIALECT is None:
        import duckdb_engine

        _DIALECT = duckdb_engine.Dialect(paramstyle="qmark")
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    return str(compiled), [params[name] for name in (compiled.positiontup or [])]


def frame(conn: Connection, statement: Select[Any]) -> pd.DataFrame:
    """Run a Core statement over the rollups (its tables: rollup_variants, rollup_cells,
    rollup_segments) and return its rows as a frame."""
    tables = current(conn)
    sql, params = _compiled(statement)
    with _duck() as duck:
        for grain, table in tables.items():
            duck.register(GRAINS[grain].name, table)
        return duck.execute(sql, params).df()


def rows(conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Like :func:`frame`, as tuples."""
    tables = current(conn)
    sql, params = _compiled(statement)
    with _duck() as duck:
        for grain, table in tables.items():
            duck.register(GRAINS[grain].name, table)
        return duck.execute(sql, params).fetchall()


def merged(conn: Connection, grain: str) -> pd.DataFrame:
    """One grain's rows with each key once (summed across generations), in key order."""
    return _merged(grain, _stored(conn, grain)).to_pandas()


__all__ = ["GRAINS", "KEYS", "add", "as_table", "current", "frame", "merged", "replace", "rows", "subtract"]
