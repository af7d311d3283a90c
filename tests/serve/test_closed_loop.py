"""The live loop, closed: a simulated population drives the real HTTP service (`artdash serve`
in its own process) for 100,000 decisions, reporting every outcome; the service logs, learns
in versions and serves what it learnt. The learned policy, as served (with its exploration),
reaches ≥ 0.95 of the oracle's true quality take rate, and an offline estimate made from the
logged decisions alone lands near the truth.

One run is one draw: its 95% interval would miss the truth in one run of twenty by design (it
did, in CI). So this run asserts the estimate is within four standard errors of the truth (a
false alarm once in ~16,000 runs), and the interval's 95% coverage on logs a learning policy
collected is measured where it can be, over 200 logs (tests/test_ope.py)."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from test_http import serving
from workspaces import copy_demo, make_settings

from artdash import ope
from artdash.access.api_keys import create_key
from artdash.db.results_schema import decisions, outcomes, rollup_variants
from artdash.lab import LabConfig, draw_population, load_world
from artdash.results import rollup_store
from artdash.serve import DecisionService, HttpClient, ServiceSettings
from artdash.serve.traffic import drive, tastes_of
from artdash.simulator.population import Truth
from artdash.workspace import Workspace

N_DECISIONS = 100_000


def served_probabilities(service, world, population):
    """(M, T, K): the served policy's probabilities for every member × title of the world, for
    the tastes each member sent (rounded as sent)."""
    snapshot, policy = service.snapshot, service.served.policy
    rows = np.array([snapshot.row_of[int(t)] for t in world.title_ids])
    table = snapshot.table.take(rows)
    out = np.zeros((len(population.affinity), *world.variant_ids.shape))
    for m, affinity in enumerate(population.affinity):
        tastes = snapshot.resolve_tastes(tastes_of(world, affinity))
        vector = np.zeros(snapshot.features.n_tags)
        for tag_id, w in tastes.items():
            vector[snapshot.features.index[tag_id]] = w
        out[m] = np.asarray(policy.table(table, vector[None, :]))[0]
    return out


def simulated_homepage(tmp_path, seed: int, members: int = 2000):
    """A demo workspace, an API key for the simulated homepage, the lab's world over it, a
    population drawn around every archetype and the hidden taste model: (ws, key, world,
    population, taste)."""
    copy_demo(tmp_path / "data")
    ws = Workspace.open(make_settings(tmp_path))
    with ws.transaction() as s:
        key = create_key(s, "local-admin", "simulated homepage", rate_per_second=100_000).secret
    with ws.session() as s:
        world = load_world(s)
    config = LabConfig(mix={a: 1.0 for a, _ in world.archetypes})
    population = draw_population(world, config.mix, members, config.noise_sd, seed=seed)
    return ws, key, world, population, config.taste()


def test_the_service_learns_from_its_own_traffic_and_its_log_evaluates_honestly(tmp_path):
    ws, key, world, population, taste = simulated_homepage(tmp_path, seed=11)
    # The whole run happens at one frozen instant: with sticky windows a new version would reach
    # members only at their next window (tests/serve/test_one_decision.py checks that); this
    # test is about learning, so every request is served the newest version (stickiness off).
    with serving(tmp_path / "data", "--retrain-every", "5000", "--flush-seconds", "20", "--sticky-hours", "0") \
            as (url, _):
        report = drive(HttpClient(url, key, timeout=30), world, population, taste, N_DECISIONS, row_size=10,
                       seed=11, threads=4)
    assert len(report) >= N_DECISIONS
    assert report.model_version.max() >= 5                      # it retrained, in versions, while serving
    assert report.uniform_ratio() < 0.5                          # the floor it rose from

    service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
    try:
        service.learn_now()                                      # the last outcomes in, one more version
        with ws.results_engine.connect() as conn:
            logged = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
            assert logged == len(report)                         # every answered decision was logged
            assert conn.execute(select(func.count()).select_from(outcomes)).scalar_one() == len(report)
            in_results = rollup_store.rows(conn, select(func.sum(rollup_variants.c.impressions))
                                           .where(rollup_variants.c.experiment == "live"))[0][0]
            assert in_results == len(report)                     # all of it is live traffic in Results
            rows = conn.execute(select(decisions.c.member_id, decisions.c.title_id, decisions.c.variant_id,
                                       decisions.c.propensity, outcomes.c.played, outcomes.c.play_seconds)
                                .join(outcomes, outcomes.c.event_id == decisions.c.event_id)).all()
        truth = Truth(world, taste, population)
        everyone = np.repeat(np.arange(len(population.affinity)), len(world.title_ids))
        every_title = np.tile(np.arange(len(world.title_ids)), len(population.affinity))
        _, quality = truth.probabilities(everyone, every_title)
        quality = quality.reshape(len(population.affinity), len(world.title_ids), -1)
        pi = served_probabilities(service, world, population)
        served_value = (pi * quality).sum(axis=2).mean()
        oracle_value = quality.max(axis=2).mean()
        assert served_value / oracle_value >= 0.95, (served_value, oracle_value)

        # Offline: the final policy's value estimated from the logged decisions (propensities as
        # logged by every version that served), against its true value on the same rounds.
        member = np.array([int(r.member_id.removeprefix("sim-")) for r in rows])
        title_row = {int(t): i for i, t in enumerate(world.title_ids)}
        title = np.array([title_row[r.title_id] for r in rows])
        slot = {int(v): k for row in world.variant_ids for k, v in enumerate(row)}
        action = np.array([slot[r.variant_id] for r in rows])
        reward = np.array([float(r.played == 1 and r.play_seconds >= 300) for r in rows])
        data = ope.LoggedData(action=action, reward=reward, propensity=np.array([r.propensity for r in rows]),
                              n_actions=world.n_actions[title])
        target = pi[member, title]
        true_value = float((target * quality[member, title]).sum(axis=1).mean())
        value, low, high = ope.snips(data, target)
        print(f"closed loop: {len(report):,} decisions, {report.model_version.max()} versions; served/oracle "
              f"{served_value / oracle_value:.4f} (uniform {report.uniform_ratio():.3f}, last 10k as served "
              f"{report.oracle_ratio(10_000):.4f}); SNIPS {value:.4f} [{low:.4f}, {high:.4f}] vs truth {true_value:.4f}")
        standard_error = (high - low) / (2 * 1.959964)
        w = target[np.arange(len(action)), action] / data.propensity
        psi = w * (reward - value) / w.mean()                        # SNIPS linearised, summed by member
        by_member = np.bincount(member, weights=psi)
        print(f"SNIPS error {(value - true_value) / standard_error:+.2f} standard errors; clustered by member "
              f"the standard error is {np.sqrt((by_member ** 2).sum()) / len(psi) / standard_error:.2f}x")
        assert abs(value - true_value) <= 4 * standard_error, (low, value, high, true_value)
        assert high - low <= 0.02                                    # and the estimate says something
    finally:
        service.close()
        ws.close()
