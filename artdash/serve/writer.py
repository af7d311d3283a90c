"""Group commit: the decision service's one writer to the results store.

Requests hand their writes (a function of a connection) to :class:`GroupWriter` and wait for
the transaction that holds them to commit before they answer: an acknowledged decision or
outcome is on disk. One thread takes every job waiting and commits them together, so the
cost of a commit is shared by every request that arrived meanwhile (at 1,000 requests per
second, a few per commit) and SQLite never sees two writers.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Connection, Engine, event

Job = Callable[[Connection], Any]
MAX_JOBS_PER_COMMIT = 512


def durable(engine: Engine) -> Engine:
    """``engine`` with SQLite's ``synchronous=FULL`` on its connections: a commit survives a
    power cut, not only a crash of the process (other databases are durable by default)."""
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _full(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()
    return engine


def run_in_groups(items: queue.Queue, limit: int, handle: Callable[[list], Any]) -> None:
    """Take whatever waits in ``items`` (at least one, at most ``limit``) and ``handle`` it as
    one group, again and again, until a None is taken (what came before it is handled first).
    The group commit of :class:`GroupWriter` and of the workers' journals."""
    while True:
        first = items.get()
        if first is None:
            return
        batch, stop = [first], False
        while len(batch) < limit:
            try:
                item = items.get_nowait()
            except queue.Empty:
                break
            if item is None:
                stop = True
                break
            batch.append(item)
        handle(batch)
        if stop:
            return


class GroupWriter:
    """Runs submitted jobs in shared transactions on one thread; each job's future resolves
    (to the job's return value) once its transaction has committed, or fails with the error
    that rolled it back (then nothing of that transaction was written)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._jobs: queue.Queue[tuple[Job, Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="artdash-group-writer", daemon=True)
        self.commits = 0
        self.jobs_done = 0
        self._thread.start()

    def submit(self, job: Job) -> Future:
        """Queue ``job``; the future resolves when it is committed."""
        future: Future = Future()
        if not self._thread.is_alive():
            future.set_exception(RuntimeError("the writer has stopped"))
            return future
        self._jobs.put((job, future))
        return future

    def run(self, job: Job, timeout: float = 30.0) -> Any:
        """Submit ``job`` and wait for its commit."""
        return self.submit(job).result(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        run_in_groups(self._jobs, MAX_JOBS_PER_COMMIT, self._commit)

    def _commit(self, batch: list[tuple[Job, Future]]) -> None:
        results: list[Any] = []
        try:
            with self.engine.begin() as conn:
                for job, _ in batch:
                    results.append(job(conn))
        except Exception as error:  # noqa: BLE001 - every waiting request learns of it
            if len(batch) > 1:
                for item in batch:   # one bad job must not fail the others: retry each alone
                    self._commit([item])
                return
            batch[0][1].set_exception(error)
            return
        self.commits += 1
        self.jobs_done += len(batch)
        for (_, future), result in zip(batch, results):
            future.set_result(result)
