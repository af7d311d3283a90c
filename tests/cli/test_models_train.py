"""A model version trained from an imported impression log (``artdash models train``): stored
once with what it read, listed beside the others, and what Preview and the service serve."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from artdash import clock
from artdash.config import Settings
from artdash.decision.decide import Member, decide
from artdash.decision.snapshot import load_snapshot
from artdash.demo import DEMO_TITLES, load_demo
from artdash.lab.served import as_served
from artdash.serve import DecisionService, LocalClient, ServiceSettings
from artdash.workspace import Workspace


def test_a_version_trained_from_an_imported_log_is_listed_previewed_and_served(run, tmp_path, frozen_clock):
    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path / "data"), "ARTDASH_DATABASE_URL": "",
                                           "ARTDASH_MEDIA_DIR": ""}))
    load_demo(ws, titles=DEMO_TITLES[:1])
    with ws.session() as s:
        snapshot = load_snapshot(s)
    title = next(t for t, c in snapshot.candidates.items() if c)
    ids = [c.variant_id for c in snapshot.candidates[title]]
    best = ids[-1]
    rng = np.random.default_rng(5)
    lines = ["event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds,experiment,cell"]
    for i in range(3000):
        variant = ids[i % len(ids)]
        played = rng.random() < (0.5 if variant == best else 0.05)
        lines.append(f"e{i},2026-10-{1 + i % 28:02d}T20:00:00Z,m{i % 500},{title},{variant},uniform,"
                     f"{1 / len(ids):.6f},{'true' if played else 'false'},{1800 if played else 0},homepage-test,uniform")
    log = tmp_path / "homepage.csv"
    log.write_text("\n".join(lines) + "\n")
    assert run("results", "import", str(log)).exit_code == 0

    refused = run("models", "train", "linucb", "--experiment", "no-such-test")
    assert refused.exit_code != 0 and "no logged impressions for experiment 'no-such-test'" in refused.output
    assert "learns nothing" in run("models", "train", "uniform", "--experiment", "homepage-test").output

    trained = run("models", "train", "linucb", "--experiment", "homepage-test", "--cell", "uniform")
    assert trained.exit_code == 0, trained.output
    assert "3,000 impressions" in trained.output and "2026-10-01 to 2026-10-28" in trained.output
    version = int(trained.output.split("version ")[1].split(":")[0])
    listed = run("models", "list").output
    assert f"{version}" in listed and "import" in listed
    shown = run("models", "show", str(version)).output
    assert "homepage-test" in shown and "3000" in shown.replace(",", "")

    # Preview (as served) and the service serve it: the image that played best, mostly
    served = as_served(ws)
    assert (served.name, served.version) == ("linucb", version)
    decided = decide(snapshot, served, Member("someone-new"), [title], clock.now(), explain=True)
    probabilities = dict(decided.decisions[0].probabilities)
    assert max(probabilities, key=probabilities.get) == best and decided.model_version == version
    # a member already in a sticky window keeps what it was assigned; from their next window on
    # (a day later at most) the service serves them the new version
    clock.freeze(frozen_clock + timedelta(hours=25))
    service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
    try:
        answer = LocalClient(service).decide({"id": "someone-new"}, [title])
        assert answer["model_version"] == version
        assert answer["decisions"][0]["propensity"] == probabilities[answer["decisions"][0]["variant_id"]]
        # the service's retrain goes on from what the import taught, adding its own log
        LocalClient(service).outcomes([{"event_id": answer["decisions"][0]["event_id"], "played": False}])
        _, report = service.learn_now()
        assert report.incremental and report.n_rows == 3_001
    finally:
        service.close()
        ws.close()
