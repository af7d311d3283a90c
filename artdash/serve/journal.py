"""Each worker's append-only journal of decisions and outcomes, and the mover that takes it
into the results store in bulk.

A request's rows are one line (JSON) of its worker's current segment file. A writer thread
takes every line waiting, writes them with one ``write`` and one ``fdatasync``, and only then
are the requests answered: an acknowledged decision or outcome is on disk, and the cost of the
sync is shared by every request that arrived meanwhile. No database work happens on a request's
path, so workers never queue on the store's write lock.

The worker holds an exclusive ``flock`` on the segment it writes. Every second or so it starts
a new segment, and :func:`move_journal` takes each segment nobody holds — closed ones, and
those of a worker that died (the lock dies with its process) — into the results store in one
transaction, inserting what is not there yet (so a move that stopped half-way, or ran twice,
writes nothing twice), and deletes it. A line cut short by a crash was never acknowledged and
is skipped.
"""

from __future__ import annotations

import fcntl
import os
import queue
import secrets
import socket
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from artdash import clock
from artdash.db.results_schema import service_counters, service_secrets
from artdash.decision.event_ids import EventSigner
from artdash.decision.rows import DECISION_COLUMNS, DecisionRows
from artdash.serve.writer import run_in_groups

SEGMENT_SUFFIX = ".journal"
MAX_LINES_PER_SYNC = 1024
OUTCOME_COLUMNS = ("event_id", "at_ms", "played", "play_seconds", "late")
CONTEXT_COLUMNS = ("context_hash", "affinities", "country", "device")


OUTCOMES_MOVED = "outcomes_moved"


def add_to_counter(conn: Connection, name: str, n: int) -> None:
    """Add ``n`` to the shared counter ``name`` (made at 0 on first use), in the caller's transaction."""
    if not n:
        return
    done = conn.execute(update(service_counters).where(service_counters.c.name == name)
                        .values(value=service_counters.c.value + n)).rowcount
    if not done:
        conn.execute(insert(service_counters).values(name=name, value=n))


def read_counter(engine: Engine, name: str) -> int:
    """The shared counter ``name`` (0 before its first use)."""
    with engine.connect() as conn:
        value = conn.execute(select(service_counters.c.value).where(service_counters.c.name == name)).scalar()
    return int(value or 0)


def service_secret(engine: Engine) -> EventSigner:
    """The signer of the results store's event ids (its secret made on first use; every worker
    and replica reads the same one)."""
    with engine.begin() as conn:
        found = conn.execute(select(service_secrets.c.value).where(service_secrets.c.name == "event_ids")).scalar()
        if found is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(service_secrets).values(name="event_ids", value=secrets.token_hex(32),
                                                                created_at=clock.now()))
            except Exception:  # noqa: BLE001 - another worker made it first: read theirs
                pass
            found = conn.execute(select(service_secrets.c.value)
                                 .where(service_secrets.c.name == "event_ids")).scalar_one()
    return EventSigner(bytes.fromhex(found))


def decision_line(rows: DecisionRows, context: dict | None) -> bytes:
    """One request's decisions (and their context, unless already stored) as a journal line:
    their columns as they are (:meth:`DecisionRows.record`); the mover lays them out as rows."""
    return orjson.dumps({"r": rows.record(), "c": context}) + b"\n"


def outcome_line(rows: Sequence[tuple]) -> bytes:
    """Outcomes (``OUTCOME_COLUMNS`` tuples) as a journal line."""
    return orjson.dumps({"o": list(rows)}) + b"\n"


class Journal:
    """This worker's journal in ``folder``: :meth:`submit` a line, and its future resolves once
    the line is on disk (or fails with the error that kept it off)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._seq = 0
        self._fd = -1
        self._written = 0
        self._rotate = threading.Event()
        self._lines: queue.Queue[tuple[bytes, Future] | None] = queue.Queue()
        self.syncs = 0
        self.lines_done = 0
        self._open_next()
        self._thread = threading.Thread(target=self._run, name="artdash-journal", daemon=True)
        self._thread.start()

    def _open_next(self) -> None:
        self._seq += 1
        path = self.folder / f"{self.name}-{self._seq:06d}{SEGMENT_SUFFIX}"
        opening = path.with_suffix(".opening")          # locked before the mover can see it
        fd = os.open(opening, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(opening, path)
        self._fd, self._written = fd, 0

    def _close_current(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)       # releases the lock: the mover may take it
            self._fd = -1

    def submit(self, line: bytes) -> Future:
        """Queue ``line``; the future resolves when it is on disk."""
        future: Future = Future()
        if not self._thread.is_alive():
            future.set_exception(RuntimeError("the journal has stopped"))
            return future
        self._lines.put((line, future))
        return future

    def rotate(self) -> Future:
        """Start a new segment (the current one, if it holds anything, is closed and free to
        move); the future resolves once it has."""
        self._rotate.set()
        return self.submit(b"")

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, close the segment, stop."""
        if self._thread.is_alive():
            self._lines.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            run_in_groups(self._lines, MAX_LINES_PER_SYNC, self._write)
        finally:
            self._close_current()

    def _write(self, batch: list[tuple[bytes, Future]]) -> None:
        data = b"".join(line for line, _ in batch)
        try:
            if self._rotate.is_set() and self._written:
                self._close_current()
                self._open_next()
            self._rotate.clear()
            if data:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view):]
                os.fdatasync(self._fd)
                self._written += len(data)
        except Exception as error:  # noqa: BLE001 - every waiting request learns of it
            for _, future in batch:
                future.set_exception(error)
            return
        self.syncs += 1
        self.lines_done += len(batch)
        for _, future in batch:
            future.set_result(None)


@dataclass(frozen=True)
class MoveReport:
    """One move: segments taken into the results store, and their rows."""

    segments: int
    decisions: int
    outcomes: int


_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _insert_missing(conn: Connection, table: str, columns: Sequence[str], key: str, rows: list[Any]) -> None:
    """Insert ``rows`` (sequences in ``columns`` order) that are not in ``table`` yet (by ``key``)."""
    if not rows:
        return
    names = ", ".join(columns)
    if conn.dialect.driver == "psycopg":
        _copy_missing(conn, table, names, key, rows)
        return
    mark = _MARKS[conn.dialect.paramstyle]
    values = ", ".join([mark] * len(columns))
    if conn.dialect.name == "sqlite":
        sql = f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({values})"
    else:
        sql = f"INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT ({key}) DO NOTHING"
    conn.exec_driver_sql(sql, [tuple(r) for r in rows])


def _copy_missing(conn: Connection, table: str, names: str, key: str, rows: list[Any]) -> None:
    """PostgreSQL: the rows by COPY into a temporary table (emptied at each commit), then the
    ones ``table`` lacks inserted in one statement — a fraction of the server's and the
    mover's work of a row-by-row insert."""
    staging = f"artdash_move_{table}"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DELETE ROWS")
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ON CONFLICT ({key}) DO NOTHING")
    finally:
        cursor.close()


def _read(path: Path) -> tuple[list, list, list]:
    decision_rows: list = []
    outcome_rows: list = []
    contexts: list = []
    for line in path.read_bytes().split(b"\n"):
        if not line:
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue            # cut short by a crash: never acknowledged
        if "r" in record:
            decision_rows.extend(DecisionRows.of_record(record["r"]).tuples())
        elif "d" in record:                 # rows as tuples: a journal written before the columns form
            decision_rows.extend(record["d"])
        else:
            outcome_rows.extend(record["o"])
            continue
        if record.get("c"):
            contexts.append([record["c"][c] for c in CONTEXT_COLUMNS])
    return decision_rows, outcome_rows, contexts


def move_journal(folder: Path, engine: Engine, wait: bool = False) -> MoveReport:
    """Take every segment in ``folder`` that no live worker holds into the results store (one
    transaction per segment) and delete it. One mover at a time per folder: another one
    running, this one returns at once — or, with ``wait`` (a worker's last move as it stops,
    after its own segment is closed), waits for it and then moves what is left, so that the
    segment the other mover skipped as live is not left behind."""
    folder = Path(folder)
    if not folder.is_dir():
        return MoveReport(0, 0, 0)
    lock_fd = os.open(folder / ".move.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return MoveReport(0, 0, 0)
        segments = n_decisions = n_outcomes = 0
        for path in sorted(folder.glob(f"*{SEGMENT_SUFFIX}"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
            fd = os.open(path, os.O_RDONLY)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue                      # a live worker writes it
                decision_rows, outcome_rows, contexts = _read(path)
                with engine.begin() as conn:
                    _insert_missing(conn, "decision_contexts", CONTEXT_COLUMNS, "context_hash", contexts)
                    _insert_missing(conn, "decisions", DECISION_COLUMNS, "event_id", decision_rows)
                    _insert_missing(conn, "outcomes", OUTCOME_COLUMNS, "event_id", outcome_rows)
                    add_to_counter(conn, OUTCOMES_MOVED, sum(1 for r in outcome_rows if not r[4]))
                path.unlink()
            finally:
                os.close(fd)
            segments += 1
            n_decisions += len(decision_rows)
            n_outcomes += len(outcome_rows)
        return MoveReport(segments, n_decisions, n_outcomes)
    finally:
        os.close(lock_fd)
