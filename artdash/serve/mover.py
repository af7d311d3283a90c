"""The journal mover in a process of its own, beside each serving worker.

Taking a second of journal into the results store (reading the lines, binding every row,
inserting into indexed tables) is bulk work: in the serving process it held the GIL for tens
of milliseconds at a time, and every request waiting behind it waited that long. Here it runs
in a child process (``python -m artdash.serve.mover``) on the machine's other cores; the
worker only starts a new segment every ``move_seconds`` and answers requests.

Each worker starts one mover for its journal folder; the movers of one folder share a lock
file, so one moves and the others stand by (a standby takes over within ``interval`` when the
mover holding the lock ends). A mover ends when it is told to (SIGTERM: it finishes the move
under way, moves once more and exits) or when the worker that started it is gone (its parent
changes: a worker killed with SIGKILL leaves no mover behind). Moving stays safe in any number
of processes: :func:`artdash.serve.journal.move_journal` takes only segments nobody writes and
inserts only rows the store does not hold yet.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

URL_ENV = "ARTDASH_MOVER_RESULTS_URL"      # the store's URL travels in the environment, not argv (ps shows argv)
STANDBY_LOCK = ".mover.lock"

log = logging.getLogger("artdash.serve.mover")


class MoverProcess:
    """A mover child for ``folder`` moving into the store at ``results_url`` every ``interval``
    seconds; :meth:`alive` says whether it runs, :meth:`stop` ends it (after its last move)."""

    def __init__(self, folder: Path, results_url: str, interval: float):
        self.folder, self.results_url, self.interval = Path(folder), results_url, interval
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> MoverProcess:
        """Start the child (again, if it ended)."""
        env = {**os.environ, URL_ENV: self.results_url}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "artdash.serve.mover", str(self.folder), str(self.interval), str(os.getpid())],
            env=env, stdin=subprocess.DEVNULL)
        return self

    def alive(self) -> bool:
        """Whether the child runs."""
        return self.process is not None and self.process.poll() is None

    def keep_alive(self) -> None:
        """Start the child again if it ended on its own (a crash: the journal waits, nothing is lost)."""
        if self.process is not None and not self.alive():
            log.warning("the journal mover ended (exit %s); starting it again", self.process.returncode)
            self.restarts += 1
            self.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the child to finish its move and end; wait for it (killed after ``timeout``)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(folder: Path, results_url: str, interval: float, parent: int) -> None:
    """Move ``folder``'s closed segments into the store every ``interval`` seconds while
    ``parent`` lives and no SIGTERM came, standing by while another mover of the folder holds
    its lock; one last move before returning."""
    from artdash.db.engine import make_engine
    from artdash.serve.journal import move_journal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())       # Ctrl-C reaches the whole group: the worker stops us
    folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(results_url)
    lock_fd = os.open(folder / STANDBY_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    holding = False
    try:
        while not stop.is_set() and os.getppid() == parent:
            if not holding:
                try:
                    fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    holding = True
                except BlockingIOError:
                    pass                      # another worker's mover moves this folder
            if holding:
                try:
                    move_journal(folder, engine)
                except Exception:  # noqa: BLE001 - the segments stay; the next move retries them
                    log.exception("moving the journal failed")
            stop.wait(interval)
        if holding:
            move_journal(folder, engine)
    finally:
        os.close(lock_fd)
        engine.dispose()


def main(argv: list[str]) -> int:
    """``python -m artdash.serve.mover FOLDER INTERVAL PARENT_PID`` (the store's URL in
    ``ARTDASH_MOVER_RESULTS_URL``)."""
    url = os.environ.get(URL_ENV)
    if len(argv) != 3 or not url:
        print("usage: python -m artdash.serve.mover FOLDER INTERVAL PARENT_PID, with the results store's URL in "
              f"{URL_ENV} (artdash serve starts it; there is no need to run it by hand)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s artdash.serve.mover %(levelname)s %(message)s")
    run(Path(argv[0]), url, float(argv[1]), int(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
