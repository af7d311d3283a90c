"""Import impression logs: CSV or Parquet, streamed in chunks, validated row by row, atomic (one transaction: a bad file changes nothing) and idempotent (an event already in the log is counted, not added again). Daily rollups are updated in the same transaction.

How it is fast (see bench/RESULTS.md): the file is parsed by Arrow on a reader thread while
the database writes the previous chunk; columns are validated with vectorised Arrow kernels
(a slower, row-exact pandas check runs only for a column whose fast conversion fails); each
chunk's rollup contributions are summed in memory and written once per import; SQLite gets
key-sorted batches, PostgreSQL gets COPY into a staging table.

The stages live in their own modules: ``read`` → ``validate`` → ``write`` and ``rollups``."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Engine, func, select

from artdash import clock
from artdash.db.results_schema import (
    imports,
    impressions,
    rollup_cells,
    rollup_segments,
    rollup_variants,
)
from artdash.results.read import CHUNK_ROWS, read_chunks
from artdash.results.rollups import (
    CELL_KEYS,
    SEGMENT_KEYS,
    VARIANT_KEYS,
    Rollups,
    rebuild_rollups,
    stored_rollups,
    write_rollups,
)
from artdash.results.validate import (
    IngestError,
    IngestIssue,
    IngestState,
    Rows,
    event_keys,
    report_duplicates,
    validate_chunk,
    variant_lookup,
)
from artdash.results.write import Writer, one_writer

T = TypeVar("T")


@dataclass(frozen=True)
class IngestReport:
    """What an import did: its id, rows read, impressions added, already present and skipped."""
    import_id: int
    n_rows: int
    n_inserted: int
    n_already_present: int
    n_skipped_unknown: int
    skipped_lines: tuple[int, ...] = ()


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
    state = IngestState()
    lookup = variant_lookup(variant_titles)
    rollups = Rollups(quality_seconds)
    n_rows = inserted = present = 0

    def validated() -> Iterator[tuple[int, Rows]]:
        for chunk, first_line in read_chunks(source, file_name, mapping, chunk_rows):
            yield chunk.num_rows, validate_chunk(chunk, first_line, lookup, skip_unknown, state)

    with one_writer(engine) as conn:
        import_id = (conn.execute(select(func.max(imports.c.id))).scalar() or 0) + 1
        writer = Writer(conn, import_id)
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
            report_duplicates(state)
            if state.n_issues:
                shown = "; ".join(f"line {i.line} ({i.column}): {i.problem}"
                                  for i in sorted(state.issues, key=lambda i: i.line)[:5])
                more = f" and {state.n_issues - 5} more" if state.n_issues > 5 else ""
                raise IngestError(f"{state.n_issues} bad row(s), nothing imported — {shown}{more}",
                                  tuple(sorted(state.issues, key=lambda i: i.line)), state.n_issues)
            if inserted:
                writer.add_rollups(rollup_variants, VARIANT_KEYS, rollups.total_variants())
                writer.add_rollups(rollup_cells, CELL_KEYS, rollups.total_cells())
                writer.add_rollups(rollup_segments, SEGMENT_KEYS, rollups.total_segments())
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


def delete_import(engine: Engine, import_id: int, chunk_rows: int = 200_000) -> int:
    """Remove one import's impressions and their contributions to the rollups, in one
    transaction (e.g. a policy-lab simulation). Returns the number of impressions removed."""
    from sqlalchemy import delete

    from artdash.errors import NotFoundError

    with one_writer(engine) as conn:
        row = conn.execute(select(imports).where(imports.c.id == import_id)).first()
        if row is None:
            raise NotFoundError(f"there is no import #{import_id} in the results database")
        rollups, removed = stored_rollups(conn, impressions.c.import_id == import_id, row.quality_seconds,
                                           chunk_rows)
        write_rollups(conn, rollups, -1)
        conn.execute(delete(impressions).where(impressions.c.import_id == import_id))
        conn.execute(delete(imports).where(imports.c.id == import_id))
    return removed


__all__ = ["IngestError", "IngestIssue", "IngestReport", "delete_import", "event_keys", "ingest", "rebuild_rollups"]
