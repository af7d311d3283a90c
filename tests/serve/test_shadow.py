"""Shadow mode: a candidate policy's choice logged beside every served decision, evaluated on
that live log, and promoted only when the estimate's interval supports it. A simulated
population drives the real service in-process; the truth comes from the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select
from workspaces import copy_demo, make_settings

from artdash import ope
from artdash.access.auth import PermissionDenied, add_user
from artdash.db.results_schema import decisions, outcomes
from artdash.errors import ValidationError
from artdash.lab import LabConfig, draw_population, load_world
from artdash.lab.store import current_policy, promote
from artdash.serve import DecisionService, LocalClient, ServiceSettings
from artdash.serve.shadow import (
    Sums,
    current_shadow,
    estimate,
    promote_shadow,
    readout,
    shadow_history,
    start_shadow,
    stop_shadow,
)
from artdash.serve.traffic import drive, tastes_of
from artdash.simulator.population import Truth
from artdash.workspace import Workspace


def probabilities(snapshot, policy, world, population):
    """(M, T, K): ``policy``'s probabilities for every member × title, for the tastes sent."""
    rows = np.array([snapshot.row_of[int(t)] for t in world.title_ids])
    table = snapshot.table.take(rows)
    out = np.zeros((len(population.affinity), *world.variant_ids.shape))
    for m, affinity in enumerate(population.affinity):
        vector = np.zeros(snapshot.features.n_tags)
        for tag_id, w in snapshot.resolve_tastes(tastes_of(world, affinity)).items():
            vector[snapshot.features.index[tag_id]] = w
        out[m] = np.asarray(policy.table(table, vector[None, :]))[0]
    return out


def coupled_match(p, q):
    """The mean chance two policies pick the same variant from the same draws (the exponential
    race of artdash.policy.assign): both pick k when every other E_j exceeds E_k·max(p_j/p_k,
    q_j/q_k), so P(both k) = 1 / Σ_j max(p_j/p_k, q_j/q_k); summed over k, per round."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(p[:, None, :] / p[:, :, None], q[:, None, :] / q[:, :, None])   # [round, k, j]
        both = np.where((p > 0) & (q > 0), 1.0 / np.nansum(ratio, axis=2), 0.0)
    return float(both.sum(axis=1).mean())


@pytest.fixture
def live(tmp_path):
    """The demo catalog served uniformly at random, with a simulated population and its truth."""
    copy_demo(tmp_path / "data")
    ws = Workspace.open(make_settings(tmp_path))
    with ws.transaction() as s:
        promote(s, "uniform", "local-admin", note="a clean log to evaluate candidates on")
        world = load_world(s)
    config = LabConfig(mix={a: 1.0 for a, _ in world.archetypes})
    population = draw_population(world, config.mix, 500, config.noise_sd, seed=5)
    yield ws, world, population, config.taste()
    ws.close()


def service_of(ws):
    return DecisionService(ws, ServiceSettings(require_keys=False, reward_window_seconds=3600), background=False)


def test_the_estimate_from_sums_is_the_per_round_estimate():
    rng = np.random.default_rng(3)
    n = 5000
    propensity = rng.choice([0.25, 0.5, 1 / 3], n)
    reward = (rng.random(n) < 0.3).astype(float)
    p_shown = rng.choice([0.0, 0.1, 0.9, 1.0], n)
    w = p_shown / propensity
    found = estimate(Sums.of(np.arange(n), reward, w))                   # every round its own cluster
    served, shadow, difference, ess = found.served, found.target, found.difference, found.effective_sample
    # the shadow's value and interval are ope.snips's on the same rounds
    data = ope.LoggedData(action=np.zeros(n, int), reward=reward, propensity=propensity, n_actions=np.ones(n, int))
    assert shadow == pytest.approx(ope.snips(data, p_shown[:, None]), rel=1e-9)
    assert served[0] == pytest.approx(reward.mean())
    assert served[2] - served[0] == pytest.approx(1.959964 * reward.std(ddof=1) / np.sqrt(n), rel=1e-5)
    # the difference's interval: the delta method on the per-round influence functions
    phi = w * (reward - shadow[0]) / w.mean() - (reward - served[0])
    assert difference[0] == pytest.approx(shadow[0] - served[0])
    assert difference[2] - difference[0] == pytest.approx(1.959964 * np.sqrt((phi ** 2).sum()) / n, rel=1e-5)
    assert ess == pytest.approx(w.sum() ** 2 / (w ** 2).sum())


def test_repeat_showings_of_one_assignment_count_as_one_unit_of_evidence():
    """A member shown one title's sticky image several times: the rounds of one (member, title)
    are summed before their spread is taken (cluster-robust), so repeats widen the interval to
    what the independent assignments support — the influence functions summed per cluster."""
    rng = np.random.default_rng(4)
    clusters = rng.integers(0, 800, 5000)
    propensity = np.array([0.25, 0.5, 1 / 3])[clusters % 3]                 # one assignment: one propensity
    p_shown = np.array([0.0, 0.1, 0.9, 1.0])[clusters % 4]
    reward = (rng.random(5000) < np.where(clusters % 2, 0.45, 0.15)).astype(float)
    w = p_shown / propensity
    found = estimate(Sums.of(clusters, reward, w))
    alone = estimate(Sums.of(np.arange(5000), reward, w))
    assert found.target[0] == pytest.approx(alone.target[0]) and found.served[0] == pytest.approx(alone.served[0])
    n, vs, vb = 5000, found.target[0], found.served[0]
    phi = w * (reward - vs) / w.mean() - (reward - vb)
    per_cluster = np.bincount(np.unique(clusters, return_inverse=True)[1], weights=phi)
    d = found.difference
    assert d[2] - d[0] == pytest.approx(1.959964 * np.sqrt((per_cluster ** 2).sum()) / n, rel=1e-5)
    assert d[2] - d[0] > 1.2 * (alone.difference[2] - alone.difference[0])     # wider: ~6 showings a cluster


def test_only_admins_start_a_shadow_and_never_the_served_policy(live):
    ws, *_ = live
    with ws.transaction() as s:
        with pytest.raises(ValidationError, match="is the policy being served"):
            start_shadow(s, "uniform", "local-admin")
        with pytest.raises(ValidationError, match="cannot be served: the decision service cannot store"):
            start_shadow(s, "vw", "local-admin")
        with pytest.raises(ValidationError, match="no policy is running in shadow"):
            stop_shadow(s, "local-admin")
    with ws.transaction() as s:
        add_user(s, "ada", "admin", "local-admin", "a long enough password 1")
    with ws.transaction() as s:
        add_user(s, "eve", "editor", "ada", "a long enough password 2")
    with ws.transaction() as s, pytest.raises(PermissionDenied):
        start_shadow(s, "linucb", "eve")
    with ws.session() as s:
        assert current_shadow(s) is None and shadow_history(s).empty


def test_a_shadow_is_logged_beside_every_decision_and_its_estimate_covers_its_truth(live):
    ws, world, population, taste = live
    with ws.transaction() as s:
        start_shadow(s, "editors-pick", "local-admin", note="does the editor beat chance?")
    service = service_of(ws)
    try:
        assert service.policy_info()["shadow"]["policy"] == "editors-pick"
        report = drive(LocalClient(service), world, population, taste, 20_000, row_size=10, seed=5, threads=1)
        with ws.results_engine.connect() as conn:
            rows = conn.execute(select(decisions, outcomes.c.played, outcomes.c.play_seconds)
                                .join(outcomes, outcomes.c.event_id == decisions.c.event_id)).all()
        assert len(rows) == len(report)
        shadow_pi = probabilities(service.snapshot, service.shadow.policy, world, population)
        served_pi = probabilities(service.snapshot, service.served.policy, world, population)
        title_row = {int(t): i for i, t in enumerate(world.title_ids)}
        slot = {int(v): k for row in world.variant_ids for k, v in enumerate(row)}
        member = np.array([int(r.member_id.removeprefix("sim-")) for r in rows])
        title = np.array([title_row[r.title_id] for r in rows])
        shown = np.array([slot[r.variant_id] for r in rows])
        for r, m, t, k in zip(rows, member, title, shown):      # what was logged is the shadow's own choice
            assert r.policy == "uniform" and r.shadow_policy == "editors-pick"
            assert r.shadow_p_shown == pytest.approx(shadow_pi[m, t, k])
            assert r.shadow_propensity > 0
            assert r.shadow_propensity == pytest.approx(shadow_pi[m, t, slot[r.shadow_variant_id]])
        with ws.session() as s:
            entry = current_shadow(s)
        result = readout(ws.results_engine, entry, 300.0, service.started_at)
        assert result.logged == result.resolved == len(rows)
        assert result.match_rate == pytest.approx(coupled_match(served_pi[member, title], shadow_pi[member, title]),
                                                  abs=0.02)
        _, quality = Truth(world, taste, population).probabilities(member, title)
        true_shadow = float((shadow_pi[member, title] * quality).sum(axis=1).mean())
        true_served = float((served_pi[member, title] * quality).sum(axis=1).mean())
        assert result.shadow[1] <= true_shadow <= result.shadow[2], (result.shadow, true_shadow)
        assert result.served[1] <= true_served <= result.served[2], (result.served, true_served)
        d, lo, hi = result.difference
        assert lo <= true_shadow - true_served <= hi
        assert result.supports_promotion == (lo > 0) and result.why
    finally:
        service.close()


def test_a_learning_shadow_is_promoted_only_once_its_interval_supports_it(live):
    ws, world, population, taste = live
    with ws.transaction() as s:
        start_shadow(s, "linucb", "local-admin")
    service = service_of(ws)
    try:
        with ws.session() as s:
            entry = current_shadow(s)
        early = readout(ws.results_engine, entry, 300.0, service.started_at)
        assert not early.supports_promotion and "no resolved decisions" in early.why
        with ws.transaction() as s, pytest.raises(ValidationError, match="cannot be promoted yet: no resolved"):
            promote_shadow(s, early, "local-admin")
        with ws.session() as s:
            assert current_policy(s)[0] == "uniform"                  # nothing changed
        for _ in range(3):                                            # serve, learn, serve
            drive(LocalClient(service), world, population, taste, 10_000, row_size=10, seed=7, threads=1)
            service.learn_now()
            assert service.shadow is not None and service.shadow.version > 0   # the shadow trained
        result = readout(ws.results_engine, entry, 300.0, service.started_at)
        assert result.resolved >= 30_000 and result.supports_promotion, result.why
        assert result.difference[1] > 0 and 0 < result.match_rate < 1
        with ws.transaction() as s:
            promote_shadow(s, result, "local-admin", note="it learnt")
        with ws.session() as s:
            promoted, promotion = current_policy(s)
            assert promoted == "linucb" and "from shadow" in promotion.note and current_shadow(s) is None
            assert list(shadow_history(s)["action"]) == ["stop", "start"]
        service.refresh()
        info = service.policy_info()
        assert info["policy"] == "linucb" and info["model_version"] > 0 and info["shadow"] is None
    finally:
        service.close()


def test_while_the_service_serves_members_a_policy_is_promoted_through_shadow_only(sqlite_catalog_ws, frozen_clock):
    from datetime import timedelta

    from artdash.serve.shadow import direct_promotion_refusal

    ws = sqlite_catalog_ws
    assert direct_promotion_refusal(ws.results_engine, frozen_clock) is None     # no live traffic: the lab may
    service = service_of(ws)
    try:
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        LocalClient(service).decide({"id": "m-1"}, titles)
    finally:
        service.close()
    refusal = direct_promotion_refusal(ws.results_engine, frozen_clock)
    assert refusal and "serving members" in refusal and "shadow" in refusal
    assert direct_promotion_refusal(ws.results_engine, frozen_clock + timedelta(days=8)) is None  # gone quiet
