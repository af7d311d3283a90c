"""`artdash serve --workers 2`: two processes share the port, a member gets the same image
whichever answers, exactly one of them learns, and when the learner is killed mid-traffic
another takes over and no acknowledged decision is lost."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, select
from test_http import serving
from workspaces import make_settings

from artdash.access.api_keys import create_key
from artdash.db.results_schema import decisions
from artdash.demo import DEMO_TITLES, load_demo
from artdash.serve import HttpClient, ServiceError
from artdash.workspace import Workspace


def healths(url: str, n: int = 32) -> list[dict]:
    """``n`` answers of /v1/health, asked 8 at a time, each on a connection of its own (so that
    every worker gets some)."""
    client = HttpClient(url, timeout=5)
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: client.health(), range(n)))


def until_seen(url: str, check, seconds: float = 30) -> list[dict]:
    """Ask /v1/health in bursts until ``check(answers)`` holds."""
    deadline = time.monotonic() + seconds
    seen: list[dict] = []
    while time.monotonic() < deadline:
        seen = healths(url)
        if check(seen):
            return seen
        time.sleep(0.3)
    raise AssertionError(f"not seen in {seconds} s: {[(h['worker'], h['learner']) for h in seen]}")


def test_two_workers_answer_alike_one_learns_and_a_killed_learner_is_replaced(tmp_path):
    ws = Workspace.open(make_settings(tmp_path))
    load_demo(ws, titles=DEMO_TITLES[:3])
    with ws.transaction() as s:
        key = create_key(s, "local-admin", "backend", rate_per_second=100_000).secret
    ws.close()
    folder = tmp_path / "data"
    answers: dict[tuple[str, int], set[int]] = {}
    acknowledged: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    with serving(folder, "--workers", "2", "--refresh-seconds", "0.5") as (url, _):
        seen = until_seen(url, lambda answers: len({h["worker"] for h in answers}) == 2)       # both answer
        assert len({h["worker"] for h in seen if h["learner"]}) <= 1
        until_seen(url, lambda answers: len({h["worker"] for h in answers if h["learner"]}) == 1)

        def traffic(n: int) -> None:
            client = HttpClient(url, key, timeout=10)
            i = 0
            while not stop.is_set():
                member = f"m{(n * 7 + i) % 40}"                     # each member comes back, to any worker
                try:
                    answer = client.decide({"id": member, "tastes": {"genre:comedy": 0.8}}, [1, 2, 3])
                except (OSError, ServiceError) as e:
                    errors.append(e)                                # in flight on the killed worker
                    continue
                for d in answer["decisions"]:
                    if d["variant_id"] is not None:
                        answers.setdefault((member, d["title_id"]), set()).add(d["variant_id"])
                        acknowledged.append(d["event_id"])
                i += 1

        threads = [threading.Thread(target=traffic, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        while len(acknowledged) < 600:
            time.sleep(0.05)
        learner = next(h["worker"] for h in until_seen(url, lambda a: any(h["learner"] for h in a)) if h["learner"])
        os.kill(int(learner.split("-")[-2]), signal.SIGKILL)     # its lock dies with it
        until_seen(url, lambda answers: any(h["learner"] and h["worker"] != learner for h in answers))
        n_after = len(acknowledged)
        while len(acknowledged) < n_after + 300:                    # traffic goes on
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(20)
    assert all(len(v) == 1 for v in answers.values())               # the same image, whichever worker
    assert len(errors) <= 8                                          # at most what was in flight there
    engine = create_engine(f"sqlite:///{folder / 'artdash.db'}")
    with engine.connect() as conn:
        stored = set(conn.execute(select(decisions.c.event_id)).scalars())
    engine.dispose()
    assert not set(acknowledged) - stored                            # the dead worker's journal was taken in
    assert not list((folder / "journal").glob("*.journal"))
