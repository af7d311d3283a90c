"""Two replicas of the decision service on one PostgreSQL, behind a real HAProxy
(deploy/haproxy.cfg) on 127.0.0.1: one of them learns; a replica killed with SIGKILL
mid-traffic costs clients nothing (the balancer retries on the other) and, once it is started
again, no acknowledged decision or outcome is missing from the store."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from test_http import free_port, serving
from workspaces import make_settings

from artdash.access.api_keys import create_key
from artdash.db.results_schema import decisions, outcomes
from artdash.demo import DEMO_TITLES, load_demo
from artdash.serve import HttpClient, ServiceError
from artdash.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def balancer(lb_port: int, a: int, b: int, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "ARTDASH_LB_PORT": str(lb_port), "ARTDASH_REPLICA_A_PORT": str(a),
           "ARTDASH_REPLICA_B_PORT": str(b)}
    log = open(folder / "haproxy.log", "w")
    proc = subprocess.Popen(["haproxy", "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            HttpClient(f"http://127.0.0.1:{lb_port}", timeout=2).health()
            return proc
        except (OSError, ServiceError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((folder / "haproxy.log").read_text()) from None
            time.sleep(0.2)


def test_two_replicas_behind_haproxy_lose_nothing_when_one_is_killed(tmp_path, postgres_url):
    if shutil.which("haproxy") is None:
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)("haproxy is not installed (.ci/run installs it)")
    ws = Workspace.open(make_settings(tmp_path, postgres_url))
    load_demo(ws, titles=DEMO_TITLES[:3])
    with ws.transaction() as s:
        key = create_key(s, "local-admin", "backend", rate_per_second=100_000).secret
    ws.close()
    folders = {name: tmp_path / f"replica-{name}" for name in "ab"}
    for folder in folders.values():
        folder.mkdir()
    ports = {name: free_port() for name in "ab"}
    lb_port = free_port()
    acknowledged: list[str] = []
    reported: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    with serving(folders["a"], database_url=postgres_url, port=ports["a"]) as (url_a, proc_a), \
            serving(folders["b"], database_url=postgres_url, port=ports["b"]) as (url_b, _):
        learners = [HttpClient(u).health()["learner"] for u in (url_a, url_b)]
        deadline = time.monotonic() + 10
        while sum(learners) != 1 and time.monotonic() < deadline:      # the learner is elected at its first tick
            time.sleep(0.3)
            learners = [HttpClient(u).health()["learner"] for u in (url_a, url_b)]
        assert sum(learners) == 1
        lb = balancer(lb_port, ports["a"], ports["b"], tmp_path)
        try:
            url = f"http://127.0.0.1:{lb_port}"

            def traffic(n: int) -> None:
                client = HttpClient(url, key, timeout=10)
                i = 0
                while not stop.is_set():
                    try:
                        answer = client.decide({"id": f"r{n}-{i % 50}"}, [1, 2, 3])
                        ids = [d["event_id"] for d in answer["decisions"] if d["event_id"]]
                        acknowledged.extend(ids)
                        client.outcomes([{"event_id": e, "played": True, "play_seconds": 600} for e in ids[:1]])
                        reported.extend(ids[:1])
                    except (OSError, ServiceError) as e:
                        errors.append(e)
                    i += 1

            threads = [threading.Thread(target=traffic, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            while len(acknowledged) < 900:
                time.sleep(0.05)
            os.kill(proc_a.pid, signal.SIGKILL)                      # replica a dies mid-traffic
            proc_a.wait(10)
            at_kill = len(acknowledged)
            while len(acknowledged) < at_kill + 900:                 # … and the balancer carries on with b
                time.sleep(0.05)
            stop.set()
            for t in threads:
                t.join(20)
        finally:
            lb.terminate()
            lb.wait(10)
    assert not errors, errors[:3]                                    # clients never saw the failure
    # replica a, started again, takes its journal into the store before it answers
    with serving(folders["a"], database_url=postgres_url):
        pass
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(decisions.c.event_id)).scalars())
        played = set(conn.execute(select(outcomes.c.event_id)).scalars())
    engine.dispose()
    assert not set(acknowledged) - stored and not set(reported) - played
