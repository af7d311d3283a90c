"""Checking each chunk of a log, vectorised: every refusal names its line and column; duplicates within the file are found across chunks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.core.util.hashing import hash_array

from artdash.errors import RowIssue, RowsRefused
from artdash.results.names import CatalogNames, resolve_titles, resolve_variants

TRUE_WORDS = {"1", "true", "t", "yes", "y"}
FALSE_WORDS = {"0", "false", "f", "no", "n"}
MAX_ISSUES_KEPT = 1000
TEXT_LIMITS = {"member_id": 100, "policy": 40, "experiment": 80, "cell": 40}
_ZONE = r"(?:[zZ]|[+-]\d\d:?\d\d)$"
_DATE_START = r"^\s*\d{4}-?\d\d-?\d\d"   # what every ISO 8601 time starts with (2026-11-01 or 20261101)


class IngestError(RowsRefused):
    """A log file that cannot be imported; nothing was written. ``issues`` lists bad rows."""


@dataclass
class IngestState:
    """What validation must remember across chunks."""

    zoned: bool | None = None                 # whether the file's timestamps carry a zone
    issues: list[RowIssue] = field(default_factory=list)
    n_issues: int = 0
    skipped: list[int] = field(default_factory=list)
    n_skipped: int = 0
    keys: list[np.ndarray] = field(default_factory=list)    # event keys of good rows, per chunk
    lines: list[np.ndarray] = field(default_factory=list)   # their line numbers (int32: 4 bytes a row)
    collect_keys: bool = True                 # False where the log finds repeated ids itself

    def report(self, lines: np.ndarray, column: str, problem: str | Sequence[str]) -> None:
        """Count the problem on every line of ``lines`` (one text, or one per line) and keep the first ones."""
        self.n_issues += len(lines)
        for i, line in enumerate(lines.tolist()):
            if len(self.issues) >= MAX_ISSUES_KEPT:
                break
            self.issues.append(RowIssue(int(line), column, problem if isinstance(problem, str) else problem[i]))


def event_keys(event_ids: pd.Series | np.ndarray | Sequence[str]) -> np.ndarray:
    """Stable 63-bit keys of event ids (fits a signed BIGINT on every database): pandas'
    SipHash of each id's UTF-8 bytes, as ``pd.util.hash_pandas_object`` gives it — hashed
    value by value (``categorize=False``: the same numbers, without first finding the
    distinct ids, which event ids all are), five times faster."""
    values = np.asarray(event_ids.to_numpy(dtype=object) if isinstance(event_ids, pd.Series) else event_ids,
                        dtype=object)
    hashed = hash_array(values, categorize=False)
    return (hashed >> np.uint64(1)).astype(np.int64)


# --- validation ------------------------------------------------------------------------------

def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as trimmed text (Parquet columns may arrive typed)."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(column, ""))


def _numbers(column: pa.ChunkedArray, trimmed: pa.ChunkedArray | None = None) -> np.ndarray:
    """Floats, NaN where the text is not a number. Arrow's cast first; only if it refuses the
    chunk, pandas finds which rows are not numbers. ``trimmed``: the column's text, if known."""
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    text = trimmed if trimmed is not None else _text(column)
    try:
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pd.to_numeric(pd.Series(text.to_pylist(), dtype=object), errors="coerce").to_numpy(np.float64)


def _timestamps(column: pa.ChunkedArray, zoned: bool, trimmed: pa.ChunkedArray | None = None,
                parsed: pa.ChunkedArray | None = None) -> np.ndarray:
    """Seconds since the epoch (UTC) as float, NaN where the text is not an ISO 8601 time.
    ``trimmed``: the column's text, if known; ``parsed``: Arrow's reading of it, if done."""
    if pa.types.is_timestamp(column.type):
        micros = pc.cast(column, pa.timestamp("us", tz=column.type.tz)).cast(pa.int64())
        return micros.to_numpy(zero_copy_only=False).astype(np.float64) // 1_000_000
    text = trimmed if trimmed is not None else _text(column)
    try:
        if parsed is None:
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


def _zones(text: pa.ChunkedArray) -> tuple[bool, pa.ChunkedArray] | None:
    """(whether every timestamp has a zone, Arrow's reading of them) when they all read as
    one kind — with a zone, or all without — else None (then each is looked at)."""
    for zoned, kind in ((True, pa.timestamp("us", tz="UTC")), (False, pa.timestamp("us"))):
        try:
            return zoned, pc.cast(text, kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return None


def _coded(column: pa.ChunkedArray, transform: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Low-cardinality text as (codes, distinct values), trimmed — and ``transform``ed, e.g.
    lower-cased — on its distinct values only, not on every row."""
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
    encoded = pc.dictionary_encode(pc.fill_null(column, "").combine_chunks())
    values = pc.utf8_trim_whitespace(encoded.dictionary)
    if transform is not None:
        values = transform(values)
    distinct, inverse = np.unique(np.asarray(values.to_numpy(zero_copy_only=False), dtype=object).astype(str),
                                  return_inverse=True)     # trimmed values may coincide
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    return inverse.reshape(-1)[codes].astype(np.int32), distinct.astype(object)


def _lengths(coded: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    codes, values = coded
    return np.array([len(v) for v in values], dtype=np.int64)[codes] if len(values) else np.zeros(0, np.int64)


def _played(column: pa.ChunkedArray) -> np.ndarray:
    """1, 0, or -1 where the value is not a boolean."""
    if pa.types.is_boolean(column.type):
        return pc.fill_null(pc.cast(column, pa.int8()), -1).to_numpy(zero_copy_only=False).astype(np.int16)
    codes, words = _coded(column, pc.utf8_lower)
    meaning = np.full(len(words), -1, dtype=np.int16)
    meaning[np.isin(words, sorted(TRUE_WORDS))] = 1
    meaning[np.isin(words, sorted(FALSE_WORDS))] = 0
    return meaning[codes] if len(words) else np.full(len(codes), -1, dtype=np.int16)


def _as_numpy(column: pa.ChunkedArray) -> np.ndarray:
    return column.to_numpy(zero_copy_only=False)


def variant_lookup(variant_titles: Mapping[int, int]) -> np.ndarray:
    """Dense variant id → title id table (0 = unknown)."""
    top = max(variant_titles, default=0)
    table = np.zeros(top + 2, dtype=np.int64)
    if variant_titles:
        table[np.fromiter(variant_titles.keys(), np.int64)] = np.fromiter(variant_titles.values(), np.int64)
    return table


@dataclass
class Rows:
    """Validated rows of one chunk: typed columns, low-cardinality text as (codes, values),
    ids (event, member) as Arrow text — never as Python strings unless a driver needs them."""

    columns: dict[str, np.ndarray]
    coded: dict[str, tuple[np.ndarray, np.ndarray]]
    text: dict[str, pa.Array] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns["event_key"])

    def column(self, name: str) -> np.ndarray:
        """One column of the valid rows."""
        if name in self.coded:
            codes, values = self.coded[name]
            return values[codes] if len(values) else np.array([], dtype=object)
        if name in self.text:
            return np.asarray(self.text[name].to_numpy(zero_copy_only=False), dtype=object)
        return self.columns[name]

    def take(self, index: np.ndarray) -> Rows:
        """The rows at ``index``."""
        at = pa.array(np.asarray(index, dtype=np.int64))
        return Rows({k: v[index] for k, v in self.columns.items()},
                    {k: (codes[index], values) for k, (codes, values) in self.coded.items()},
                    {k: v.take(at) for k, v in self.text.items()})

    def tuples(self, names: list[str]) -> list[tuple[Any, ...]]:
        """The rows as tuples of the named columns (for a driver's executemany)."""
        return list(zip(*[self.column(n).tolist() for n in names]))


def validate_chunk(chunk: pa.Table, first_line: int, lookup: np.ndarray, skip_unknown: bool,
                   state: IngestState, names: CatalogNames | None = None) -> Rows:
    """Check one chunk; returns its good rows (typed), records problems in ``state``."""
    n = chunk.num_rows
    lines = np.arange(first_line, first_line + n)
    bad = np.zeros(n, dtype=bool)

    def flag(mask: np.ndarray, column: str, problem: str | Sequence[str]) -> None:
        mask = np.asarray(mask, dtype=bool) & ~bad
        if mask.any():
            state.report(lines[mask], column, problem)
            bad[mask] = True

    event_id = _text(chunk["event_id"])
    id_length = _as_numpy(pc.utf8_length(event_id))
    flag(id_length == 0, "event_id", "empty event id")
    flag(id_length > 100, "event_id", "event id longer than 100 characters")
    member = _text(chunk["member_id"])
    member_length = _as_numpy(pc.utf8_length(member))
    flag(member_length == 0, "member_id", "empty member id")
    # Low-cardinality text is trimmed and checked on its distinct values (a few per chunk).
    coded = {"policy": _coded(chunk["policy"]), "experiment": _coded(chunk["experiment"]),
             "cell": _coded(chunk["cell"]),
             "country": _coded(chunk["country"], lambda v: pc.utf8_slice_codeunits(pc.utf8_upper(v), 0, 2)),
             "device": _coded(chunk["device"], lambda v: pc.utf8_slice_codeunits(pc.utf8_lower(v), 0, 10))}
    # Text the log stores has the schema's lengths (PostgreSQL would refuse longer with a raw
    # database error; SQLite would keep megabytes of it).
    for column, limit in TEXT_LIMITS.items():
        lengths = member_length if column == "member_id" else _lengths(coded[column])
        flag(lengths > limit, column, f"{column.replace('_', ' ')} longer than {limit} characters")

    stamps = chunk["timestamp"]
    stamp_text = parsed = None
    if pa.types.is_timestamp(stamps.type):
        zoned = np.full(n, stamps.type.tz is not None)
    else:
        stamp_text = _text(stamps)
        read = _zones(stamp_text)              # the common case: every one reads, all of one kind
        if read is not None:
            zoned = np.full(n, read[0])
            parsed = read[1] if state.zoned in (None, read[0]) else None
        else:
            # a value that is no date at all ("yesterday") is said to be so, not taken for a zone mismatch
            flag(~_as_numpy(pc.match_substring_regex(stamp_text, _DATE_START)), "timestamp",
                 "not a timestamp (use ISO 8601, e.g. 2026-11-01T20:15:00Z)")
            zoned = _as_numpy(pc.match_substring_regex(stamp_text, _ZONE))
    if state.zoned is None and (~bad).any():
        state.zoned = bool(zoned[~bad][0])
    flag(zoned != state.zoned, "timestamp",
         "mixed time zones: some timestamps carry a zone and others don't; give every timestamp a zone "
         "(e.g. 2026-11-01T20:15:00Z) or none (then UTC is assumed)")
    ts = _timestamps(stamps, bool(state.zoned), stamp_text, parsed)
    flag(np.isnan(ts), "timestamp", "not a timestamp (use ISO 8601, e.g. 2026-11-01T20:15:00Z)")

    def flag_rows(rows: np.ndarray, column: str, problems: list[str]) -> None:
        if len(rows):
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            texts = np.empty(n, dtype=object)
            texts[rows] = problems
            flag(mask, column, list(texts[mask & ~bad]))

    title = _numbers(chunk["title_id"])
    if names is not None and np.isnan(title).any():  # some titles are named, not numbered
        title, named_bad, problems = resolve_titles(_text(chunk["title_id"]), names)
        flag_rows(named_bad, "title_id", problems)
    variant = _numbers(chunk["variant_id"])
    if names is not None and np.isnan(variant).any():
        variant, named_bad, problems = resolve_variants(_text(chunk["variant_id"]), title, names)
        flag_rows(named_bad, "variant_id", problems)
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
        trimmed = _text(seconds_text)
        seconds_text = pc.if_else(pc.equal(trimmed, ""), "0", trimmed)
        seconds = _numbers(seconds_text, seconds_text)
    else:
        seconds = _numbers(seconds_text)
    flag(~np.isfinite(seconds) | (seconds < 0), "play_seconds", "play seconds must be a number ≥ 0")
    flag(_lengths(coded["policy"]) == 0, "policy", "empty policy name")

    event_text = event_id.to_numpy(zero_copy_only=False)
    keys = event_keys(event_text)
    good = ~bad
    if state.collect_keys:
        state.keys.append(keys[good])
        state.lines.append(lines[good].astype(np.int32) if len(lines) and lines[-1] < 2**31 else lines[good])
    everything = bool(good.all())     # the common case: the chunk's columns kept as they are
    at = None if everything else pa.array(np.flatnonzero(good))

    def kept(values: Any) -> Any:
        if isinstance(values, pa.ChunkedArray):
            return (values if at is None else values.take(at)).combine_chunks()
        return values if everything else values[good]

    ts_good = kept(ts).astype(np.int64)

    return Rows(
        columns={"event_key": kept(keys), "line": kept(lines), "ts": ts_good, "day": ts_good // 86400,
                 "title_id": kept(title).astype(np.int64), "variant_id": kept(variant).astype(np.int64),
                 "propensity": kept(propensity), "played": kept(played), "play_seconds": kept(seconds)},
        coded={name: (kept(codes), values) for name, (codes, values) in coded.items()},
        text={"event_id": kept(event_id), "member_id": kept(member)})


def report_duplicates(state: IngestState) -> None:
    """Event ids that occur twice in the file (checked once over every good row's key).

    Lean on memory (a 100M-row file kept the keys, their lines and four sorted copies — 7 GB):
    the keys are sorted in place and compared once; only when some key repeats are the lines of
    those few keys looked up, chunk by chunk."""
    if not state.keys:
        return
    keys = np.concatenate(state.keys)
    keys.sort()
    repeated = np.unique(keys[1:][keys[1:] == keys[:-1]])
    del keys
    if not len(repeated):
        state.keys, state.lines = [], []      # checked: the rest of the import needs them no more
        return
    found_keys, found_lines = [], []
    for chunk_keys, chunk_lines in zip(state.keys, state.lines):
        hit = np.isin(chunk_keys, repeated)
        found_keys.append(chunk_keys[hit])
        found_lines.append(chunk_lines[hit].astype(np.int64))
    keys, lines = np.concatenate(found_keys), np.concatenate(found_lines)
    order = np.lexsort((lines, keys))         # by key, then line: the first of each run is its first line
    sorted_keys, sorted_lines = keys[order], lines[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    repeat = ~starts
    dup_lines, first_lines = sorted_lines[repeat], sorted_lines[first[repeat]]
    in_order = np.argsort(dup_lines, kind="stable")
    state.report(dup_lines[in_order], "event_id",
                 [f"duplicate event id: same as line {f}" for f in first_lines[in_order][:MAX_ISSUES_KEPT]])
