"""Thompson sampling (Beta–Bernoulli per variant, as Open Bandit Pipeline's BernoulliTS): its
propensities are the chance each variant's posterior draw is highest — checked against a
Monte Carlo of the posterior draws, as OBP computes them — it runs in the lab, and the
decision service serves it, learning in versions."""

from __future__ import annotations

import numpy as np
import pytest
from workspaces import make_settings

from artdash.demo import DEMO_TITLES, load_demo
from artdash.lab import LabConfig, load_world, run_online
from artdash.lab import store as lab_store
from artdash.policy import registry
from artdash.policy.base import Candidate, Context
from artdash.policy.thompson import ThompsonSamplingPolicy
from artdash.serve import DecisionService, LocalClient, ServiceSettings
from artdash.workspace import Workspace


def monte_carlo(counts, n_draws=400_000, seed=0):
    """OBP's way: draw every variant's posterior many times and count who is highest."""
    rng = np.random.default_rng(seed)
    draws = np.column_stack([rng.beta(1 + s, 1 + n - s, n_draws) for s, n in counts])
    return np.bincount(draws.argmax(axis=1), minlength=len(counts)) / n_draws


@pytest.mark.parametrize("counts", [[(30, 400), (45, 410), (12, 380)], [(0, 0), (0, 0)], [(5, 50), (6, 50), (7, 50),
                                    (2, 40), (0, 3)], [(300, 1000), (310, 1000)]])
def test_its_propensities_are_the_chance_each_posterior_draw_is_highest(counts):
    ids = list(range(1, len(counts) + 1))
    policy = ThompsonSamplingPolicy({v: c for v, c in zip(ids, counts)}, exploration=0.0)
    cands = [Candidate(v, 7, frozenset(), (0.5, 0.5, 0.5, 0.5)) for v in ids]
    p = policy.probabilities(Context("m"), cands)
    assert p.sum() == pytest.approx(1.0)
    assert np.abs(p - monte_carlo(counts)).max() < 0.01
    explored = ThompsonSamplingPolicy(policy.counts, exploration=0.1).probabilities(Context("m"), cands)
    assert explored.min() >= 0.1 / len(ids) - 1e-12          # no propensity near 0: bounded IPS weights


def test_thompson_sampling_is_registered_runs_in_the_lab_and_is_served(demo_workspace, tmp_path):
    assert "thompson" in registry.names(servable_only=True) and registry.KINDS["thompson"].learns
    with demo_workspace.session() as s:
        world = load_world(s)
    result = run_online(world, LabConfig(mix={int(a): 1.0 for a in world.archetype_ids}, impressions=6_000,
                                         batch_size=1_000, policies=("uniform", "thompson")))
    values = result.summary().set_index("policy")["expected quality rate"]
    assert values["thompson"] > values["uniform"]             # it learns which image plays
    ws = Workspace.open(make_settings(tmp_path))
    load_demo(ws, titles=DEMO_TITLES[:2])
    with ws.transaction() as s:
        lab_store.promote(s, "thompson", "local-admin", note="won the lab")
    service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
    try:
        client = LocalClient(service)
        titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
        answer = client.decide({"id": "m1"}, titles)
        assert answer["policy"] == "thompson" and all(0 < d["propensity"] <= 1 for d in answer["decisions"])
        client.outcomes([{"event_id": d["event_id"], "played": True, "play_seconds": 900} for d in answer["decisions"]])
        _, trained = service.learn_now()
        assert trained is not None and trained.policy == "thompson" and trained.n_rows == len(titles)
    finally:
        service.close()
        ws.close()
