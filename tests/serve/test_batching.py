"""Journal lines gathered on the event loop: requests that arrive while a group is being
synced go together as the next group; each learns when its own line is on disk, or why not."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from artdash.serve.batching import LoopBatcher


class SlowDisk:
    """A journal whose syncs take a while on another thread (as fdatasync does)."""

    def __init__(self, fail_on: bytes | None = None):
        self.groups: list[bytes] = []
        self.fail_on = fail_on

    def submit(self, data: bytes) -> Future:
        future: Future = Future()

        def sync() -> None:
            time.sleep(0.02)
            if self.fail_on is not None and self.fail_on in data:
                future.set_exception(OSError("disk full"))
            else:
                self.groups.append(data)
                future.set_result(None)

        threading.Thread(target=sync).start()
        return future


def run(coroutine):
    """Run ``coroutine`` on an event loop of its own, in a thread of its own: a worker that ran
    the browser tests has Playwright's loop running in its main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_lines_that_arrive_during_a_sync_share_the_next_one():
    disk = SlowDisk()
    batcher = LoopBatcher(disk.submit)

    async def main() -> None:
        await asyncio.gather(*(batcher.write(f"line {i}\n".encode()) for i in range(50)))

    run(main())
    written = b"".join(disk.groups).decode().splitlines()
    assert sorted(written) == sorted(f"line {i}" for i in range(50)) and len(written) == 50
    assert batcher.groups == len(disk.groups) < 50          # grouped, every line once, in order of arrival
    assert written == [f"line {i}" for i in range(50)]


def test_a_failed_sync_fails_every_request_of_its_group_and_only_those():
    disk = SlowDisk(fail_on=b"bad")
    batcher = LoopBatcher(disk.submit)

    async def main() -> list:
        first = asyncio.ensure_future(batcher.write(b"ok 1\n"))   # the first group: alone
        await asyncio.sleep(0)
        group = [asyncio.ensure_future(batcher.write(line)) for line in (b"ok 2\n", b"bad\n", b"ok 3\n")]
        results = await asyncio.gather(first, *group, return_exceptions=True)
        await batcher.write(b"ok 4\n")                                   # the journal goes on
        return results

    results = run(main())
    assert results[0] is None and all(isinstance(r, OSError) for r in results[1:])
    assert b"".join(disk.groups) == b"ok 1\nok 4\n"


@pytest.mark.parametrize("n", [1, 3])
def test_a_lone_request_is_not_kept_waiting_for_company(n):
    disk = SlowDisk()
    batcher = LoopBatcher(disk.submit)

    async def main() -> None:
        for _ in range(n):
            await batcher.write(b"x\n")

    run(main())
    assert batcher.groups == n
