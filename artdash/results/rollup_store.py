"""The daily rollups, stored columnar: each grain (variants, cells, segments) is a few
*generations* — Parquet rows in ``rollup_generations`` of the results database — and read by
DuckDB, which sums them.

    >>> add(conn, {"variants": frame})             # an import's contributions: one new generation
    >>> subtract(conn, {"variants": frame})        # a removal: the grain merged, minus the frame
    >>> rows(conn, select(rollup_variants.c.day, func.sum(rollup_variants.c.plays)).group_by(...))

Writes are one INSERT of a compressed file per grain, in the caller's transaction (so an import
and its rollups commit together, on SQLite, PostgreSQL or DuckDB alike); reads run the same
SQLAlchemy Core statements the rollup tables used to answer, compiled for DuckDB, over the
generations copied out of the database once per process (a generation never changes: its token
names it): a grain of up to a million rows is loaded into DuckDB's memory, shared by every
session; a larger one is read from its Parquet file, row groups by title.
A key may appear in several generations until they are merged: every query sums.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
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


ROW_GROUP = 16_384   # rows sorted by title: a one-title question reads one or two row groups


def _encode(table: pa.Table) -> bytes:
    order = [c for c in ("title_id", "day") if c in table.column_names]
    if order and table.num_rows > 1:   # sorted by DuckDB: in parallel, twice as fast as Arrow's sort
        with closing(_cursor()) as duck:
            duck.register("unsorted", table)
            table = duck.sql(f"SELECT * FROM unsorted ORDER BY {', '.join(order)}").to_arrow_table()
    text = [f.name for f in table.schema if pa.types.is_string(f.type)]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=ROW_GROUP, use_dictionary=text)
    return sink.getvalue().to_pybytes()


# --- writing (in the caller's transaction) ---------------------------------------------------

def _insert(conn: Connection, grain: str, table: pa.Table) -> None:
    if table.num_rows == 0:
        return
    next_id = (conn.execute(select(func.max(rollup_generations.c.id))).scalar() or 0) + 1
    conn.execute(insert(rollup_generations).values(id=next_id, grain=grain, token=secrets.token_hex(16),
                                                   n_rows=table.num_rows, data=_encode(table)))


def _stored(conn: Connection, grain: str) -> list[pa.Table]:
    return [pq.read_table(path) for path in _read(conn, grain)[grain].paths]


def _merged(grain: str, parts: Sequence[pa.Table]) -> pa.Table:
    """One row per key: the sums of ``parts``, rows whose impressions sum to zero or less left out."""
    table = pa.concat_tables([p for p in parts if p.num_rows] or [SCHEMAS[grain].empty_table()])
    keys = ", ".join(KEYS[grain])
    extra = ", min(title_id) AS title_id" if "title_id" in SCHEMAS[grain].names else ""
    sums = ", ".join(f"CAST(sum({c}) AS {'DOUBLE' if c == 'play_seconds' else 'BIGINT'}) AS {c}" for c in SUMS)
    with closing(_cursor()) as duck:
        duck.register("parts", table)
        merged = duck.sql(f"SELECT {keys}{extra}, {sums} FROM parts GROUP BY {keys} "
                              "HAVING sum(impressions) > 0").to_arrow_table()   # ordered once, as it is encoded
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

IN_MEMORY_ROWS = 1_000_000   # a grain this small is held in DuckDB's memory (~30 MB at most)
_CACHE: OrderedDict[str, Path] = OrderedDict()   # token → its file in this process's folder
_CACHE_SIZE = 64
_EVICTED: list[tuple[float, str, Path]] = []     # dropped a while after they leave the cache
_LOCK = threading.Lock()
_DIALECT: Any = None
_FOLDER: Path | None = None
_DB: Any = None          # this process's in-memory DuckDB database (each thread has a cursor)
_TABLES: set[str] = set()  # tokens of the generations loaded into it as tables


def _folder() -> Path:
    """A private folder of this process for the generations it reads (removed at exit): DuckDB
    reads them as Parquet files — only the row groups a question needs, nothing held in memory."""
    global _FOLDER
    if _FOLDER is None:
        _FOLDER = private_folder(Path(tempfile.gettempdir()))
        atexit.register(shutil.rmtree, _FOLDER, True)
    return _FOLDER


def private_folder(parent: Path) -> Path:
    """A new folder under ``parent`` named for this process; the folders of processes that
    ended without removing theirs (killed, out of memory) are removed first."""
    for folder in parent.glob("artdash-rollups-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"artdash-rollups-{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (one of another user's counts as running)."""
    if os.name == "nt":        # there, os.kill would end the process: never sweep
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:            # e.g. another user's process: not ours to judge
        return True
    return True


def _database() -> Any:
    global _DB
    with _LOCK:
        if _DB is None:
            _DB = duckdb.connect(config={"threads": 2})
            try:   # the generations' footers read once, not at every question
                _DB.execute("SET GLOBAL parquet_metadata_cache = true")
            except duckdb.Error:
                pass
        return _DB


def _cursor() -> Any:
    """A new cursor of this process's DuckDB database (made under the lock: the database's
    own connection is shared)."""
    db = _database()
    with _LOCK:
        return db.cursor()


def _forget(now: float) -> None:
    """Delete the files (and drop the tables) of generations evicted a minute ago or more (no
    question runs that long). Called under ``_LOCK``."""
    while _EVICTED and now - _EVICTED[0][0] > 60:
        _, token, path = _EVICTED.pop(0)
        path.unlink(missing_ok=True)
        if token in _TABLES:
            _TABLES.discard(token)
            _DB.execute(f'DROP TABLE IF EXISTS "gen_{token}"')


def _generations(conn: Connection, tokens: tuple[str, ...]) -> list[Path] | None:
    """The files of the generations named by ``tokens`` (written from the database once per
    process); None if one of them is gone (merged away by a writer since the tokens were listed)."""
    with _LOCK:
        found = {t: _CACHE[t] for t in tokens if t in _CACHE}
        for t in found:
            _CACHE.move_to_end(t)
    missing = [t for t in tokens if t not in found]
    if missing:
        g = rollup_generations.c
        folder = _folder()
        for token, data in conn.execute(select(g.token, g.data).where(g.token.in_(missing))):
            path = folder / f"{token}.parquet"
            partial = folder / f"{token}.{threading.get_ident()}.partial"
            partial.write_bytes(bytes(data))
            partial.replace(path)
            found[token] = path
        with _LOCK:
            for t in missing:
                if t in found:
                    _CACHE[t] = found[t]
            while len(_CACHE) > _CACHE_SIZE:
                token, path = _CACHE.popitem(last=False)
                _EVICTED.append((time.monotonic(), token, path))
            _forget(time.monotonic())
    if any(t not in found for t in tokens):
        return None
    return [found[t] for t in tokens]


@dataclass(frozen=True)
class _Grain:
    """One grain's generations as read: their tokens, files and total rows."""
    tokens: tuple[str, ...]
    paths: tuple[Path, ...]
    n_rows: int


def _listed(conn: Connection, grain: str | None = None) -> dict[str, list[tuple[str, int]]]:
    g = rollup_generations.c
    query = select(g.grain, g.token, g.n_rows).order_by(g.id)
    if grain is not None:
        query = query.where(g.grain == grain)
    listed: dict[str, list[tuple[str, int]]] = {name: [] for name in GRAINS if grain in (None, name)}
    for name, token, n_rows in conn.execute(query):
        if name in listed:
            listed[name].append((token, int(n_rows or 0)))
    return listed


def _read(conn: Connection, grain: str | None = None) -> dict[str, _Grain]:
    """Every generation of each grain (of ``grain`` only, if given). Listing and reading are
    two statements: if a writer merged generations in between, list them again."""
    for _ in range(20):
        read: dict[str, _Grain] = {}
        for name, listed in _listed(conn, grain).items():
            tokens = tuple(t for t, _ in listed)
            paths = _generations(conn, tokens)
            if paths is None:
                break
            read[name] = _Grain(tokens, tuple(paths), sum(n for _, n in listed))
        else:
            return read
    raise RuntimeError("the rollups kept changing while they were read; try again")


def _compiled(statement: Select[Any]) -> tuple[str, list[Any]]:
    global _DIALECT
    if _DIALECT is None:
        import duckdb_engine

        _DIALECT = duckdb_engine.Dialect(paramstyle="qmark")
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    return str(compiled), [params[name] for name in (compiled.positiontup or [])]


_LOCAL = threading.local()   # each thread's own DuckDB cursor, and the views made on it


def _reader() -> tuple[Any, dict[str, tuple[tuple[str, ...], bool]]]:
    """This thread's cursor for questions (kept: its views stay while the rollups do not change)."""
    if getattr(_LOCAL, "cursor", None) is None:
        _LOCAL.cursor = _cursor()    # kept for the thread's life (closed with it)
        _LOCAL.views = {}
    return _LOCAL.cursor, _LOCAL.views


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _tables(read: _Grain) -> str:
    """A small grain's generations as tables of the shared database (loaded once per process:
    a question then costs no file reads), as one relation."""
    with _LOCK:
        for token, path in zip(read.tokens, read.paths):
            if token not in _TABLES:
                _DB.execute(f'CREATE TABLE IF NOT EXISTS "gen_{token}" AS SELECT * FROM read_parquet({_quoted(path)})')
                _TABLES.add(token)
    return " UNION ALL ".join(f'SELECT * FROM "gen_{token}"' for token in read.tokens)


def _views(conn: Connection, duck: Any, made: dict[str, tuple[tuple[str, ...], bool]], sql: str) -> None:
    """The rollup relations ``sql`` reads, as views over their generations (made again only when
    the generations changed): a grain of up to :data:`IN_MEMORY_ROWS` rows as tables held in
    memory, a larger one as its Parquet files."""
    for grain, read in _read(conn).items():
        name = GRAINS[grain].name
        in_memory = read.n_rows <= IN_MEMORY_ROWS
        if name not in sql or made.get(name) == (read.tokens, in_memory):
            continue
        if not read.tokens:
            duck.execute(f"DROP VIEW IF EXISTS {name}")
            duck.register(f"{name}_empty", SCHEMAS[grain].empty_table())
            relation = f"SELECT * FROM {name}_empty"
        elif in_memory:
            relation = _tables(read)
        else:
            relation = f"SELECT * FROM read_parquet([{', '.join(_quoted(p) for p in read.paths)}])"
        duck.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {relation}")
        made[name] = (read.tokens, in_memory)


def _run(conn: Connection, statement: Select[Any]) -> Any:
    sql, params = _compiled(statement)
    duck, made = _reader()
    _views(conn, duck, made, sql)
    return duck.execute(sql, params)


def frame(conn: Connection, statement: Select[Any]) -> pd.DataFrame:
    """Run a Core statement over the rollups (its tables: rollup_variants, rollup_cells,
    rollup_segments) and return its rows as a frame."""
    return _run(conn, statement).df()


def rows(conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Like :func:`frame`, as tuples."""
    return _run(conn, statement).fetchall()


def merged(conn: Connection, grain: str) -> pd.DataFrame:
    """One grain's rows with each key once (summed across generations), in key order."""
    return _merged(grain, _stored(conn, grain)).sort_by([(k, "ascending") for k in KEYS[grain]]).to_pandas()


__all__ = ["GRAINS", "KEYS", "add", "as_table", "frame", "merged", "replace", "rows", "subtract"]
