"""Exactly one learner per results store, whichever worker or replica it runs in: the learner
holds a lock that dies with its process, and any other one takes it over at its next try.

On PostgreSQL the lock is a session advisory lock (``pg_try_advisory_lock``) on a connection
of its own: replicas on other machines see it, and the server releases it when that
connection drops. On SQLite (one machine) it is an exclusive ``flock`` on a file beside the
database."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

LOCK_KEY = 0x41727444   # "ArtD": the advisory lock's first key (the second: the store's database and schema)


class LearnerLock:
    """:meth:`try_acquire` is True while this process holds the learner's lock (it keeps it
    until :meth:`release` or its end)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._conn: Any = None
        self._fd = -1

    @property
    def held(self) -> bool:
        """Whether this process is the learner."""
        return self._conn is not None or self._fd >= 0

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; True if this process holds it now."""
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.raw_connection()
            cursor = conn.cursor()
            # one lock per results store: per database and schema (two deployments may share a server)
            cursor.execute(f"SELECT pg_try_advisory_lock({LOCK_KEY}, hashtext(current_database() || '.' || "
                           "current_schema()))")
            row = cursor.fetchone()
            got = bool(row and row[0])
            cursor.close()
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        database = self.engine.url.database
        path = Path(database + ".learner.lock") if database and database != ":memory:" else None
        if path is None:
            return True                      # an in-memory store has one process
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock up (another worker takes it at its next try)."""
        if self._conn is not None:
            try:
                self._conn.close()           # the session ends: the advisory lock goes with it
            finally:
                self._conn = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
