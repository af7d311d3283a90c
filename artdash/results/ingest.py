"""Import impression logs: CSV or Parquet, streamed in chunks, validated row by row, atomic
(one transaction: a bad file changes nothing) and idempotent (an event already in the log is
counted, not added again). Daily rollups are updated in the same transaction."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select, text

from artdash.errors import ValidationError
from artdash.results.schema import imports, impressions

COLUMNS = ("event_id", "timestamp", "member_id", "title_id", "variant_id", "policy", "experiment", "cell",
           "propensity", "played", "play_seconds", "country", "device")
REQUIRED = ("event_id", "timestamp", "member_id", "title_id", "variant_id", "policy", "propensity", "played",
            "play_seconds")
TRUE_WORDS = {"1", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "false", "f", "no", "n"}
MAX_ISSUES_KEPT = 1000
CHUNK_ROWS = 200_000
KEY_BATCH = 5000
_ZONE = r"(?:[zZ]|[+-]\d\d:?\d\d)$"


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

    seen: dict[int, int] = field(default_factory=dict)  # event key → line first seen (for messages)
    seen_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    zoned: bool | None = None                           # whether the file's timestamps carry a zone
    issues: list[IngestIssue] = field(default_factory=list)
    n_issues: int = 0
    skipped: list[int] = field(default_factory=list)
    n_skipped: int = 0

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


def read_chunks(source: bytes | Path, file_name: str, mapping: Mapping[str, str] | None = None,
                chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[pd.DataFrame, int]]:
    """(chunk with canonical column names, line number of its first row) — streamed."""
    mapping = {k.strip().lower(): v for k, v in (mapping or {}).items()}
    is_path = isinstance(source, Path)
    if is_path:
        with source.open("rb") as f:
            head = f.read(4)
    else:
        head = source[:4]
    if (is_path and source.stat().st_size == 0) or (not is_path and not source):
        raise IngestError("the file is empty; export the impression log again")
    if head == b"PAR1" or file_name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(source if is_path else io.BytesIO(source))
        except Exception as exc:
            raise IngestError(f"the Parquet file cannot be read ({str(exc)[:120]})") from None
        first = 1
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            frame = batch.to_pandas().astype(str)
            yield _canonical(frame, mapping), first
            first += len(frame)
        return
    handle = source.open("rb") if is_path else io.BytesIO(source)
    try:
        reader = pd.read_csv(handle, dtype=str, keep_default_na=False, chunksize=chunk_rows, encoding="utf-8",
                             encoding_errors="strict")
        first = 2  # line 1 is the header
        for frame in reader:
            yield _canonical(frame, mapping), first
            first += len(frame)
    except UnicodeDecodeError as exc:
        raise IngestError(f"the file is not UTF-8 text (byte {exc.start} of a block is invalid); save it as "
                          "UTF-8 and import again") from None
    except pd.errors.EmptyDataError:
        raise IngestError("the file has no header row; the first line must name the columns") from None
    except pd.errors.ParserError as exc:
        raise IngestError(f"the file is not valid CSV ({str(exc)[:160]})") from None
    finally:
        handle.close()


def _canonical(frame: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    frame.columns = [mapping.get(str(c).strip().lower(), str(c).strip().lower()) for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise IngestError(
            f"missing column(s): {', '.join(missing)}. The file has: {', '.join(map(str, frame.columns))}. "
            "If they are there under other names, map them (e.g. --map ts=timestamp)")
    for optional in ("experiment", "cell", "country", "device"):
        if optional not in frame.columns:
            frame[optional] = ""
    return frame[list(COLUMNS)]


def validate_chunk(frame: pd.DataFrame, first_line: int, variant_titles: Mapping[int, int], skip_unknown: bool,
                   state: _State) -> pd.DataFrame:
    """Check one chunk; returns its good rows (typed), records problems in ``state``."""
    lines = np.arange(first_line, first_line + len(frame))
    bad = np.zeros(len(frame), dtype=bool)

    def flag(mask, column, problem):
        mask = np.asarray(mask, dtype=bool) & ~bad
        if mask.any():
            state.report(lines[mask], column, problem)
            bad[mask] = True

    event_id = frame["event_id"].str.strip()
    flag(event_id.eq("").to_numpy(), "event_id", "empty event id")
    flag(event_id.str.len().gt(100).to_numpy(), "event_id", "event id longer than 100 characters")
    member = frame["member_id"].str.strip()
    flag(member.eq("").to_numpy(), "member_id", "empty member id")

    stamp = frame["timestamp"].str.strip()
    zoned = stamp.str.contains(_ZONE, regex=True).to_numpy()
    if state.zoned is None and len(zoned):
        state.zoned = bool(zoned[0])
    if state.zoned is not None:
        flag(zoned != state.zoned, "timestamp",
             "mixed time zones: some timestamps carry a zone and others don't; give every timestamp a zone "
             "(e.g. 2026-11-01T20:15:00Z) or none (then UTC is assumed)")
    parsed = pd.to_datetime(stamp, utc=True, errors="coerce", format="ISO8601")
    flag(parsed.isna().to_numpy(), "timestamp", "not a timestamp (use ISO 8601, e.g. 2026-11-01T20:15:00Z)")

    title = pd.to_numeric(frame["title_id"].str.strip(), errors="coerce")
    variant = pd.to_numeric(frame["variant_id"].str.strip(), errors="coerce")
    flag((title.isna() | (title % 1 != 0)).to_numpy(), "title_id", "not a whole-number title id")
    flag((variant.isna() | (variant % 1 != 0)).to_numpy(), "variant_id", "not a whole-number variant id")
    known_title = variant.map(pd.Series(variant_titles, dtype="float64"))
    unknown = known_title.isna().to_numpy() & ~bad
    if skip_unknown:
        state.n_skipped += int(unknown.sum())
        state.skipped.extend(lines[unknown][:MAX_ISSUES_KEPT - len(state.skipped)].tolist())
        bad |= unknown
    else:
        flag(unknown, "variant_id", "unknown variant id (not in the catalog); fix it or import with "
                                    "'skip unknown ids'")
    flag((known_title.notna() & (known_title != title)).to_numpy(), "title_id",
         "this variant belongs to another title")

    propensity = pd.to_numeric(frame["propensity"].str.strip(), errors="coerce")
    flag((propensity.isna() | (propensity <= 0) | (propensity > 1)).to_numpy(), "propensity",
         "propensity must be a number in (0, 1]: the probability the policy gave this image")
    played_text = frame["played"].str.strip().str.lower()
    played = played_text.map({**{w: 1 for w in TRUE_WORDS}, **{w: 0 for w in FALSE_WORDS}}).fillna(-1)
    flag((played < 0).to_numpy(), "played", "played must be true/false, 1/0 or yes/no")
    seconds = pd.to_numeric(frame["play_seconds"].str.strip().replace("", "0"), errors="coerce")
    flag((seconds.isna() | (seconds < 0)).to_numpy(), "play_seconds", "play seconds must be a number ≥ 0")
    flag(frame["policy"].str.strip().eq("").to_numpy(), "policy", "empty policy name")

    keys = event_keys(event_id)
    in_chunk = pd.Series(keys).duplicated().to_numpy()
    seen_before = np.isin(keys, state.seen_keys) if len(state.seen_keys) else np.zeros(len(keys), bool)
    duplicate = (in_chunk | seen_before) & ~bad
    if duplicate.any():
        first_line = pd.Series(lines).groupby(keys).transform("first").to_numpy()
        problems = [f"duplicate event id: same as line {state.seen.get(int(k), int(f))}"
                    for k, f in zip(keys[duplicate], first_line[duplicate])]
        state.report(lines[duplicate], "event_id", problems)
        bad |= duplicate
    # Remember this chunk's keys (and, for messages, the line of each) for later chunks.
    state.seen_keys = np.union1d(state.seen_keys, keys)
    if len(state.seen) < 2_000_000:
        state.seen.update(zip(keys[~in_chunk].tolist(), lines[~in_chunk].tolist()))

    good = ~bad
    # Seconds since the epoch, whatever resolution pandas parsed to (pandas 3 may pick µs).
    ts = ((parsed[good] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.int64)
    return pd.DataFrame({
        "event_key": keys[good], "event_id": event_id[good].to_numpy(), "ts": ts, "day": ts // 86400,
        "member_id": member[good].to_numpy(), "title_id": title[good].astype(np.int64).to_numpy(),
        "variant_id": variant[good].astype(np.int64).to_numpy(),
        "policy": frame["policy"][good].str.strip().to_numpy(),
        "experiment": frame["experiment"][good].str.strip().to_numpy(),
        "cell": frame["cell"][good].str.strip().to_numpy(),
        "propensity": propensity[good].to_numpy(), "played": played[good].astype(np.int16).to_numpy(),
        "play_seconds": seconds[good].to_numpy(),
        "country": frame["country"][good].str.strip().str.upper().str[:2].to_numpy(),
        "device": frame["device"][good].str.strip().str.lower().str[:10].to_numpy(),
    })


def _existing_keys(conn: Connection, keys: np.ndarray) -> set[int]:
    """Keys of this chunk already in the log (primary-key lookups, in batches)."""
    found: set[int] = set()
    for start in range(0, len(keys), KEY_BATCH):
        batch = keys[start:start + KEY_BATCH].tolist()
        sql = f"SELECT event_key FROM impressions WHERE event_key IN ({_placeholders(conn, len(batch))})"
        found.update(row[0] for row in conn.exec_driver_sql(sql, tuple(batch)))
    return found


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


def _bulk_insert(conn: Connection, rows: pd.DataFrame) -> None:
    """Insert through the driver's executemany with plain tuples: the ORM/Core per-row
    parameter handling costs more than the database's own work at these volumes."""
    columns = [c.name for c in impressions.columns]
    sql = f"INSERT INTO impressions ({', '.join(columns)}) VALUES ({_placeholders(conn, len(columns))})"
    values = [rows[c].tolist() for c in columns]
    tuples = list(zip(*values))
    for start in range(0, len(tuples), 50_000):
        conn.exec_driver_sql(sql, tuples[start:start + 50_000])


def _write(conn: Connection, rows: pd.DataFrame, import_id: int, quality_seconds: float) -> tuple[int, int]:
    present = _existing_keys(conn, rows["event_key"].to_numpy())
    new = rows[~rows["event_key"].isin(present)] if present else rows
    if not new.empty:
        _bulk_insert(conn, new.assign(import_id=import_id))
    return len(new), len(rows) - len(new)


_SUMS = ("impressions", "plays", "quality_plays", "play_seconds")
_KEYS = ("day", "title_id", "variant_id", "experiment", "cell", "segment_kind", "segment")


def _rollup_import(conn: Connection, import_id: int, quality_seconds: float) -> None:
    """Add this import's new impressions to the daily rollups: one set-based
    INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE per segment kind, inside the database
    (the same SQL on SQLite, PostgreSQL and DuckDB)."""
    for kind, column in (("all", None), ("country", "country"), ("device", "device"), ("policy", "policy")):
        segment = column or "''"
        group = "day, title_id, variant_id, experiment, cell" + (f", {column}" if column else "")
        conn.execute(text(
            f"INSERT INTO daily_rollups ({', '.join(_KEYS + _SUMS)}) "
            f"SELECT day, title_id, variant_id, experiment, cell, '{kind}', {segment}, count(*), sum(played), "
            f"sum(CASE WHEN played = 1 AND play_seconds >= :quality THEN 1 ELSE 0 END), sum(play_seconds) "
            f"FROM impressions WHERE import_id = :import_id GROUP BY {group} "
            f"ON CONFLICT ({', '.join(_KEYS)}) DO UPDATE SET "
            + ", ".join(f"{c} = daily_rollups.{c} + excluded.{c}" for c in _SUMS)),
            {"quality": quality_seconds, "import_id": import_id})


def ingest(engine: Engine, source: bytes | Path, file_name: str, actor: str, variant_titles: Mapping[int, int],
           quality_seconds: float, mapping: Mapping[str, str] | None = None, skip_unknown: bool = False,
           kind: str = "import", chunk_rows: int = CHUNK_ROWS,
           progress: Callable[[int], None] | None = None) -> IngestReport:
    """Import one log file in one transaction. ``variant_titles`` maps every catalog variant id
    to its title id. Raises :class:`IngestError` (nothing written) if any row is bad."""
    state = _State()
    n_rows = inserted = present = 0
    with engine.begin() as conn:
        import_id = (conn.execute(select(func.max(imports.c.id))).scalar() or 0) + 1
        for frame, first_line in read_chunks(source, file_name, mapping, chunk_rows):
            n_rows += len(frame)
            good = validate_chunk(frame, first_line, variant_titles, skip_unknown, state)
            if state.n_issues == 0 and not good.empty:
                new, old = _write(conn, good, import_id, quality_seconds)
                inserted += new
                present += old
            if progress:
                progress(n_rows)
        if n_rows == 0:
            raise IngestError("the file has a header but no rows")
        if state.n_issues:
            shown = "; ".join(f"line {i.line} ({i.column}): {i.problem}" for i in state.issues[:5])
            more = f" and {state.n_issues - 5} more" if state.n_issues > 5 else ""
            conn.rollback()
            raise IngestError(f"{state.n_issues} bad row(s), nothing imported — {shown}{more}",
                              tuple(state.issues), state.n_issues)
        if inserted:
            _rollup_import(conn, import_id, quality_seconds)
            if conn.dialect.name == "sqlite":
                # Fresh statistics, or SQLite's planner may scan the wrong rollup index.
                conn.exec_driver_sql("ANALYZE daily_rollups")
        conn.execute(imports.insert().values(
            id=import_id, kind=kind, source=file_name[:300], created_at=datetime.now(UTC), created_by=actor,
            n_rows=n_rows, n_already_present=present, n_skipped=state.n_skipped, quality_seconds=quality_seconds))
    return IngestReport(import_id, n_rows, inserted, present, state.n_skipped, tuple(state.skipped))
