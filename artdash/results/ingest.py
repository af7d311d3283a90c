"""Import impression logs: CSV or Parquet, streamed in chunks, validated row by row, atomic (a bad file changes nothing) and idempotent (an event already in the log is counted, not added again). The rollups are computed by the log's engine and added in the same transaction.

How it is fast (see bench/RESULTS.md): three threads in a pipeline — Arrow parses the next
chunk while the one before is checked and the one before that is written to the log; columns
are validated with vectorised Arrow kernels (a slower, row-exact pandas check runs only for a
column whose fast conversion fails); rows go to the log as Arrow batches (Parquet files by
day, or COPY into PostgreSQL) and the rollups are one GROUP BY per grain over the import's
own rows.

The stages live in their own modules: ``read`` → ``validate`` → ``log`` and ``rollups``."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, select

from artdash import clock
from artdash.db.results_schema import imports
from artdash.errors import NotFoundError, RowIssue, ValidationError
from artdash.results.collisions import COMPARED, CollisionCheck, check_prefix, with_prefix
from artdash.results.log import ImpressionLog
from artdash.results.names import CatalogNames
from artdash.results.read import CHUNK_ROWS, read_chunks
from artdash.results.rollups import rebuild_rollups, write_rollups
from artdash.results.validate import (
    MAX_ISSUES_KEPT,
    IngestError,
    IngestState,
    Rows,
    event_keys,
    report_duplicates,
    validate_chunk,
    variant_lookup,
)
from artdash.results.write import one_writer

T = TypeVar("T")


@dataclass(frozen=True)
class IngestReport:
    """What an import did: its id (None when a file added nothing new: no import is recorded),
    rows read, impressions added, already present and skipped."""
    import_id: int | None
    n_rows: int
    n_inserted: int
    n_already_present: int
    n_skipped_unknown: int
    skipped_lines: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()   # imported, but a reviewer should know (e.g. no play durations)


def no_durations_warning(n_played: int, n_timed: int) -> str | None:
    """The warning for a log whose plays all lack a duration (None when some have one)."""
    if n_played == 0 or n_timed > 0:
        return None
    return (f"{n_played:,} impressions were played, but none has a play duration (play_seconds is 0, empty or "
            "absent on every play): quality plays cannot be told apart, so Results and offline estimates read this "
            "log by its take rate (plays over impressions) unless the experiment's plan declares quality plays. For "
            "quality plays, export play_seconds with the log or map the column that holds it "
            "(e.g. watch_time=play_seconds)")


def _prefetch(chunks: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Produce ``chunks`` on a second thread (Arrow parsing and validation release the GIL,
    so parsing the next chunk overlaps the database writing this one)."""
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def run() -> None:
        try:
            for item in chunks:
                if stop.is_set():
                    return
                box.put((item, None))
        except BaseException as exc:  # handed to the consumer, raised there
            box.put((None, exc))
            return
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:     # a generator (perhaps another _prefetch) stops its own thread
                close()
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


def ingest(log: ImpressionLog, source: bytes | Path | pa.Table, file_name: str, actor: str, variant_titles: Mapping[int, int],
           quality_seconds: float, mapping: Mapping[str, str] | None = None, skip_unknown: bool = False,
           kind: str = "import", chunk_rows: int = CHUNK_ROWS,
           progress: Callable[[int], None] | None = None, names: CatalogNames | None = None,
           event_id_prefix: str = "") -> IngestReport:
    """Import one log file into ``log``, atomically. ``variant_titles`` maps every catalog
    variant id to its title id; with ``names``, titles may also be given by name and variants
    by label (:mod:`artdash.results.names`); ``event_id_prefix`` goes before every event id
    (two exports that number their events alike). Raises :class:`IngestError` (nothing
    written) if any row is bad, or if an event id the log holds comes with a different row."""
    lookup = variant_lookup(variant_titles)
    prefix = check_prefix(event_id_prefix)
    n_rows = inserted = present = n_played = n_timed = 0

    def validated() -> Iterator[tuple[int, Rows, Any]]:
        """Each chunk checked and prepared for the log (on the reader thread), as the next one
        is parsed (on a thread of its own: parsing, checking and writing overlap)."""
        for chunk, first_line in _prefetch(read_chunks(source, file_name, mapping, chunk_rows)):
            good = validate_chunk(with_prefix(chunk, prefix), first_line, lookup, skip_unknown, state, names)
            prepared = writer.prepare(good) if state.n_issues == 0 and len(good) else None
            yield chunk.num_rows, good, prepared

    with one_writer(log.engine) as conn:
        log.prepare(conn)
        import_id = log.next_import_id(conn)
        writer = log.writer(conn, import_id)
        # A log that stages rows in files finds repeated event ids there (no keys held in memory:
        # a 100M-row file's keys and lines were 1.2 GB); the others keep every good row's key.
        state = IngestState(collect_keys=not writer.finds_duplicates)
        repeats = CollisionCheck(lambda keys: log.stored_rows(conn, keys, COMPARED))
        try:
            for n_chunk, good, prepared in _prefetch(validated()):
                n_rows += n_chunk
                if state.n_issues == 0 and prepared is not None:
                    played = good.columns["played"] == 1
                    n_played += int(played.sum())
                    n_timed += int((played & (good.columns["play_seconds"] > 0)).sum())
                    new = writer.insert(prepared)
                    repeats.add(good, new)
                    added = int(new.sum())
                    inserted += added
                    present += len(good) - added
                if progress:
                    progress(n_rows)
            if n_rows == 0:
                raise IngestError("the file has a header but no rows")
            if state.collect_keys:
                report_duplicates(state)
            elif state.n_issues or writer.repeated_keys():
                # Rare: the file is refused anyway. A second pass names every repeated id's lines
                # (staging stopped at the first bad row, so the staged rows cannot say).
                _report_duplicates_again(source, file_name, mapping, chunk_rows, lookup, skip_unknown, names, state,
                                         prefix)
            if state.n_issues:
                shown = "; ".join(f"line {i.line} ({i.column}): {i.problem}"
                                  for i in sorted(state.issues, key=lambda i: i.line)[:5])
                more = f" and {state.n_issues - 5} more" if state.n_issues > 5 else ""
                raise IngestError(f"{state.n_issues} bad row(s), nothing imported — {shown}{more}",
                                  tuple(sorted(state.issues, key=lambda i: i.line)), state.n_issues)
            collided = repeats.result() if present else None
            if collided is not None:
                issues = tuple(RowIssue(line, "event_id", what)
                               for line, what in zip(collided.lines, collided.differences))
                raise IngestError(collided.message(file_name), issues, collided.count)
            if inserted == 0 and kind == "import":
                # a file imported before (or only unknown ids skipped): nothing new, no empty import
                writer.discard()
                return IngestReport(None, n_rows, 0, present, state.n_skipped, tuple(state.skipped))
            contributions = writer.contributions(quality_seconds) if inserted else {}
            write_rollups(conn, contributions, +1)
            experiments = _experiments(contributions.get("variants"))
            conn.execute(imports.insert().values(
                id=import_id, kind=kind, source=file_name[:300], created_at=clock.now(), created_by=actor,
                n_rows=n_rows, n_already_present=present, n_skipped=state.n_skipped,
                quality_seconds=quality_seconds, experiments=json.dumps(experiments)))
            writer.publish()
        except BaseException:
            writer.discard()
            raise
    warning = no_durations_warning(n_played, n_timed)
    return IngestReport(import_id, n_rows, inserted, present, state.n_skipped, tuple(state.skipped),
                        (warning,) if warning else ())


def _experiments(variants: pd.DataFrame | pa.Table | None) -> list[str]:
    """The experiments an import's variant rollups name (a frame or an Arrow table)."""
    if variants is None:
        return []
    values = (pc.unique(variants.column("experiment")).to_pylist() if isinstance(variants, pa.Table)
              else variants["experiment"].unique())
    return sorted({str(e) for e in values})


def _report_duplicates_again(source: bytes | Path | pa.Table, file_name: str, mapping: Mapping[str, str] | None,
                             chunk_rows: int, lookup: Any, skip_unknown: bool, names: CatalogNames | None,
                             state: IngestState, prefix: str = "") -> None:
    """Read the file once more, keeping the good rows' keys, and add its repeated event ids to
    ``state``'s issues (the other issues were counted in the first pass)."""
    again = IngestState()
    for chunk, first_line in read_chunks(source, file_name, mapping, chunk_rows):
        validate_chunk(with_prefix(chunk, prefix), first_line, lookup, skip_unknown, again, names)
    again.issues, again.n_issues = [], 0
    report_duplicates(again)
    for issue in again.issues:
        if len(state.issues) < MAX_ISSUES_KEPT:
            state.issues.append(issue)
    state.n_issues += again.n_issues


def delete_import(log: ImpressionLog, import_id: int) -> int:
    """Remove one import's impressions and their contributions to the rollups (e.g. a
    policy-lab simulation). Returns the number of impressions removed."""

    with one_writer(log.engine) as conn:
        row = conn.execute(select(imports).where(imports.c.id == import_id)).first()
        if row is None:
            raise NotFoundError(f"there is no import #{import_id} in the results database")
        if row.kind == "source":
            raise ValidationError(f"import #{import_id} is a results source ({row.source}); remove it with "
                                  "`artdash results source remove NAME`")
        contributions = log.contributions(conn, [import_id], row.quality_seconds)
        try:
            write_rollups(conn, contributions, -1)
            conn.execute(delete(imports).where(imports.c.id == import_id))
            log.drop_rows(conn, import_id)
        except BaseException:
            log.restore(import_id)
            raise
        variants = contributions.get("variants")
        removed = int(variants["impressions"].sum()) if variants is not None and len(variants) else 0
    log.remove(import_id)  # after the commit
    return removed


__all__ = ["IngestError", "IngestReport", "delete_import", "event_keys", "ingest", "rebuild_rollups"]
