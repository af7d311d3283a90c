"""Event ids that two logs share: a repeat of the same row is the same event (imports stay
idempotent), a repeat with a different row is two events numbered alike — two exports that
each count their events from 0 — and is refused before anything is written.

    >>> check = CollisionCheck(stored_rows)      # looks the log's rows up by event key
    >>> check.add(rows, new)                     # each chunk: the rows the log held already
    >>> check.result()                           # None, or what collided and where

An import that knows its ids collide gives them a prefix (``--event-id-prefix b-``): every
event id of the file becomes ``b-<id>``, a space of its own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from artdash.results.validate import IngestError, Rows

MAX_PREFIX = 40
# What makes two rows one event: when, which image, under which policy, and what the member did.
COMPARED = ("ts", "variant_id", "policy", "played", "play_seconds", "propensity")
SHOWN = 5  # collisions named in the refusal
BATCH_ROWS = 1_000_000  # repeated rows compared at a time


def check_prefix(prefix: str) -> str:
    """The prefix as given, or a refusal saying what a prefix may be."""
    if len(prefix) > MAX_PREFIX:
        raise IngestError(f"an event-id prefix has at most {MAX_PREFIX} characters (got {len(prefix)})")
    if any(unicodedata.category(ch).startswith(("C", "Z")) and ch != " " for ch in prefix) or prefix != prefix.strip():
        raise IngestError("an event-id prefix is letters, digits and punctuation, e.g. 'b-' or 'export2:' — "
                              "no spaces at its ends, no tabs or line breaks")
    return prefix


def with_prefix(chunk: pa.Table, prefix: str) -> pa.Table:
    """``chunk`` with ``prefix`` before every non-empty event id (an empty id stays empty:
    it is refused as empty, not imported as the prefix alone)."""
    if not prefix:
        return chunk
    at = chunk.schema.get_field_index("event_id")
    ids = pc.cast(chunk.column(at), pa.string())
    trimmed = pc.utf8_trim_whitespace(ids)
    joined = pc.binary_join_element_wise(pa.scalar(prefix), trimmed, "")
    return chunk.set_column(at, "event_id", pc.if_else(pc.equal(trimmed, ""), trimmed, joined))


@dataclass(frozen=True)
class Collisions:
    """Rows whose event id the log holds with another row: how many, and the first few."""

    count: int
    lines: tuple[int, ...]
    differences: tuple[str, ...]

    def message(self, file_name: str) -> str:
        """The refusal: what collided, where, and what to do."""
        shown = "; ".join(f"line {line}: {what}" for line, what in zip(self.lines, self.differences))
        more = f" and {self.count - len(self.lines):,} more" if self.count > len(self.lines) else ""
        return (f"{self.count:,} event id(s) of {file_name} were imported before with a different row, nothing "
                f"imported — {shown}{more}. The two logs seem to number their events alike: import this file "
                "with an event-id prefix (`--event-id-prefix b-` on the command line, 'Prefix its event ids' on "
                "the page) so that its ids are its own")


class CollisionCheck:
    """Compares the rows of a file whose event id the log holds already with the stored rows,
    a batch at a time (a re-imported 100M-row file is never held whole): ``stored`` returns the
    log's rows for some event keys (columns ``event_key`` and :data:`COMPARED`)."""

    def __init__(self, stored: Callable[[np.ndarray], pd.DataFrame], batch_rows: int = BATCH_ROWS):
        self.stored = stored
        self.batch_rows = batch_rows
        self._parts: list[pd.DataFrame] = []
        self._held = 0
        self.count = 0
        self.found: list[tuple[int, str]] = []

    def add(self, rows: Rows, new: np.ndarray) -> None:
        """Keep the chunk's rows that were not new; compare once a batch is full."""
        old = np.flatnonzero(~np.asarray(new, dtype=bool))
        if not len(old):
            return
        part = {"event_key": rows.columns["event_key"][old], "line": rows.columns["line"][old]}
        part.update({name: np.asarray(rows.column(name))[old] for name in COMPARED})
        part["event_id"] = np.asarray(rows.text["event_id"].take(pa.array(old)).to_numpy(zero_copy_only=False),
                                      dtype=object) if "event_id" in rows.text else np.full(len(old), "", dtype=object)
        self._parts.append(pd.DataFrame(part))
        self._held += len(old)
        if self._held >= self.batch_rows:
            self._compare()

    def result(self) -> Collisions | None:
        """What collided (None: every repeat is the same event)."""
        self._compare()
        if not self.count:
            return None
        self.found.sort()
        return Collisions(self.count, tuple(line for line, _ in self.found[:SHOWN]),
                          tuple(what for _, what in self.found[:SHOWN]))

    def _compare(self) -> None:
        if not self._parts:
            return
        mine = pd.concat(self._parts, ignore_index=True)
        self._parts, self._held = [], 0
        theirs = self.stored(mine["event_key"].to_numpy()).drop_duplicates("event_key")
        both = mine.merge(theirs, on="event_key", suffixes=("", "_stored")).sort_values("line", kind="stable")
        diffs = {}
        for name in COMPARED:
            a, b = both[name].to_numpy(), both[f"{name}_stored"].to_numpy()
            diffs[name] = (a.astype(str) != b.astype(str) if name == "policy"
                           else ~np.isclose(a.astype(float), b.astype(float), rtol=0, atol=1e-9))
        differs = np.logical_or.reduce(list(diffs.values())) if len(both) else np.zeros(0, dtype=bool)
        self.count += int(differs.sum())
        for i in np.flatnonzero(differs)[:SHOWN]:
            parts = [f"{_label(name)} {_show(name, both[name].iat[i])} here, "
                     f"{_show(name, both[f'{name}_stored'].iat[i])} before" for name in COMPARED if diffs[name][i]]
            self.found.append((int(both["line"].iat[i]), f"event id {both['event_id'].iat[i]!r}: " + ", ".join(parts)))
        self.found = sorted(self.found)[:SHOWN]


def _label(name: str) -> str:
    return {"ts": "time", "variant_id": "variant", "play_seconds": "play seconds"}.get(name, name)


def _show(name: str, value: object) -> str:
    if name == "ts":
        return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[call-overload]
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    return repr(str(value)) if isinstance(value, str) else str(value)
