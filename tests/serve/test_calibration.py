"""Every estimate beside what came true: a promotion keeps what the lab, an offline evaluation
and the shadow expected of the promoted policy, and the calibration history sets those beside
the quality take rate the policy realised on live traffic once it served."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from test_closed_loop import simulated_homepage
from test_http import serving

from artdash import clock
from artdash.cli import main
from artdash.decision.holdout import Holdout
from artdash.lab import estimates
from artdash.lab.estimates import Estimate, offline_estimate, summary_estimate
from artdash.lab.store import demote, promote
from artdash.results.service import import_log
from artdash.serve import DecisionService, HttpClient, ServiceSettings
from artdash.serve.calibration import calibration_history, calibration_table, coverage
from artdash.serve.shadow import current_shadow, promote_shadow, readout, start_shadow
from artdash.serve.traffic import drive
from artdash.ui import charts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ws(full_demo_ws):
    return full_demo_ws


def test_estimates_are_read_from_a_runs_summary_and_an_offline_table():
    summary = pd.DataFrame([{"policy": "uniform", "impressions": 5000, "quality take rate": 0.1, "quality low": 0.09,
                             "quality high": 0.11},
                            {"policy": "linucb", "impressions": 5000, "quality take rate": 0.2,
                             "quality low": 0.18, "quality high": 0.22}])
    lab = summary_estimate(summary, "linucb", "lab run #3")
    assert lab == Estimate("lab", 0.2, 0.18, 0.22, 5000, "lab run #3")
    assert summary_estimate(summary, "editors-pick", "x") is None
    table = pd.DataFrame([
        {"policy": "linucb", "as_served": None, "estimator": "IPS", "value": 0.25, "low": 0.1, "high": 0.4,
         "effective sample": 300.0},
        {"policy": "linucb", "as_served": None, "estimator": "DR", "value": 0.21, "low": 0.19, "high": 0.23,
         "effective sample": 900.0},
        {"policy": "linucb", "as_served": 4, "estimator": "DR", "value": 0.5, "low": 0.4, "high": 0.6,
         "effective sample": 900.0},
        {"policy": "thompson", "as_served": None, "estimator": "DR", "value": None, "low": None, "high": None,
         "effective sample": 0.0},
        {"policy": "thompson", "as_served": None, "estimator": "SNIPS", "value": 0.15, "low": 0.12, "high": 0.18,
         "effective sample": 80.0}])
    # doubly robust first, the retrained policy (not the stored version scored as served)
    assert offline_estimate(table, "linucb", "the live log") == Estimate("offline", 0.21, 0.19, 0.23, 900,
                                                                          "DR on the live log")
    assert offline_estimate(table, "thompson", "x").detail == "SNIPS on x"     # DR withheld: the next one
    assert offline_estimate(table, "uniform", "x") is None and offline_estimate(None, "linucb", "x") is None
    assert Estimate("shadow", 0.2, 0.1, 0.3, 1, "").covers(0.3) and not Estimate("shadow", 0.2, 0.1, 0.3, 1,
                                                                                 "").covers(0.31)
    assert Estimate("lab", 0.2, None, None, 1, "").covers(0.2) is None
    with pytest.raises(ValueError):
        Estimate("guess", 0.2, None, None, 1, "")


def live_rows(members: int, played_share: float, start, policy: str, holdout: Holdout, seed: int,
              variant: tuple[int, int]) -> bytes:
    """A live log: ``members`` members with 10 impressions each from ``start`` on, a quality
    play with chance ``played_share`` where ``policy`` served (the holdout's rule: half that)."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(members):
        member = f"{policy}-{seed}-{m}"
        held = holdout.holds(member)
        for i in range(10):
            quality = rng.random() < (played_share / 2 if held else played_share)
            rows.append({"event_id": f"{seed}-{m}-{i}", "timestamp": (start + timedelta(minutes=i)).isoformat(),
                         "member_id": member, "title_id": variant[0], "variant_id": variant[1], "experiment": "live",
                         "policy": f"holdout-{holdout.policy}" if held else policy, "propensity": 0.5,
                         "played": int(quality), "play_seconds": 900 if quality else 0})
    return pd.DataFrame(rows).to_csv(index=False).encode()


def test_each_promotion_is_set_against_what_its_policy_realised_while_it_served(ws, frozen_clock):
    """The realised rate counts the promoted policy's decisions from its promotion to the next
    change, members not held out; the estimates kept with it are judged against that."""
    with ws.session() as s:
        variant = s.execute(text("SELECT title_id, id FROM variants ORDER BY id LIMIT 1")).one()
    start = clock.now()
    with ws.transaction() as s:
        first = promote(s, "editors-pick", "local-admin", expected=[
            Estimate("offline", 0.30, 0.27, 0.33, 4000, "DR on the live log"),
            Estimate("lab", 0.50, 0.45, 0.55, 20000, "lab run #1")])
    clock.freeze(start + timedelta(days=1))
    with ws.transaction() as s:
        second = promote(s, "uniform", "local-admin")
    clock.freeze(start + timedelta(days=2))
    with ws.transaction() as s:
        demote(s, "local-admin")
    holdout = Holdout(0.2, "uniform")
    for share, at, policy, seed in ((0.3, start + timedelta(hours=1), "editors-pick", 1),
                                    (0.1, start + timedelta(days=1, hours=1), "uniform", 2),
                                    (0.9, start + timedelta(days=2, hours=1), "editors-pick", 3)):   # after demote
        data = live_rows(400, share, at, policy, holdout, seed, (variant.title_id, variant.id))
        report = import_log(ws, data, f"live-{seed}.csv", "local-admin")
        assert report.import_id is not None, report
    history = calibration_history(ws)
    assert [(e.promotion_id, e.policy) for e in history] == [(first.id, "editors-pick"), (second.id, "uniform")]
    picked, uniform = history
    assert picked.until == second.at and uniform.until is not None
    served = np.array([not holdout.holds(f"editors-pick-1-{m}") for m in range(400)])
    assert picked.realised.members == served.sum()                  # the day after the demotion is left out
    assert picked.realised.low < 0.3 < picked.realised.high
    assert picked.realised.arms.comparison is not None and picked.realised.arms.comparison.relative > 0
    assert [e.source for e in picked.estimates] == ["lab", "offline"]
    assert picked.covered(picked.estimates[1]) is True and picked.covered(picked.estimates[0]) is False
    assert coverage(history) == {"lab": (0, 1), "offline": (1, 1)}
    table = calibration_table(history)
    assert list(table["promotion"]) == [second.id, first.id, first.id]          # newest first
    assert list(table["source"]) == ["no estimate recorded", "lab (simulated)", "offline (on a log)"]
    assert list(table["covered"]) == ["", "no", "yes"]
    figure = charts.calibration_history(table)
    assert [t.name for t in figure.data] == ["lab (simulated) estimate", "offline (on a log) estimate",
                                            "realised (live, not held out)"]


def test_a_promotion_keeps_its_runs_estimates_and_refuses_nothing_else_new(ws):
    from artdash.lab import LabConfig, load_world, run_online
    from artdash.lab.offline import offline_on_run
    from artdash.lab.store import save_run

    with ws.session() as s:
        world = load_world(s)
    config = LabConfig(mix={a: 1.0 for a, _ in world.archetypes}, policies=("uniform", "linucb"), impressions=3000,
                       seed=4)
    result = run_online(world, config)
    table = offline_on_run(world, result, policies=["linucb"])
    with ws.transaction() as s:
        run = save_run(s, result, "local-admin", offline=table)
        promote(s, "linucb", "local-admin", run_id=run.id)
    with ws.session() as s:
        kept = list(estimates.recorded(s).values())[0]
    assert [e.source for e in kept] == ["lab", "offline"]
    lab = result.summary().set_index("policy").loc["linucb"]
    assert kept[0].value == pytest.approx(lab["quality take rate"]) and kept[0].sample == 3000
    assert kept[1].detail.startswith("DR on lab run #")


def test_the_shadow_estimate_covers_what_the_promoted_policy_then_earned_over_http(tmp_path, monkeypatch):
    """Done when: the real HTTP service, driven by the simulator (a hidden taste model) with a
    holdout, runs the editor's pick in shadow beside uniform; once the shadow's interval supports
    it, it is promoted from there, serves, and the calibration history shows the shadow's
    interval covering the quality take rate it realised — which itself covers the truth."""
    ws, key, world, population, taste = simulated_homepage(tmp_path, seed=5)
    try:
        with ws.transaction() as s:
            promote(s, "uniform", "local-admin", note="a clean start")
            start_shadow(s, "editors-pick", "local-admin", note="does the editor beat chance?")
        # one client thread and seeded draws: the same requests in the same order, answered the same — a run
        # whose intervals cover is the same run every time (four threads interleave, and the service's
        # draws were the system's: one run in twenty missed by chance, as a 95 % interval does)
        args = ("--holdout", "0.2", "--sticky-hours", "0", "--no-learn", "--seed", "5")
        with serving(tmp_path / "data", *args) as (url, _):
            drive(HttpClient(url, key, timeout=30), world, population, taste, 20_000, row_size=10, seed=5, threads=1)
        with ws.session() as s:
            shadow = current_shadow(s)
        result = readout(ws.results_engine, shadow, ws.settings.quality_play_seconds, clock.now())
        assert result.supports_promotion, result.why
        later = clock.now() + timedelta(hours=1)          # an hour of serving later (here and in the service)
        clock.freeze(later)
        monkeypatch.setenv(clock.ENV, later.isoformat())
        with ws.transaction() as s:
            promote_shadow(s, result, "local-admin", note="the editor beats chance")
        with serving(tmp_path / "data", *args) as (url, _):
            after = drive(HttpClient(url, key, timeout=30), world, population, taste, 20_000, row_size=10, seed=6,
                          threads=1)
        service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
        try:
            service.learn_now()                         # every resolved decision into the impression log
        finally:
            service.close()
        history = calibration_history(ws)
        assert [e.policy for e in history] == ["uniform", "editors-pick"]
        first, promoted = history
        assert first.estimates == () and first.until == promoted.at == later
        assert first.realised.rate is not None and first.realised.impressions > 0    # uniform served the first hour
        [kept] = promoted.estimates
        assert kept.source == "shadow" and (kept.value, kept.low, kept.high) == result.shadow
        came = promoted.realised
        held = np.array([Holdout(0.2, "uniform").holds(f"sim-{m}") for m in after.member])
        truth = after.served[~held].mean()             # P(quality) of what the promoted policy showed
        print(f"shadow {kept.value:.4f} [{kept.low:.4f}, {kept.high:.4f}]; realised {came.rate:.4f} "
              f"[{came.low:.4f}, {came.high:.4f}] over {came.members} members; truth {truth:.4f}")
        assert came.impressions == (~held).sum()
        assert came.low <= truth <= came.high
        assert promoted.covered(kept) is True
        assert came.arms.comparison is not None and came.arms.comparison.relative > 0   # over the holdout

        env = {"ARTDASH_DATA_DIR": str(tmp_path / "data"), "ARTDASH_DATABASE_URL": "", "ARTDASH_MEDIA_DIR": ""}
        done = CliRunner().invoke(main, ["results", "report", "--experiment", "live", "--cells", "--calibration",
                                         "--format", "csv"], env=env)
        assert done.exit_code == 0, done.output
        table = pd.read_csv(io.StringIO(done.output))
        assert list(table["source"]) == ["shadow (live traffic)", "no estimate recorded"]
        assert table["covered"].iloc[0] == "yes"
        assert table["realised rate"].iloc[0] == pytest.approx(came.rate)
        shown = CliRunner().invoke(main, ["results", "report", "--experiment", "live", "--cells", "--calibration"],
                                   env=env)
        assert shown.exit_code == 0 and "shadow (live traffic): 1 of 1 covered" in shown.output, shown.output
        refused = CliRunner().invoke(main, ["results", "report", "--calibration"], env=env)
        assert refused.exit_code != 0 and "--experiment live --cells" in refused.output
    finally:
        ws.close()
