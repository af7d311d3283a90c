"""Offline policy evaluation: estimators against hand computations and against known truth."""

import numpy as np
import pytest

from artdash import ope, stats
from artdash.errors import ValidationError


def small_log():
    # Three rounds, two candidates each.
    return ope.LoggedData(action=np.array([0, 1, 1]), reward=np.array([1.0, 0.0, 1.0]),
                          propensity=np.array([0.5, 0.25, 0.25]), n_actions=np.array([2, 2, 2]))


def test_ips_and_snips_equal_hand_computed_values():
    data = small_log()
    target = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]])
    # Weights: 1/0.5 = 2, 0.5/0.25 = 2, 0.8/0.25 = 3.2
    w = np.array([2.0, 2.0, 3.2])
    assert np.allclose(ope.importance_weights(data, target), w)
    assert ope.ips(data, target)[0] == pytest.approx((2 * 1 + 2 * 0 + 3.2 * 1) / 3)
    assert ope.snips(data, target)[0] == pytest.approx((2 + 3.2) / (2 + 2 + 3.2))
    assert ope.effective_sample_size(w) == pytest.approx(7.2 ** 2 / (4 + 4 + 10.24))


def test_direct_method_and_doubly_robust_by_hand():
    data = small_log()
    target = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]])
    q = np.array([[0.6, 0.2], [0.4, 0.4], [0.5, 0.9]])
    dm_terms = np.array([0.6, 0.4, 0.1 + 0.72])
    assert ope.direct_method(target, q)[0] == pytest.approx(dm_terms.mean())
    dr_terms = dm_terms + np.array([2 * (1 - 0.6), 2 * (0 - 0.4), 3.2 * (1 - 0.9)])
    assert ope.doubly_robust(data, target, q)[0] == pytest.approx(dr_terms.mean())


def world(seed, n=3000, groups=4, k=4, uniform=True):
    """Contexts in a few groups, K actions, a known true take rate per (group, action)."""
    rng = np.random.default_rng(seed)
    truth_rng = np.random.default_rng(12345)  # the same world for every seed
    q = truth_rng.uniform(0.05, 0.6, size=(groups, k))
    p_group = np.full(groups, 1 / groups)
    target_by_group = ope_target(q)
    group = rng.integers(groups, size=n)
    logger = np.full((groups, k), 1 / k) if uniform else truth_rng.dirichlet(np.ones(k) * 2, size=groups)
    logger = np.maximum(logger, 0.05)
    logger /= logger.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(logger[group], axis=1)
    action = (rng.random(n)[:, None] < cumulative).argmax(axis=1)
    reward = (rng.random(n) < q[group, action]).astype(float)
    data = ope.LoggedData(action, reward, logger[group, action], np.full(n, k))
    truth = float((p_group[:, None] * target_by_group * q).sum())
    return data, group, target_by_group[group], truth, q


def ope_target(q, exploration=0.1):
    k = q.shape[1]
    t = np.full(q.shape, exploration / k)
    t[np.arange(len(q)), q.argmax(axis=1)] += 1 - exploration
    return t


@pytest.mark.parametrize("uniform", [True, False], ids=["uniform log", "skewed log"])
def test_intervals_cover_the_truth_in_at_least_90_percent_of_50_seeds(uniform):
    covered: dict[str, int] = {}
    for seed in range(50):
        data, group, target, truth, _ = world(seed, uniform=uniform)
        keys = np.tile(np.arange(data.n_actions[0]), (len(data), 1))
        predicted = ope.cross_fitted_predictions(group, keys, data, seed=seed)
        for est in ope.evaluate(data, target, predicted, uniform_log=uniform, seed=seed):
            if est.estimator == "replay" and not uniform:
                continue  # replay needs a uniformly random log
            assert not est.withheld
            covered[est.estimator] = covered.get(est.estimator, 0) + int(est.low <= truth <= est.high)
    expected = {"IPS", "SNIPS", "DM", "DR"} | ({"replay"} if uniform else set())
    assert set(covered) == expected
    for estimator, hits in covered.items():
        assert hits >= 45, f"{estimator} covered the truth in only {hits} of 50 seeds"


def test_doubly_robust_is_unbiased_when_the_reward_model_is_right():
    estimates, truths = [], []
    for seed in range(200):
        data, group, target, truth, q = world(seed, n=400, uniform=False)
        correct = q[group]  # the true reward model
        estimates.append(ope.doubly_robust(data, target, correct)[0])
        truths.append(truth)
    errors = np.array(estimates) - np.array(truths)
    # Mean error within three standard errors of zero.
    assert abs(errors.mean()) < 3 * errors.std(ddof=1) / np.sqrt(len(errors))


def test_no_overlap_is_warned_and_withheld():
    data, group, target, truth, _ = world(0, n=500)
    support = np.zeros((len(data), 4), dtype=bool)
    support[:, 0] = True  # the logger only ever shows candidate 0 …
    data = ope.LoggedData(np.zeros(len(data), dtype=int), data.reward, np.ones(len(data)), data.n_actions, support)
    target = np.tile([0.0, 0.0, 0.0, 1.0], (len(data), 1))  # … the policy only ever candidate 3
    estimates = {e.estimator: e for e in ope.evaluate(data, target)}
    assert estimates["IPS"].withheld and "too little overlap" in estimates["IPS"].note
    assert estimates["replay"].withheld and estimates["DR" if "DR" in estimates else "SNIPS"].withheld


def test_partial_overlap_is_warned_but_estimated():
    data, group, target, truth, _ = world(1, n=2000)
    support = np.ones((len(data), 4), dtype=bool)
    support[:, 3] = False
    data = ope.LoggedData(data.action, data.reward, data.propensity, data.n_actions, support)
    target = np.tile([0.45, 0.45, 0.0, 0.1], (len(data), 1))
    ips = next(e for e in ope.evaluate(data, target) if e.estimator == "IPS")
    assert not ips.withheld and "10.00% of this policy's probability is on images the logger never showed" in ips.note


@pytest.mark.parametrize("propensity, words", [
    (np.array([0.5, np.nan]), "have no propensity"),
    (np.array([0.5, 0.0]), "have propensity 0"),
    (np.array([0.5, 1.5]), "above 1"),
])
def test_bad_propensities_are_refused_with_the_reason(propensity, words):
    data = ope.LoggedData(np.array([0, 1]), np.array([1.0, 0.0]), propensity, np.array([2, 2]))
    with pytest.raises(ValidationError, match=words):
        ope.evaluate(data, np.full((2, 2), 0.5))


def test_zero_impressions_are_refused():
    empty = ope.LoggedData(np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0, int))
    with pytest.raises(ValidationError, match="no impressions"):
        ope.evaluate(empty, np.zeros((0, 2)))


def test_replay_on_rounds_without_a_play_has_a_wilson_interval_not_zero_width():
    n = 61 * 3
    data = ope.LoggedData(action=np.tile([0, 1, 2], 61), reward=np.zeros(n), propensity=np.full(n, 1 / 3),
                          n_actions=np.full(n, 3))
    target = np.tile([1.0, 0.0, 0.0], (n, 1))          # matches the 61 rounds that logged action 0
    value, low, high, matched = ope.replay(data, target)
    assert matched == 61 and value == low == 0.0
    assert high == pytest.approx(stats.wilson_interval(0, 61).high) and high > 0.05


def test_doubly_robust_is_clipped_to_what_a_rate_can_be_and_says_so():
    rng = np.random.default_rng(4)
    n = 400
    data = ope.LoggedData(action=rng.integers(0, 2, n), reward=np.ones(n), propensity=np.full(n, 0.5),
                          n_actions=np.full(n, 2))
    target = np.tile([1.0, 0.0], (n, 1))
    predicted = np.full((n, 2), 0.99)                 # a model near 1 and rewards all 1: DR's interval tops 1
    [dr] = [e for e in ope.evaluate(data, target, predicted) if e.estimator == "DR"]
    assert 0 <= dr.low <= dr.value <= dr.high <= 1 and "clipped to [0, 1]" in dr.note


def test_ips_snips_and_dm_intervals_never_leave_what_a_rate_can_be():
    """Real logs: few rewards, a policy far from the logger — a normal interval reaches below 0
    (the editor's pick on a public log: IPS [−0.00697, 0.0407]). Clipped to [0, 1], said in the note."""
    rng = np.random.default_rng(7)
    n = 600
    action = rng.integers(0, 5, n)
    reward = np.zeros(n)
    reward[rng.choice(np.flatnonzero(action == 0), 2, replace=False)] = 1.0   # two rewards in 600 rounds
    data = ope.LoggedData(action=action, reward=reward, propensity=np.full(n, 0.2), n_actions=np.full(n, 5))
    target = np.tile([1.0, 0, 0, 0, 0], (n, 1))
    raw_low = ope.ips(data, target)[1]
    assert raw_low < 0                                    # the formula strays …
    predicted = np.full((n, 5), 0.004)
    for e in ope.evaluate(data, target, predicted):
        if e.estimator in ("IPS", "SNIPS", "DM", "DR") and e.low is not None:
            assert 0 <= e.low <= e.value <= e.high <= 1, e     # … the page never does
    [ips] = [e for e in ope.evaluate(data, target, predicted) if e.estimator == "IPS"]
    assert ips.low == 0.0 and "clipped to [0, 1]" in ips.note


def adaptive_log(seed, n=4000, batch=500, groups=4, k=4, exploration=0.1):
    """A log collected the way the service collects one: a policy learns from its own traffic in
    versions (every `batch` rounds it serves the greedy choice per group on what it has seen,
    with `exploration` spread evenly), each round logged with the propensity of the version that
    served it. The target is the last version learnt, as the closed-loop test evaluates it."""
    rng = np.random.default_rng(seed)
    q = np.random.default_rng(12345).uniform(0.05, 0.6, size=(groups, k))
    plays, shown = np.ones((groups, k)), np.full((groups, k), 2.0)   # a weak prior: every arm gets tried
    parts = []
    for _ in range(n // batch):
        policy = ope_target(plays / shown, exploration)
        group = rng.integers(groups, size=batch)
        cumulative = np.cumsum(policy[group], axis=1)
        action = (rng.random(batch)[:, None] < cumulative).argmax(axis=1)
        reward = (rng.random(batch) < q[group, action]).astype(float)
        np.add.at(plays, (group, action), reward)
        np.add.at(shown, (group, action), 1.0)
        parts.append((group, action, reward, policy[group, action]))
    group, action, reward, propensity = (np.concatenate(p) for p in zip(*parts, strict=True))
    final = ope_target(plays / shown, exploration)
    data = ope.LoggedData(action, reward, propensity, np.full(len(group), k))
    return data, final[group], float((final * q).sum(axis=1).mean())


def test_on_a_log_a_learning_policy_collected_the_snips_interval_covers_in_at_least_90_percent_of_200_seeds():
    # One run of the live loop (tests/serve/test_closed_loop.py) is one draw: a 95% interval
    # misses there once in twenty runs by design. Its coverage is measured here, on the same kind
    # of log (propensities changing version by version, the target learnt from that very log).
    hits = 0
    for seed in range(200):
        data, target, truth = adaptive_log(seed)
        _, low, high = ope.snips(data, target)
        hits += int(low <= truth <= high)
    assert hits >= 180, f"SNIPS covered the truth in only {hits} of 200 adaptive logs"
