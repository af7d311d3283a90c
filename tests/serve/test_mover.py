"""The journal mover in its own process: it takes a serving worker's journal into the store
while the worker answers, ends with the worker (even one killed with SIGKILL), and reads
journals written before decisions were logged as columns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
from sqlalchemy import func, select
from workspaces import copy_demo, make_settings

from artdash.db.results_schema import decisions
from artdash.serve import DecisionService, LocalClient, ServiceSettings
from artdash.serve.journal import move_journal
from artdash.workspace import Workspace


def _ended(pid: int) -> bool:
    """Whether process ``pid`` is gone (or a zombie nobody has reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _stored(ws: Workspace) -> dict[str, tuple]:
    with ws.results_engine.connect() as conn:
        return {r.event_id: (r.variant_id, r.propensity, r.candidates)
                for r in conn.execute(select(decisions.c.event_id, decisions.c.variant_id, decisions.c.propensity,
                                             decisions.c.candidates))}


def test_the_mover_process_takes_the_journal_in_while_the_worker_serves(catalog_ws, tmp_path, frozen_clock):
    service = DecisionService(catalog_ws, ServiceSettings(require_keys=False, learn=False, move_seconds=0.2,
                                                          journal_dir=str(tmp_path / "journal")))
    try:
        assert service.mover is not None and service.mover.alive()
        client = LocalClient(service)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        answered = [d for m in range(6) for d in client.decide({"id": f"m-{m}"}, titles)["decisions"] if d["event_id"]]
        deadline = time.monotonic() + 30
        stored = _stored(catalog_ws)
        while len(stored) < len(answered) and time.monotonic() < deadline:   # nobody calls move(): the mover does
            time.sleep(0.1)
            stored = _stored(catalog_ws)
        assert set(stored) == {d["event_id"] for d in answered}
        for d in answered:        # each row as the store always held it: its candidates' JSON made by the mover
            variant, propensity, candidates = stored[d["event_id"]]
            pairs = json.loads(candidates)
            assert (variant, propensity) == (d["variant_id"], d["propensity"])
            assert [variant, propensity] in pairs and abs(sum(p for _, p in pairs) - 1) < 1e-9
            assert all(isinstance(v, int) for v, _ in pairs)
        mover = service.mover.process
    finally:
        service.close()
    assert mover is not None and mover.returncode is not None and service.mover.process is None


WORKER = textwrap.dedent("""
    import sys
    from artdash.config import Settings
    from artdash.serve import DecisionService, LocalClient, ServiceSettings
    from artdash.workspace import Workspace
    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": sys.argv[1]}))
    service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False, journal_dir=sys.argv[2],
                                                  move_seconds=0.2))
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    print(service.mover.process.pid, flush=True)
    for d in LocalClient(service).decide({"id": "m-1"}, titles)["decisions"]:
        print(d["event_id"], flush=True)
    print("done", flush=True)
    sys.stdin.read()                 # until killed
""")


def test_a_worker_killed_with_sigkill_leaves_no_mover_and_loses_nothing_it_answered(tmp_path, frozen_clock):
    data, journal = tmp_path / "data", tmp_path / "journal"
    copy_demo(data, None)
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(data), str(journal)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert worker.stdout is not None
    mover_pid = int(worker.stdout.readline())
    answered = []
    for line in worker.stdout:
        if line.strip() == "done":
            break
        if line.strip() != "None":
            answered.append(line.strip())
    assert answered and not _ended(mover_pid)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    deadline = time.monotonic() + 20
    while not _ended(mover_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _ended(mover_pid), "the mover outlived its worker"
    ws = Workspace.open(make_settings(tmp_path))
    move_journal(journal, ws.results_engine)            # what the next worker does as it starts
    assert set(answered) <= set(_stored(ws))
    ws.close()


def test_a_journal_written_as_row_tuples_still_moves(tmp_path):
    """A journal an older version left on disk at an upgrade: rows as 16-field tuples."""
    ws = Workspace.open(make_settings(tmp_path))
    folder = tmp_path / "journal"
    folder.mkdir()
    row = ["old-1", 1_800_000_000_000, "m", 1, 2, 0.5, "[[2, 0.5], [3, 0.5]]", "uniform", 0, "0" * 16, "", "",
           None, None, None, None]
    context = {"context_hash": "0" * 16, "affinities": "{}", "country": "", "device": ""}
    (folder / "old-000001.journal").write_bytes(orjson.dumps({"d": [row], "c": context}) + b"\n")
    assert move_journal(folder, ws.results_engine).decisions == 1
    assert _stored(ws)["old-1"] == (2, 0.5, "[[2, 0.5], [3, 0.5]]")
    with ws.results_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar_one() == 1
    ws.close()
