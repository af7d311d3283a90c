"""The Parquet log's files: what each holds, where it lives and how DuckDB reads them (shared by
the log and the writer that stages an import's files)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

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
# Dictionary pages only where values repeat, statistics only where readers filter (ids and
# hashes have neither use): the log's files are written in about half the time, no larger.
DICTIONARY = [*TEXT_COLUMNS, "title_id", "variant_id", "played", "import_id"]
STATISTICS = ["ts", "title_id", "variant_id", "experiment", "played", "import_id"]
# Text of few values is written as it is validated, dictionary-encoded (the file's type is text).
WRITE_SCHEMA = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if f.name in TEXT_COLUMNS else f
                          for f in SCHEMA])
# Hashes do not compress (left as they are); times and row numbers are stored as deltas.
DELTAS = ("ts", "row")
WRITE_OPTIONS: dict[str, Any] = {
    "compression": {f.name: "none" if f.name in ("event_key", *DELTAS) else "zstd" for f in SCHEMA},
    "use_dictionary": DICTIONARY, "write_statistics": STATISTICS,
    "column_encoding": dict.fromkeys(DELTAS, "DELTA_BINARY_PACKED"),
    "store_schema": False,   # readers see text columns as text, not as Arrow dictionaries
}


@dataclass(frozen=True)
class LogFile:
    """One file of the log: where it is, its day and its import."""
    path: Path
    day: int
    import_id: int


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


DUCKDB_MEMORY = "1GB"


def duckdb_connection(spill: Path) -> Any:
    """An in-memory DuckDB for one question about the log: two threads, at most
    :data:`DUCKDB_MEMORY`, spilling into ``spill`` beyond it."""
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
    """Validated rows as a table to write (:data:`WRITE_SCHEMA`: the log's schema, its text of
    few values dictionary-encoded)."""
    n = len(rows)
    c = rows.columns
    arrays: dict[str, Any] = {
        "event_key": pa.array(c["event_key"], pa.int64()), "event_id": rows.text["event_id"].cast(pa.string()),
        "ts": pa.array(c["ts"], pa.int64()), "member_id": rows.text["member_id"].cast(pa.string()),
        "title_id": pa.array(c["title_id"].astype(np.int32)), "variant_id": pa.array(c["variant_id"].astype(np.int32)),
        "propensity": pa.array(c["propensity"], pa.float64()), "played": pa.array(c["played"].astype(np.int8)),
        "play_seconds": pa.array(c["play_seconds"], pa.float64()),
        "import_id": pa.array(np.full(n, import_id, dtype=np.int32)),
        "row": pa.array(np.arange(first_row, first_row + n, dtype=np.int64)),
    }
    for name in TEXT_COLUMNS:
        codes, values = rows.coded[name]
        arrays[name] = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string()))
    return pa.table([arrays[f.name] for f in WRITE_SCHEMA], schema=WRITE_SCHEMA)


def rmdir_if_empty(folder: Path) -> None:
    """Remove ``folder`` if it is empty."""
    try:
        folder.rmdir()
    except OSError:
        pass


def group_rollups(duck: Any, relation: str | None, quality_seconds: float, arrow: bool = False) -> dict[str, Any]:
    """The rollup rows by grain, as frames (or as Arrow tables: no pandas copy of millions of rows)."""
    if relation is None:
        return {}
    duck.execute(f"CREATE OR REPLACE TEMP VIEW log AS SELECT * FROM {relation}")
    queries = rollup_queries("log", quality_seconds)
    if arrow:
        return {grain: duck.sql(sql).to_arrow_table() for grain, sql in queries.items()}
    return {grain: duck.execute(sql).df() for grain, sql in queries.items()}


