"""Each worker's journal: signed event ids checked without a lookup, lines on disk before the
answer, a worker killed mid-write losing nothing it acknowledged, segments a live worker holds
left alone, and moves that never write a row twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from workspaces import make_settings

from artdash import clock
from artdash.db.results_schema import decisions, outcomes
from artdash.decision.event_ids import LENGTH, EventSigner
from artdash.serve import DecisionService, LocalClient, ServiceSettings
from artdash.serve.journal import move_journal
from artdash.workspace import Workspace


def test_an_event_id_is_checked_by_its_signature_alone():
    signer = EventSigner(b"k" * 32)
    base = signer.base(1_800_000_000_000, 3)
    ids = [base + f"{j:02x}" for j in range(3)]
    assert all(len(i) == LENGTH and signer.check(i) == 1_800_000_000_000 for i in ids)
    assert EventSigner(b"x" * 32).check(ids[0]) is None                      # another store's secret
    assert signer.check(base + "03") is None                                  # past the request's titles
    flipped = ids[0][:25] + ("0" if ids[0][25] != "0" else "1") + ids[0][26:]
    assert signer.check(flipped) is None                                      # a forged signature
    assert signer.check(ids[0].upper()) is None and signer.check("é" * LENGTH) is None
    assert signer.check("") is None and signer.check(ids[0] + "0") is None


@pytest.fixture
def journaled(catalog_ws, tmp_path):
    svc = DecisionService(catalog_ws, ServiceSettings(require_keys=False, reward_window_seconds=600,
                                                      journal_dir=str(tmp_path / "journal")), background=False)
    yield svc
    svc.close()


def test_outcomes_through_the_journal_answer_as_the_store_would(journaled, frozen_clock):
    service = journaled
    client = LocalClient(service)
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    events = [d["event_id"] for d in client.decide({"id": "m-3"}, titles)["decisions"]]
    forged = events[2][:-2] + "ff"
    report = client.outcomes([{"event_id": events[0], "played": True, "play_seconds": 1200},
                              {"event_id": events[0], "played": False},
                              {"event_id": "never-decided", "played": True, "play_seconds": 5},
                              {"event_id": forged, "played": True, "play_seconds": 5}])
    assert report == {"accepted": 1, "late": 0, "unknown": 2, "duplicate": 1,
                      "unknown_event_ids": ["never-decided", forged]}
    assert client.outcome(events[0], played=False)["duplicate"] == 1        # the first outcome stands
    clock.freeze(frozen_clock + timedelta(seconds=601))                      # past the reward window
    assert client.outcome(events[1], played=True, play_seconds=900) == {
        "accepted": 1, "late": 1, "unknown": 0, "duplicate": 0, "unknown_event_ids": []}
    # an id from before ids were signed is looked up in the store
    legacy = "0123456789abcdef0123456789abcdef"
    with service.results.begin() as conn:
        conn.execute(insert(decisions).values(event_id=legacy, at_ms=clock.epoch_ms(clock.now()), member_id="old",
                                              title_id=titles[0], variant_id=1, propensity=0.5, candidates="[]",
                                              policy="uniform", model_version=0, context_hash="0" * 16))
    assert client.outcome(legacy, played=True, play_seconds=400)["accepted"] == 1
    with service.results.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar_one() == 1   # only the legacy one
    moved = service.move()
    assert (moved.decisions, moved.outcomes) == (len(events), 2)
    with service.results.connect() as conn:
        stored = {r.event_id: r for r in conn.execute(select(outcomes))}
        assert conn.execute(select(func.count()).select_from(decisions)).scalar_one() == len(events) + 1
    assert stored[events[0]].played == 1 and stored[events[0]].play_seconds == 1200 and not stored[events[0]].late
    assert stored[events[1]].late == 1 and stored[legacy].played == 1


WORKER = textwrap.dedent("""
    import sys, orjson
    from pathlib import Path
    from artdash.decision.rows import DecisionRows
    from artdash.serve.journal import Journal, decision_line
    journal = Journal(Path(sys.argv[1]))
    i = 0
    while True:
        rows = DecisionRows([f"k{i:09d}"], 1_800_000_000_000 + i, "m", [1], [2], [0.5], [[2]], [[0.5]], "uniform", 0,
                            "0" * 16, "", "")
        journal.submit(decision_line(rows, None)).result()
        print(f"k{i:09d}", flush=True)          # acknowledged
        i += 1
""")


def test_a_worker_killed_mid_write_loses_nothing_it_acknowledged_and_a_live_one_is_left_alone(tmp_path):
    ws = Workspace.open(make_settings(tmp_path))
    folder = tmp_path / "journal"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(folder)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    assert worker.stdout is not None
    while len(acknowledged) < 300:
        acknowledged.append(worker.stdout.readline().strip())
    assert move_journal(folder, ws.results_engine).decisions == 0      # its segment is held: left alone
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    acknowledged += [line.strip() for line in worker.stdout if line.strip()]
    segment = next(folder.glob("*.journal"))
    with open(segment, "ab") as f:
        f.write(b'{"d": [["cut-short", 1')                             # a line a crash cut short
    copy = segment.read_bytes()
    moved = move_journal(folder, ws.results_engine)
    with ws.results_engine.connect() as conn:
        stored = set(conn.execute(select(decisions.c.event_id)).scalars())
    assert not set(acknowledged) - stored and "cut-short" not in stored and moved.decisions == len(stored)
    assert not list(folder.glob("*.journal"))
    segment.write_bytes(copy)                                           # a move that ran twice …
    assert move_journal(folder, ws.results_engine).decisions == len(stored)
    with ws.results_engine.connect() as conn:                           # … writes nothing twice
        assert conn.execute(select(func.count()).select_from(decisions)).scalar_one() == len(stored)
    ws.close()


def test_a_decision_is_answered_only_once_its_line_is_synced(journaled):
    service = journaled
    before = service.journal.syncs
    answer = LocalClient(service).decide({"id": "m-9"}, sorted(service.snapshot.candidates)[:2])
    assert service.journal.syncs > before and answer["decisions"]
    line = next(service.journal.folder.glob("*.journal")).read_bytes()
    assert all(d["event_id"].encode() in line for d in answer["decisions"] if d["event_id"])


def test_a_worker_stopping_while_another_move_runs_still_takes_its_last_segment_in(catalog_ws, tmp_path):
    """A worker's last move found the folder's move lock held (its own learner, still in a long
    retrain past the join) and returned at once: its last segment stayed on disk and the
    closed-loop test counted 10 decisions answered but not logged. It now waits for that move."""
    import fcntl
    import threading
    import time

    folder = tmp_path / "journal"
    service = DecisionService(catalog_ws, ServiceSettings(require_keys=False, journal_dir=str(folder)),
                              background=False)
    client = LocalClient(service)
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    answered = [d["event_id"] for m in range(5) for d in client.decide({"id": f"m-{m}"}, titles)["decisions"]]
    held = threading.Event()

    def another_mover() -> None:
        fd = os.open(folder / ".move.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.set()
        time.sleep(0.5)
        os.close(fd)

    mover = threading.Thread(target=another_mover)
    mover.start()
    held.wait(5)
    service.close()
    mover.join()
    with catalog_ws.results_engine.connect() as conn:
        stored = set(conn.execute(select(decisions.c.event_id)).scalars())
    assert set(answered) <= stored and not list(folder.glob("*.journal"))
