"""Journal lines gathered on the event loop: one hand-over to the journal's thread per group.

Each request used to hand its line to the journal thread on its own — a thread-safe future,
a callback, a wake-up of the event loop through its self-pipe when the line was synced — so
a group commit of 16 requests cost 16 cross-thread hand-overs. Here requests on the event
loop wait on a plain loop future; whichever lines arrive while one group is being synced go
together as the next group, one hand-over and one wake-up for all of them. The promise is
the journal's: a request's line is on disk before its future resolves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future


class LoopBatcher:
    """:meth:`write` a line from the event loop; it returns once the line is on disk.
    ``submit`` hands bytes to the journal and returns the future of their sync."""

    def __init__(self, submit: Callable[[bytes], Future]):
        self.submit = submit
        self._pending: list[tuple[bytes, asyncio.Future]] = []
        self._flushing = False
        self.groups = 0

    async def write(self, line: bytes) -> None:
        """Queue ``line``; return when it is on disk (or raise what kept it off)."""
        done = asyncio.get_running_loop().create_future()
        self._pending.append((line, done))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                self.groups += 1
                try:
                    await asyncio.wrap_future(self.submit(b"".join(line for line, _ in batch)))
                except Exception as error:  # noqa: BLE001 - every waiting request learns of it
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    continue
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._flushing = False
