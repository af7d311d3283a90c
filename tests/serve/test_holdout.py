"""The holdout: a share of members, chosen by id, served a fixed rule instead of the promoted
policy — the same on every worker, in Preview and in the service — and read on Results as
served against holdout, the realised lift of personalisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from test_closed_loop import simulated_homepage
from test_http import serving

from artdash import numbers
from artdash.access.auth import PermissionDenied, add_user
from artdash.db.results_schema import decisions
from artdash.decision.bootstrap import train_simulated
from artdash.decision.holdout import Holdout, current_holdout, member_draw, set_holdout
from artdash.errors import ValidationError
from artdash.results.service import impression_log
from artdash.serve import DecisionService, HttpClient, ServiceSettings
from artdash.serve.holdout_readout import holdout_readout
from artdash.serve.traffic import drive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ws(full_demo_ws):
    return full_demo_ws


def test_who_is_held_out_depends_on_the_id_alone_and_a_larger_share_only_adds_members():
    ids = [f"member-{i}" for i in range(20_000)]
    draws = np.array([member_draw(i) for i in ids])
    assert draws.min() >= 0 and draws.max() < 1
    assert [member_draw(i) for i in ids[:50]] == list(draws[:50])          # the same every time
    small, large = Holdout(0.05, "uniform"), Holdout(0.10, "uniform")
    in_small = {i for i in ids if small.holds(i)}
    in_large = {i for i in ids if large.holds(i)}
    assert in_small <= in_large
    for share, held in ((0.05, in_small), (0.10, in_large)):             # binomial: within 4.5 sd
        sd = (len(ids) * share * (1 - share)) ** 0.5
        assert abs(len(held) - len(ids) * share) < 4.5 * sd
    assert not Holdout(0.0, "uniform").holds("anyone")


def test_the_setting_is_stored_by_admins_and_checked(ws):
    with ws.transaction() as s:
        add_user(s, "ada", "admin", "local-admin", "a long enough password 1")
        add_user(s, "eve", "editor", "ada", "a long enough password 2")
    with ws.session() as s:
        assert current_holdout(s).share == 0
    for share, policy, words in ((0.7, "uniform", "from 0"), (-0.1, "uniform", "from 0"), ("x", "uniform", "number"),
                                 (float("nan"), "uniform", "from 0"), (0.05, "linucb", "one of uniform")):
        with pytest.raises(ValidationError, match=words), ws.transaction() as s:
            set_holdout(s, share, policy, "ada")
    with pytest.raises(PermissionDenied), ws.transaction() as s:
        set_holdout(s, 0.05, "uniform", "eve")
    with ws.transaction() as s:
        set_holdout(s, 0.05, "Editors-Pick", "ada")
    with ws.session() as s:
        held = current_holdout(s)
    assert (held.share, held.policy, held.by) == (0.05, "editors-pick", "ada")
    assert "5% of members are held out" in held.describe()


def test_held_out_members_get_the_fixed_rule_in_the_service_and_in_preview_alike(ws):
    from artdash import clock, preview
    from artdash.decision.catalog import load_preview_catalog
    from artdash.serve.schema import DecideIn
    from artdash.serve.served import load_served_view

    with ws.transaction() as s:
        set_holdout(s, 0.3, "uniform", "local-admin")
    service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
    try:
        titles = sorted(service.snapshot.row_of)[:8]
        held = Holdout(0.3, "uniform")
        seen = {True: 0, False: 0}
        view = load_served_view(ws, clock.now(), service.settings.sticky_hours)
        with ws.session() as s:
            catalog = {t.id: t for t in load_preview_catalog(s)}
        for i in range(60):
            member_id = f"m{i}"
            decided = service.prepare({"member": {"id": member_id, "tastes": {"genre:romance": 0.8}},
                                       "titles": titles})
            is_held = held.holds(member_id)
            seen[is_held] += 1
            assert decided.policy == ("holdout-uniform" if is_held else service.served.name)
            for d in decided.decisions:
                n = len(service.snapshot.candidates[d.title_id])
                if is_held:
                    assert d.propensity == pytest.approx(1 / n) and d.reason.startswith("held out (30% of members")
            # Preview, from the served view, answers what the service answers
            body = DecideIn.model_validate({"member": {"id": member_id, "tastes": {"genre:romance": 0.8}},
                                            "titles": titles})
            member = service.member_of(body, service.snapshot)
            tiles, _, version = preview.served(view.snapshot, view.timeline, member, [catalog[t] for t in titles],
                                               decided.at, view.sticky_hours, view.held_out)
            assert [(t.title.id, t.decision.variant_id, t.decision.propensity) for t in tiles] == \
                [(d.title_id, d.variant_id, d.propensity) for d in decided.decisions if d.variant_id is not None]
            assert version.name == decided.policy
        assert seen[True] and seen[False]
        assert service.policy_info()["holdout"]["share"] == 0.3
    finally:
        service.close()


def test_live_traffic_reads_as_served_against_holdout_and_the_lift_covers_the_truth(tmp_path, monkeypatch):
    """The real HTTP service with `--holdout 0.3`, driven by the simulator (a hidden taste
    model): members in the holdout are within the sample-ratio bounds of the share, and the
    realised lift's interval (the readout's default: sequential, 95 %) covers the true lift of
    what the served arm was shown over the holdout's uniform pick, on the same traffic."""
    ws, key, world, population, taste = simulated_homepage(tmp_path, seed=5)
    try:
        # the served arm personalises from its first request (a version trained on the seeded taste model), and
        # the run is the same every time: no retrain while serving, seeded draws, one client thread (a learner
        # and four threads made each run a new one, and a 95 % interval misses one run in twenty)
        with ws.session() as s:
            train_simulated(s, ws.results_engine, "linucb", "local-admin", seed=0)
        with serving(tmp_path / "data", "--holdout", "0.3", "--no-learn", "--seed", "5", "--sticky-hours", "0") \
                as (url, _):
            report = drive(HttpClient(url, key, timeout=30), world, population, taste, 40_000, row_size=10, seed=5,
                           threads=1)
        service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
        try:
            service.learn_now()                         # every resolved decision into the impression log
        finally:
            service.close()
        with ws.session() as s:
            holdout = current_holdout(s)
        assert (holdout.share, holdout.policy) == (0.3, "uniform")
        with ws.results_engine.connect() as conn:
            logged = conn.execute(select(decisions.c.member_id, decisions.c.policy)).all()
            readout = holdout_readout(impression_log(ws), conn, holdout, ws.settings.quality_play_seconds)
        assert all((p == "holdout-uniform") == holdout.holds(m) for m, p in logged)
        overall = readout.overall
        assert overall.served.n + overall.holdout.n == len(report)
        assert readout.srm is not None and not readout.srm.mismatch, readout.srm
        share = overall.holdout.members / (overall.served.members + overall.holdout.members)
        assert abs(share - 0.3) < 4.5 * (0.3 * 0.7 / (overall.served.members + overall.holdout.members)) ** 0.5
        held = np.array([holdout.holds(f"sim-{m}") for m in report.member])
        true_served = report.served[~held].mean()      # P(quality) of what the served arm was shown
        true_holdout = report.uniform[held].mean()     # uniform's expected P(quality) on the held-out rows
        true_lift = true_served / true_holdout - 1
        interval = overall.comparison.interval
        print(f"holdout: served {overall.served.rate:.4f} vs holdout {overall.holdout.rate:.4f}, lift "
              f"{overall.lift:+.3f} [{interval.low:+.3f}, {interval.high:+.3f}] vs true {true_lift:+.3f}; "
              f"members {overall.served.members} / {overall.holdout.members}")
        assert interval.low <= true_lift <= interval.high
        assert interval.low > 0                          # personalisation's lift is seen, not only bounded
        assert len(readout.titles) == len(world.title_ids)

        # the same readout on the command line (CSV) and on Results → Live traffic
        import io

        import pandas as pd
        from click.testing import CliRunner
        from streamlit.testing.v1 import AppTest

        from artdash.cli import main

        env = {"ARTDASH_DATA_DIR": str(tmp_path / "data"), "ARTDASH_DATABASE_URL": "", "ARTDASH_MEDIA_DIR": ""}
        done = CliRunner().invoke(main, ["results", "report", "--experiment", "live", "--cells", "--format", "csv"],
                                  env=env)
        assert done.exit_code == 0, done.output
        table = pd.read_csv(io.StringIO(done.output))
        assert table["title"].iloc[0] == "all titles" and len(table) == len(world.title_ids) + 1
        assert table["lift"].iloc[0] == pytest.approx(overall.lift)
        assert "30% of members are held out" in table["holdout"].iloc[0] and "Sequential" in table["method"].iloc[0]
        refused = CliRunner().invoke(main, ["results", "report", "--cells"], env=env)
        assert refused.exit_code != 0 and "--experiment live" in refused.output
        for name, value in env.items():
            monkeypatch.setenv(name, value) if value else monkeypatch.delenv(name, raising=False)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.run()
        at.switch_page("screens/results.py")
        at.query_params["results_tab"] = "Live traffic"
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("Personalisation against the holdout" in m.value for m in at.markdown)
        assert [m.value for m in at.metric if m.label == "Lift of personalisation (all titles)"] == \
            [numbers.change(overall.lift)]
        assert any("matches the 30% share" in c.value.replace("\\", "") for c in at.caption)
    finally:
        ws.close()
