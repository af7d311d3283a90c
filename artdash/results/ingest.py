"""Import impression logs: CSV or Parquet, streamed in chunks, validated row by row, atomic
(one transaction: a bad file changes nothing) and idempotent (an event already in the log is
counted, not added again). Daily rollups are updated in the same transaction.

How it is fast (see bench/RESULTS.md): the file is parsed by Arrow on a reader thread while
the database writes the previous chunk; columns are validated with vectorised Arrow kernels
(a slower, row-exact pandas check runs only for a column whose fast conversion fails); each
chunk's rollup contributions are summed in memory and written once per import; SQLite gets
key-sorted batches, PostgreSQL gets COPY into a staging table."""

from __future__ import annotations

import io
import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, func, select

from artdash import clock
from artdash.errors import ValidationError
from artdash.results.schema import (
    SEGMENT_KINDS,
    SUMS,
    imports,
    impressions,
    rollup_cells,
    rollup_segments,
    rollup_variants,
)

COLUMNS = ("event_id", "timestamp", "member_id", "title_id", "variant_id", "policy", "experiment", "cell",
           "propensity", "played", "play_seconds", "country", "device")
REQUIRED = ("event_id", "timestamp", "member_id", "title_id", "variant_id", "policy", "propensity", "played",
            "play_seconds")
OPTIONAL = ("experiment", "cell", "country", "device")
TRUE_WORDS = {"1", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "false", "f", "no", "n"}
MAX_ISSUES_KEPT = 1000
CHUNK_ROWS = 250_000
KEY_BATCH = 5000
_ZONE = r"(?:[zZ]|[+-]\d\d:?\d\d)$"
_VARIANT_KEYS = ["day", "variant_id", "experiment"]
_CELL_KEYS = ["day", "experiment", "cell"]
_SEGMENT_KEYS = ["day", "variant_id", "experiment", "segment_kind", "segment"]


@dataclass(frozen=True)
class IngestIssue:
    line: int
    column: str
    problem: str


class IngestError(ValidationError):
    """A log file that cannot be imported; nothing was written. ``issues`` lists bad rows."""

    def __init__(self, message: str, issues: tuple[IngestIssue, ...] = (), n_issues: int = 0):
        super().__init__(message)
        self.issues = issues
        self.n_issues = n_issues or len(issues)


@dataclass(frozen=True)
class IngestReport:
    import_id: int
    n_rows: int
    n_inserted: int
    n_already_present: int
    n_skipped_unknown: int
    skipped_lines: tuple[int, ...] = ()


@dataclass
class _State:
    """What validation must remember across chunks."""

    zoned: bool | None = None                 # whether the file's timestamps carry a zone
    issues: list[IngestIssue] = field(default_factory=list)
    n_issues: int = 0
    skipped: list[int] = field(default_factory=list)
    n_skipped: int = 0
    keys: list[np.ndarray] = field(default_factory=list)    # event keys of good rows, per chunk
    lines: list[np.ndarray] = field(default_factory=list)   # their line numbers

    def report(self, lines, column: str, problem) -> None:
        lines = list(lines)
        self.n_issues += len(lines)
        for i, line in enumerate(lines):
            if len(self.issues) >= MAX_ISSUES_KEPT:
                break
            self.issues.append(IngestIssue(int(line), column, problem if isinstance(problem, str) else problem[i]))


def event_keys(event_ids: pd.Series) -> np.ndarray:
    """Stable 63-bit keys of event ids (fits a signed BIGINT on every database)."""
    hashed = pd.util.hash_pandas_object(event_ids, index=False).to_numpy(dtype=np.uint64)
    return (hashed >> np.uint64(1)).astype(np.int64)


# --- reading ---------------------------------------------------------------------------------

def read_chunks(source: bytes | Path, file_name: str, mapping: Mapping[str, str] | None = None,
                chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[pa.Table, int]]:
    """(chunk with canonical column names, line number of its first row) — streamed."""
    mapping = {k.strip().lower(): v for k, v in (mapping or {}).items()}
    is_path = isinstance(source, Path)
    if (is_path and source.stat().st_size == 0) or (not is_path and not source):
        raise IngestError("the file is empty; export the impression log again")
    if is_path:
        with source.open("rb") as f:
            head = f.read(4)
    else:
        head = source[:4]
    if head == b"PAR1" or file_name.lower().endswith(".parquet"):
        yield from _parquet_chunks(source, mapping, chunk_rows)
    else:
        yield from _csv_chunks(source, mapping, chunk_rows)


def _parquet_chunks(source, mapping, chunk_rows):
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source if isinstance(source, Path) else io.BytesIO(source))
    except Exception as exc:
        raise IngestError(f"the Parquet file cannot be read ({str(exc)[:120]})") from None
    first = 1
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        table = pa.Table.from_batches([batch])
        yield _canonical(table, mapping), first
        first += table.num_rows


def _csv_chunks(source, mapping, chunk_rows):
    import csv

    import pyarrow.csv as pacsv

    raw = source.open("rb") if isinstance(source, Path) else io.BytesIO(source)
    try:
        header_line = raw.readline()
        try:
            names = next(csv.reader([header_line.decode("utf-8").rstrip("\r\n")]), [])
        except UnicodeDecodeError:
            raise IngestError("the file is not UTF-8 text (the header row has invalid bytes); save it as UTF-8 "
                              "and import again") from None
        except csv.Error as exc:
            raise IngestError(f"the header row is not valid CSV ({exc}); the first line must name the columns, "
                              "separated by commas") from None
        if not [n for n in names if n.strip()]:
            raise IngestError("the file has no header row; the first line must name the columns")
        _canonical_names(names, mapping)
        raw.seek(0)
        reader = pacsv.open_csv(
            raw, read_options=pacsv.ReadOptions(block_size=16 << 20),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, null_values=[],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        first = 2  # line 1 is the header
        for batch in reader:
            for start in range(0, batch.num_rows, chunk_rows):
                piece = pa.Table.from_batches([batch.slice(start, chunk_rows)])
                yield _canonical(piece, mapping), first
                first += piece.num_rows
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "UTF-8" in message:
            raise IngestError("the file is not UTF-8 text (it has bytes that are not valid UTF-8); save it as "
                              "UTF-8 and import again") from None
        if "Empty CSV file" in message:
            raise IngestError("the file has no header row; the first line must name the columns") from None
        raise IngestError(f"the file is not valid CSV ({message[:160]})") from None
    finally:
        raw.close()


def _canonical_names(names: list[str], mapping: Mapping[str, str]) -> list[str]:
    """The file's column names mapped to ArtDash's; refuses a file without a required column."""
    names = [mapping.get(str(c).strip().lower(), str(c).strip().lower()) for c in names]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise IngestError(
            f"missing column(s): {', '.join(missing)}. The file has: {', '.join(map(str, names))}. "
            "If they are there under other names, map them (e.g. --map ts=timestamp)")
    return names


def _canonical(table: pa.Table, mapping: Mapping[str, str]) -> pa.Table:
    names = _canonical_names(table.column_names, mapping)
    table = table.rename_columns(names)
    columns = []
    for name in COLUMNS:
        if name in names:
            columns.append(table.column(names.index(name)))
        else:
            columns.append(pa.array([""] * table.num_rows, pa.string()))
    return pa.table(columns, names=list(COLUMNS))


# --- validation ------------------------------------------------------------------------------

def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as trimmed text (Parquet columns may arrive typed)."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(column, ""))


def _numbers(column: pa.ChunkedArray) -> np.ndarray:
    """Floats, NaN where the text is not a number. Arrow's cast first; only if it refuses the
    chunk, pandas finds which rows are not numbers."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    text = _text(column)
    try:
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(pd.Series(text.to_pylist(), dtype=object), errors="coerce").to_numpy(np.float64)


def _timestamps(column: pa.ChunkedArray, zoned: bool) -> np.ndarray:
    """Seconds since the epoch (UTC) as float, NaN where the text is not an ISO 8601 time."""
    if pa.types.is_timestamp(column.type):
        micros = pc.cast(column, pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
        return micros.to_numpy(zero_copy_only=False).astype(np.float64) // 1_000_000
    text = _text(column)
    try:
        parsed = pc.cast(text, pa.timestamp("us", tz="UTC") if zoned else pa.timestamp("us"))
        micros = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)
        return (micros // 1_000_000).astype(np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Some value is not a timestamp Arrow reads: parse one by one to find which.
        return np.array([_iso_seconds(value) for value in text.to_pylist()], dtype=np.float64)


def _iso_seconds(value: str) -> float:
    """Seconds since the epoch of an ISO 8601 time (UTC when it has no zone), NaN otherwise."""

    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return float("nan")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return float(math.floor(when.timestamp()))
    except (OverflowError, OSError, ValueError):
        return float("nan")


def _played(column: pa.ChunkedArray) -> np.ndarray:
    """1, 0, or -1 where the value is not a boolean."""
    if pa.types.is_boolean(column.type):
        return pc.fill_null(pc.cast(column, pa.int8()), -1).to_numpy(zero_copy_only=False).astype(np.int16)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        column = pc.cast(column, pa.string())
    words = pc.utf8_lower(_text(column))
    true = pc.is_in(words, value_set=pa.array(sorted(TRUE_WORDS)))
    false = pc.is_in(words, value_set=pa.array(sorted(FALSE_WORDS)))
    out = np.full(len(words), -1, dtype=np.int16)
    out[true.to_numpy(zero_copy_only=False)] = 1
    out[false.to_numpy(zero_copy_only=False)] = 0
    return out


def _as_numpy(column: pa.ChunkedArray) -> np.ndarray:
    return column.to_numpy(zero_copy_only=False)


def _variant_lookup(variant_titles: Mapping[int, int]) -> np.ndarray:
    """Dense variant id → title id table (0 = unknown)."""
    top = max(variant_titles, default=0)
    table = np.zeros(top + 2, dtype=np.int64)
    if variant_titles:
        table[np.fromiter(variant_titles.keys(), np.int64)] = np.fromiter(variant_titles.values(), np.int64)
    return table


@dataclass
class Rows:
    """Validated rows of one chunk: typed columns, low-cardinality text as (codes, values)."""

    columns: dict[str, np.ndarray]
    coded: dict[str, tuple[np.ndarray, np.ndarray]]

    def __len__(self) -> int:
        return len(self.columns["event_key"])

    def column(self, name: str) -> np.ndarray:
        if name in self.coded:
            codes, values = self.coded[name]
            return values[codes] if len(values) else np.array([], dtype=object)
        return self.columns[name]

    def take(self, index: np.ndarray) -> Rows:
        return Rows({k: v[index] for k, v in self.columns.items()},
                    {k: (codes[index], values) for k, (codes, values) in self.coded.items()})

    def tuples(self, names: list[str]) -> list[tuple]:
        return list(zip(*[self.column(n).tolist() for n in names]))


def validate_chunk(chunk: pa.Table, first_line: int, lookup: np.ndarray, skip_unknown: bool,
                   state: _State) -> Rows:
    """Check one chunk; returns its good rows (typed), records problems in ``state``."""
    n = chunk.num_rows
    lines = np.arange(first_line, first_line + n)
    bad = np.zeros(n, dtype=bool)

    def flag(mask, column, problem):
        mask = np.asarray(mask, dtype=bool) & ~bad
        if mask.any():
            state.report(lines[mask], column, problem)
            bad[mask] = True

    event_id = _text(chunk["event_id"])
    id_length = _as_numpy(pc.utf8_length(event_id))
    flag(id_length == 0, "event_id", "empty event id")
    flag(id_length > 100, "event_id", "event id longer than 100 characters")
    member = _text(chunk["member_id"])
    flag(_as_numpy(pc.utf8_length(member)) == 0, "member_id", "empty member id")

    stamps = chunk["timestamp"]
    if pa.types.is_timestamp(stamps.type):
        zoned = np.full(n, stamps.type.tz is not None)
    else:
        zoned = _as_numpy(pc.match_substring_regex(_text(stamps), _ZONE))
    if state.zoned is None and n:
        state.zoned = bool(zoned[0])
    flag(zoned != state.zoned, "timestamp",
         "mixed time zones: some timestamps carry a zone and others don't; give every timestamp a zone "
         "(e.g. 2026-11-01T20:15:00Z) or none (then UTC is assumed)")
    ts = _timestamps(stamps, bool(state.zoned))
    flag(np.isnan(ts), "timestamp", "not a timestamp (use ISO 8601, e.g. 2026-11-01T20:15:00Z)")

    title = _numbers(chunk["title_id"])
    variant = _numbers(chunk["variant_id"])
    with np.errstate(invalid="ignore"):  # NaN and infinities are flagged by isfinite
        flag(~np.isfinite(title) | (title % 1 != 0), "title_id", "not a whole-number title id")
        flag(~np.isfinite(variant) | (variant % 1 != 0), "variant_id", "not a whole-number variant id")
    in_range = np.isfinite(variant) & (variant >= 0) & (variant < len(lookup))
    known_title = np.zeros(n, dtype=np.int64)
    known_title[in_range] = lookup[variant[in_range].astype(np.int64)]
    unknown = (known_title == 0) & ~bad
    if skip_unknown:
        state.n_skipped += int(unknown.sum())
        state.skipped.extend(lines[unknown][:MAX_ISSUES_KEPT - len(state.skipped)].tolist())
        bad |= unknown
    else:
        flag(unknown, "variant_id", "unknown variant id (not in the catalog); fix it or import with "
                                    "'skip unknown ids'")
    flag((known_title != 0) & (known_title != title), "title_id", "this variant belongs to another title")

    propensity = _numbers(chunk["propensity"])
    flag(~np.isfinite(propensity) | (propensity <= 0) | (propensity > 1), "propensity",
         "propensity must be a number in (0, 1]: the probability the policy gave this image")
    played = _played(chunk["played"])
    flag(played < 0, "played", "played must be true/false, 1/0 or yes/no")
    seconds_text = chunk["play_seconds"]
    if pa.types.is_string(seconds_text.type):
        empty = pc.equal(_text(seconds_text), "")
        seconds_text = pc.if_else(empty, "0", _text(seconds_text))
    seconds = _numbers(seconds_text)
    flag(~np.isfinite(seconds) | (seconds < 0), "play_seconds", "play seconds must be a number ≥ 0")
    policy = _text(chunk["policy"])
    flag(_as_numpy(pc.utf8_length(policy)) == 0, "policy", "empty policy name")

    event_text = event_id.to_numpy(zero_copy_only=False)
    keys = event_keys(pd.Series(event_text, dtype="str"))
    good = ~bad
    state.keys.append(keys[good])
    state.lines.append(lines[good])
    ts_good = ts[good].astype(np.int64)
    take = pa.array(np.flatnonzero(good))

    def coded(text: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
        encoded = pc.dictionary_encode(text.take(take).combine_chunks())
        return (encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32),
                encoded.dictionary.to_numpy(zero_copy_only=False).astype(object))

    return Rows(
        columns={"event_key": keys[good], "event_id": event_text[good].astype(object), "ts": ts_good,
                 "day": ts_good // 86400, "member_id": member.take(take).to_numpy().astype(object),
                 "title_id": title[good].astype(np.int64), "variant_id": variant[good].astype(np.int64),
                 "propensity": propensity[good], "played": played[good], "play_seconds": seconds[good]},
        coded={"policy": coded(policy), "experiment": coded(_text(chunk["experiment"])),
               "cell": coded(_text(chunk["cell"])),
               "country": coded(pc.utf8_slice_codeunits(pc.utf8_upper(_text(chunk["country"])), 0, 2)),
               "device": coded(pc.utf8_slice_codeunits(pc.utf8_lower(_text(chunk["device"])), 0, 10))})


def _report_duplicates(state: _State) -> None:
    """Event ids that occur twice in the file (checked once over every good row's key)."""
    if not state.keys:
        return
    keys = np.concatenate(state.keys)
    lines = np.concatenate(state.lines)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    repeat = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
    if not len(repeat):
        return
    # The first line of each run of equal keys: the smallest line (stable sort keeps file order).
    run_start = np.maximum.accumulate(np.where(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]],
                                               np.arange(len(keys)), 0))
    dup_lines = lines[order[repeat]]
    first = lines[order[run_start[repeat]]]
    in_order = np.argsort(dup_lines)
    state.report(dup_lines[in_order], "event_id",
                 [f"duplicate event id: same as line {f}" for f in first[in_order][:MAX_ISSUES_KEPT]])


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


def _tuples(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return list(zip(*[frame[c].tolist() for c in columns]))


class _Writer:
    """Writes impressions and rollups on one connection, in the caller's transaction."""

    def __init__(self, conn: Connection, import_id: int):
        self.conn = conn
        self.import_id = import_id
        self.next_id = (conn.execute(select(func.max(impressions.c.id))).scalar() or 0) + 1
        self.dialect = conn.dialect.name
        self.dbapi = conn.connection.driver_connection
        if self.dialect == "sqlite":
            # A large page cache for the import: inserts by hashed key touch pages all over the table.
            self._old_cache = self.dbapi.execute("PRAGMA cache_size").fetchone()[0]
            self.dbapi.execute("PRAGMA cache_size = -262144")
        if self.dialect == "postgresql":
            conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS impressions_stage "
                                 "(LIKE impressions INCLUDING DEFAULTS) ON COMMIT DROP")

    def close(self) -> None:
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

    def add_rollups(self, table, keys: list[str], sums: pd.DataFrame) -> None:
        """Add ``sums`` (one row per key) to a rollup table: upsert, adding to existing rows."""
        if sums.empty:
            return
        sums = sums.sort_values(keys)
        columns = [*keys, *(["title_id"] if "title_id" in table.c else []), *SUMS]
        update = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in SUMS)
        conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {update}"
        if self.dialect == "postgresql":
            import pyarrow.csv as pacsv

            buffer = io.BytesIO()
            pacsv.write_csv(pa.Table.from_pandas(sums[columns], preserve_index=False), buffer,
                            pacsv.WriteOptions(include_header=False))
            stage = f"{table.name}_stage"
            with self.dbapi.cursor() as cursor:
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table.name}) ON COMMIT DROP")
                cursor.execute(f"TRUNCATE {stage}")
                with cursor.copy(f"COPY {stage} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(buffer.getvalue())
                cursor.execute(f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(columns)} "
                               f"FROM {stage} {conflict}")
            return
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({_placeholders(self.conn, len(columns))}) {conflict}")
        rows = _tuples(sums, columns)
        if self.dialect == "sqlite":
            self.dbapi.cursor().executemany(sql, rows)
        else:
            self.conn.exec_driver_sql(sql, rows)


class _Rollups:
    """This import's rollup contributions, summed in memory across chunks. Text dimensions are
    grouped as integer codes (one code table per dimension for the whole import)."""

    COMPACT_AT = 3_000_000

    def __init__(self, quality_seconds: float):
        self.quality_seconds = quality_seconds
        self.values: dict[str, dict[str, int]] = {}
        self.variants: list[pd.DataFrame] = []
        self.cells: list[pd.DataFrame] = []
        self.segments: dict[str, list[pd.DataFrame]] = {kind: [] for kind in SEGMENT_KINDS}
        self._rows = 0

    def _codes(self, rows: Rows, name: str) -> np.ndarray:
        codes, values = rows.coded[name]
        table = self.values.setdefault(name, {})
        remap = np.array([table.setdefault(v, len(table)) for v in values.tolist()], dtype=np.int32)
        return remap[codes] if len(remap) else codes

    def _decode(self, name: str, codes: pd.Series) -> np.ndarray:
        values = np.array(list(self.values.get(name, {})), dtype=object)
        return values[codes.to_numpy()]

    def add(self, rows: Rows) -> None:
        if not len(rows):
            return
        played = rows.columns["played"].astype(np.int64)
        seconds = rows.columns["play_seconds"]
        base = pd.DataFrame({
            "day": rows.columns["day"], "variant_id": rows.columns["variant_id"],
            "experiment": self._codes(rows, "experiment"), "title_id": rows.columns["title_id"],
            "impressions": np.ones(len(rows), dtype=np.int64), "plays": played,
            "quality_plays": ((played == 1) & (seconds >= self.quality_seconds)).astype(np.int64),
            "play_seconds": seconds})
        self.variants.append(self._sum(base, _VARIANT_KEYS))
        self.cells.append(self._sum(base.assign(cell=self._codes(rows, "cell")), _CELL_KEYS))
        self._rows += len(self.variants[-1]) + len(self.cells[-1])
        for kind in SEGMENT_KINDS:
            part = self._sum(base.assign(segment=self._codes(rows, kind)), ["day", "variant_id", "experiment",
                                                                            "segment"])
            self.segments[kind].append(part)
            self._rows += len(part)
        if self._rows > self.COMPACT_AT:
            self._compact()

    def _compact(self) -> None:
        self.variants = [self._sum(pd.concat(self.variants, ignore_index=True), _VARIANT_KEYS)]
        self.cells = [self._sum(pd.concat(self.cells, ignore_index=True), _CELL_KEYS)]
        self._rows = len(self.variants[0]) + len(self.cells[0])
        for kind, parts in self.segments.items():
            if parts:
                self.segments[kind] = [self._sum(pd.concat(parts, ignore_index=True),
                                                 ["day", "variant_id", "experiment", "segment"])]
                self._rows += len(self.segments[kind][0])

    @staticmethod
    def _sum(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        agg = {c: "sum" for c in SUMS} | {"title_id": "first"}
        return frame.groupby(keys, sort=False).agg(agg).reset_index()

    def total_variants(self) -> pd.DataFrame:
        if not self.variants:
            return pd.DataFrame()
        self._compact()
        frame = self.variants[0]
        return frame.assign(experiment=self._decode("experiment", frame["experiment"]))

    def total_cells(self) -> pd.DataFrame:
        if not self.cells:
            return pd.DataFrame()
        self._compact()
        frame = self.cells[0]
        return frame.assign(experiment=self._decode("experiment", frame["experiment"]),
                            cell=self._decode("cell", frame["cell"]))

    def total_segments(self) -> pd.DataFrame:
        if not self.variants:
            return pd.DataFrame()
        self._compact()
        parts = [frame.assign(experiment=self._decode("experiment", frame["experiment"]), segment_kind=kind,
                              segment=self._decode(kind, frame["segment"]))
                 for kind, frames in self.segments.items() for frame in frames]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


@contextmanager
def _one_writer(engine: Engine):
    """A transaction that holds the results database's write lock from its first statement:
    import and row ids come from max(id), so imports (and deletions) take turns; readers are
    never blocked. A second writer waits (SQLite: up to the busy timeout) and is then told."""
    from sqlalchemy.exc import OperationalError

    with engine.connect() as conn:
        dbapi = conn.connection.driver_connection
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


def _prefetch(chunks: Iterator, depth: int = 2) -> Iterator:
    """Produce ``chunks`` on a second thread (Arrow parsing and validation release the GIL,
    so parsing the next chunk overlaps the database writing this one)."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def run():
        try:
            for item in chunks:
                if stop.is_set():
                    return
                box.put((item, None))
        except BaseException as exc:  # handed to the consumer, raised there
            box.put((None, exc))
            return
        box.put((done, None))

    thread = threading.Thread(target=run, name="artdash-ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, error = box.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                box.get(timeout=0.05)
            except queue.Empty:
                pass


def ingest(engine: Engine, source: bytes | Path, file_name: str, actor: str, variant_titles: Mapping[int, int],
           quality_seconds: float, mapping: Mapping[str, str] | None = None, skip_unknown: bool = False,
           kind: str = "import", chunk_rows: int = CHUNK_ROWS,
           progress: Callable[[int], None] | None = None) -> IngestReport:
    """Import one log file in one transaction. ``variant_titles`` maps every catalog variant id
    to its title id. Raises :class:`IngestError` (nothing written) if any row is bad."""
    state = _State()
    lookup = _variant_lookup(variant_titles)
    rollups = _Rollups(quality_seconds)
    n_rows = inserted = present = 0

    def validated():
        for chunk, first_line in read_chunks(source, file_name, mapping, chunk_rows):
            yield chunk.num_rows, validate_chunk(chunk, first_line, lookup, skip_unknown, state)

    with _one_writer(engine) as conn:
        import_id = (conn.execute(select(func.max(imports.c.id))).scalar() or 0) + 1
        writer = _Writer(conn, import_id)
        try:
            for n_chunk, good in _prefetch(validated()):
                n_rows += n_chunk
                if state.n_issues == 0 and len(good):
                    good.columns["import_id"] = np.full(len(good), import_id, dtype=np.int64)
                    # Neighbouring keys: fewer index pages touched per batch.
                    good = good.take(np.argsort(good.columns["event_key"], kind="stable"))
                    new = writer.insert(good)
                    fresh = good if new.all() else good.take(np.flatnonzero(new))
                    rollups.add(fresh)
                    inserted += len(fresh)
                    present += len(good) - len(fresh)
                if progress:
                    progress(n_rows)
            if n_rows == 0:
                raise IngestError("the file has a header but no rows")
            _report_duplicates(state)
            if state.n_issues:
                shown = "; ".join(f"line {i.line} ({i.column}): {i.problem}"
                                  for i in sorted(state.issues, key=lambda i: i.line)[:5])
                more = f" and {state.n_issues - 5} more" if state.n_issues > 5 else ""
                raise IngestError(f"{state.n_issues} bad row(s), nothing imported — {shown}{more}",
                                  tuple(sorted(state.issues, key=lambda i: i.line)), state.n_issues)
            if inserted:
                writer.add_rollups(rollup_variants, _VARIANT_KEYS, rollups.total_variants())
                writer.add_rollups(rollup_cells, _CELL_KEYS, rollups.total_cells())
                writer.add_rollups(rollup_segments, _SEGMENT_KEYS, rollups.total_segments())
            conn.execute(imports.insert().values(
                id=import_id, kind=kind, source=file_name[:300], created_at=clock.now(), created_by=actor,
                n_rows=n_rows, n_already_present=present, n_skipped=state.n_skipped,
                quality_seconds=quality_seconds))
        finally:
            writer.close()
        if inserted and conn.dialect.name == "sqlite":
            # Fresh statistics, or SQLite's planner may pick the wrong rollup index.
            conn.exec_driver_sql("ANALYZE rollup_variants")
            conn.exec_driver_sql("ANALYZE rollup_segments")
    return IngestReport(import_id, n_rows, inserted, present, state.n_skipped, tuple(state.skipped))


_STORED = ["day", "variant_id", "title_id", "experiment", "cell", "policy", "country", "device", "played",
           "play_seconds"]


def _stored_rollups(conn: Connection, where, quality_seconds: float, chunk_rows: int) -> tuple[_Rollups, int]:
    """The rollup contributions of stored impressions matching ``where``, read in chunks."""
    rollups = _Rollups(quality_seconds)
    query = select(*(impressions.c[c] for c in _STORED))
    if where is not None:
        query = query.where(where)
    count = 0
    result = conn.execute(query.execution_options(yield_per=chunk_rows))
    for part in result.partitions(chunk_rows):
        frame = pd.DataFrame(part, columns=_STORED)
        coded = {}
        for name in ("policy", "experiment", "cell", "country", "device"):
            codes, values = pd.factorize(frame[name].astype(object))
            coded[name] = (codes.astype(np.int32), np.asarray(values, dtype=object))
        rollups.add(Rows({c: frame[c].to_numpy() for c in ("day", "variant_id", "title_id", "played",
                                                            "play_seconds")}
                         | {"event_key": np.zeros(len(frame), dtype=np.int64)}, coded))
        count += len(frame)
    return rollups, count


def _write_rollups(conn: Connection, rollups: _Rollups, sign: int) -> None:
    from sqlalchemy import delete

    writer = _Writer(conn, 0)
    try:
        for table, keys, sums in ((rollup_variants, _VARIANT_KEYS, rollups.total_variants()),
                                  (rollup_cells, _CELL_KEYS, rollups.total_cells()),
                                  (rollup_segments, _SEGMENT_KEYS, rollups.total_segments())):
            if not sums.empty:
                for c in SUMS:
                    sums[c] = sign * sums[c]
                writer.add_rollups(table, keys, sums)
                if sign < 0:
                    conn.execute(delete(table).where(table.c.impressions <= 0))
    finally:
        writer.close()


def delete_import(engine: Engine, import_id: int, chunk_rows: int = 200_000) -> int:
    """Remove one import's impressions and their contributions to the rollups, in one
    transaction (e.g. a policy-lab simulation). Returns the number of impressions removed."""
    from sqlalchemy import delete

    from artdash.errors import NotFoundError

    with _one_writer(engine) as conn:
        row = conn.execute(select(imports).where(imports.c.id == import_id)).first()
        if row is None:
            raise NotFoundError(f"there is no import #{import_id} in the results database")
        rollups, removed = _stored_rollups(conn, impressions.c.import_id == import_id, row.quality_seconds,
                                           chunk_rows)
        _write_rollups(conn, rollups, -1)
        conn.execute(delete(impressions).where(impressions.c.import_id == import_id))
        conn.execute(delete(imports).where(imports.c.id == import_id))
    return removed


def rebuild_rollups(engine: Engine, quality_seconds: float, chunk_rows: int = 500_000,
                    progress: Callable[[int], None] | None = None) -> int:
    """Recompute every rollup from the stored impressions with ``quality_seconds`` as the
    quality-play threshold (after the setting changed), in one transaction. Returns the number
    of impressions read."""
    from sqlalchemy import delete, update

    if not quality_seconds >= 0:
        raise ValidationError("the quality-play threshold must be a number of seconds ≥ 0")
    with _one_writer(engine) as conn:
        for table in (rollup_variants, rollup_cells, rollup_segments):
            conn.execute(delete(table))
        rollups, count = _stored_rollups(conn, None, quality_seconds, chunk_rows)
        if progress:
            progress(count)
        _write_rollups(conn, rollups, +1)
        conn.execute(update(imports).values(quality_seconds=quality_seconds))
    return count
