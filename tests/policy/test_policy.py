"""Policies: probabilities, propensities, stickiness, fallbacks, and a seeded check that the
bandit personalises (romance fans get romantic art, comedy fans get funny art)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from artdash.catalog.taxonomy import TagView
from artdash.errors import ValidationError
from artdash.policy import (
    BestSingleVariantPolicy,
    Candidate,
    Context,
    EditorsPickPolicy,
    LinearBanditPolicy,
    UniformPolicy,
)
from artdash.policy.assign import draws, race, window_of
from artdash.policy.features import FeatureSpace
from artdash.simulator.logs import simulate_log
from artdash.simulator.taste import TasteModel

TAGS = [TagView(i, facet, name, 1) for i, (facet, name) in enumerate(
    [("tone", "romantic"), ("tone", "funny"), ("visual", "couple"), ("visual", "close-up face"),
     ("tone", "dark"), ("visual", "landscape")], start=1)]
ROMANTIC, FUNNY, COUPLE, FACE, DARK, LANDSCAPE = (t.id for t in TAGS)
ROMANCE_FAN = Context("persona:romance", {ROMANTIC: 1.0, COUPLE: 0.9})
COMEDY_FAN = Context("persona:comedy", {FUNNY: 1.0, FACE: 0.6})
THRILLER_FAN = Context("persona:thriller", {DARK: 1.0})
WHEN = datetime(2026, 11, 28, 12, tzinfo=UTC)


def variants(title_id: int, base_id: int) -> list[Candidate]:
    return [
        Candidate(base_id + 0, title_id, frozenset({ROMANTIC, COUPLE}), (0.6, 0.2, 0.5, 0.3), "couple"),
        Candidate(base_id + 1, title_id, frozenset({FUNNY, FACE}), (0.8, 0.3, 0.9, 0.1), "comedian"),
        Candidate(base_id + 2, title_id, frozenset({DARK}), (0.1, 0.1, 0.1, 0.0), "shadow"),
        Candidate(base_id + 3, title_id, frozenset({LANDSCAPE}), (0.5, 0.2, 0.4, -0.1), "vista"),
    ]


CATALOG = {t: variants(t, 100 * t) for t in range(1, 21)}


@pytest.fixture(scope="module")
def trained_bandit():
    features = FeatureSpace(TAGS)
    log = simulate_log(TasteModel(seed=3), features, [ROMANCE_FAN, COMEDY_FAN, THRILLER_FAN], CATALOG,
                       n=20_000, seed=3)
    return LinearBanditPolicy(features, exploration=0.1).fit_features(log.x, log.quality, log.propensity), log


def all_policies(trained_bandit):
    bandit, log = trained_bandit
    counts = {}
    for vid, q in zip(log.variant_id.tolist(), log.quality.tolist()):
        s, n = counts.get(vid, (0, 0))
        counts[vid] = (s + int(q), n + 1)
    return [UniformPolicy(), EditorsPickPolicy({1: 101}, exploration=0.2), BestSingleVariantPolicy(counts), bandit,
            LinearBanditPolicy(FeatureSpace(TAGS))]


def test_probabilities_sum_to_one_and_match_the_logged_propensity(trained_bandit):
    for policy in all_policies(trained_bandit):
        for context in (ROMANCE_FAN, COMEDY_FAN, Context("persona:blank")):
            for cands in list(CATALOG.values())[:5]:
                for k in (1, 2, 4):
                    probs = policy.probabilities(context, cands[:k])
                    assert probs.shape == (k,) and np.all(probs > 0) and probs.sum() == pytest.approx(1.0)
                decision = policy.decide(context, cands, WHEN)
                assert decision.propensity == pytest.approx(decision.probabilities[decision.variant_id])
                assert sum(decision.probabilities.values()) == pytest.approx(1.0)


def test_decisions_are_sticky_within_a_window_and_move_between_windows():
    policy, cands = UniformPolicy(), CATALOG[1]
    window = window_of(ROMANCE_FAN.member_key, WHEN)
    assert window.start <= WHEN < window.start + timedelta(hours=24)      # the member's own window
    first = policy.decide(ROMANCE_FAN, cands, window.start).variant_id
    assert all(policy.decide(ROMANCE_FAN, list(reversed(cands)), window.start + timedelta(minutes=m)).variant_id
               == first for m in range(0, 24 * 60, 7))
    across_days = {policy.decide(ROMANCE_FAN, cands, WHEN + timedelta(days=d)).variant_id for d in range(40)}
    assert len(across_days) > 1
    ids = np.array([[100, 101, 102]])
    one = draws(window_of("m1", WHEN), np.array([5]), ids)
    assert (one == draws(window_of("m1", WHEN), np.array([5]), ids)).all()
    assert not (one == draws(window_of("m2", WHEN), np.array([5]), ids)).any()


def test_sticky_draws_are_uniform_enough():
    u = np.concatenate([draws(window_of(f"member-{i}", WHEN), np.array([7]), np.array([[1, 2]]))[0]
                        for i in range(4000)])
    assert 0.47 < u.mean() < 0.53 and u.min() > 0 and u.max() < 1


def test_the_sticky_pick_shows_each_variant_as_often_as_its_propensity_says():
    """The exponential race: over many members a variant is shown with the probability logged."""
    p = np.array([0.6, 0.3, 0.1])
    ids = np.array([[11, 12, 13]])
    shown = np.bincount([int(race(p[None, :], np.ones((1, 3), bool), draws(window_of(f"m{i}", WHEN), np.array([5]),
                                                                            ids))[0]) for i in range(20_000)],
                        minlength=3) / 20_000
    assert np.abs(shown - p).max() < 0.015
    # a variant added to the title takes a member's slot only when it wins that member's race
    before = [int(race(np.array([[0.5, 0.5]]), np.ones((1, 2), bool),
                       draws(window_of(f"m{i}", WHEN), np.array([5]), np.array([[11, 12]])))[0]) for i in range(2000)]
    after = [int(race(np.array([[1 / 3, 1 / 3, 1 / 3]]), np.ones((1, 3), bool),
                      draws(window_of(f"m{i}", WHEN), np.array([5]), np.array([[11, 12, 13]])))[0]) for i in range(2000)]
    assert all(a == b for a, b in zip(after, before) if a != 2)
    assert 0.28 < np.mean(np.array(after) == 2) < 0.39


def test_bandit_personalises_romance_and_comedy(trained_bandit):
    bandit, _ = trained_bandit
    for title_id, cands in CATALOG.items():
        romance = cands[int(np.argmax(bandit.probabilities(ROMANCE_FAN, cands)))]
        comedy = cands[int(np.argmax(bandit.probabilities(COMEDY_FAN, cands)))]
        assert ROMANTIC in romance.tag_ids, title_id
        assert FUNNY in comedy.tag_ids, title_id
    decision = bandit.decide(ROMANCE_FAN, CATALOG[1], WHEN)
    if decision.variant_id == 100:
        assert "romantic affinity +1.0" in decision.explanation or "couple affinity +0.9" in decision.explanation


def test_cold_start_scores_a_new_variant_through_its_tags(trained_bandit):
    bandit, _ = trained_bandit
    new = Candidate(999, 1, frozenset({ROMANTIC, COUPLE}), (0.5, 0.2, 0.5, 0.2), "new couple art")
    others = [c for c in CATALOG[1] if ROMANTIC not in c.tag_ids]
    cands = sorted(others + [new], key=lambda c: c.variant_id)
    assert cands[int(np.argmax(bandit.probabilities(ROMANCE_FAN, cands)))].variant_id == 999


def test_fallbacks_say_why():
    untrained = LinearBanditPolicy(FeatureSpace(TAGS))
    decision = untrained.decide(ROMANCE_FAN, CATALOG[1], WHEN)
    assert decision.fallback and "never been trained" in decision.explanation
    assert decision.propensity == pytest.approx(0.25)
    single = UniformPolicy().decide(ROMANCE_FAN, CATALOG[1][:1], WHEN)
    assert single.propensity == 1.0 and "only active variant" in single.explanation
    none = UniformPolicy().decide(ROMANCE_FAN, [], WHEN)
    assert none.variant_id is None and "no active variant" in none.explanation
    assert "no editor's pick" in EditorsPickPolicy({}).decide(ROMANCE_FAN, CATALOG[2], WHEN).explanation


def test_blank_persona_gets_the_non_personalised_choice(trained_bandit):
    bandit, _ = trained_bandit
    decision = bandit.decide(Context("persona:blank"), CATALOG[1], WHEN)
    assert decision.fallback and "no tastes set" in decision.explanation
    blank_probs = bandit.probabilities(Context("persona:blank"), CATALOG[1])
    assert blank_probs.tolist() == bandit.probabilities(Context("persona:other-blank"), CATALOG[1]).tolist()


def test_training_refuses_impossible_logs():
    bandit = LinearBanditPolicy(FeatureSpace(TAGS))
    x = np.ones((3, bandit.features.dim))
    with pytest.raises(ValidationError, match="propensities"):
        bandit.fit_features(x, np.array([1, 0, 1]), np.array([0.5, 0.0, 0.5]))
    with pytest.raises(ValidationError, match="no logged impressions"):
        bandit.fit_features(np.ones((0, bandit.features.dim)), np.array([]))
    with pytest.raises(ValidationError, match="exploration"):
        EditorsPickPolicy({}, exploration=1.5)


def test_simulated_log_is_seeded_and_uniform():
    features = FeatureSpace(TAGS)
    a = simulate_log(TasteModel(seed=1), features, [ROMANCE_FAN], CATALOG, n=2000, seed=5)
    b = simulate_log(TasteModel(seed=1), features, [ROMANCE_FAN], CATALOG, n=2000, seed=5)
    assert np.array_equal(a.variant_id, b.variant_id) and np.array_equal(a.played, b.played)
    assert np.allclose(a.propensity, 0.25)
    assert a.quality.sum() <= a.played.sum()


def test_vowpal_wabbit_policy_personalises_too():
    vw = pytest.importorskip("artdash.policy.vw")
    if not vw.available():
        if __import__("os").environ.get("CI"):
            pytest.fail("vowpalwabbit must be installed in CI (make test installs the vw extra)")
        pytest.skip("vowpalwabbit not installed")
    features = FeatureSpace(TAGS)
    log = simulate_log(TasteModel(seed=3), features, [ROMANCE_FAN, COMEDY_FAN, THRILLER_FAN], CATALOG,
                       n=20_000, seed=3)
    policy = vw.VowpalWabbitPolicy(features, epsilon=0.1)
    assert policy.decide(ROMANCE_FAN, CATALOG[1], WHEN).fallback  # untrained: says so
    policy.fit_rounds(log.affinity, log.title_id, log.variant_id, log.quality.astype(float), log.propensity, CATALOG)
    for cands in CATALOG.values():
        romance = policy.probabilities(ROMANCE_FAN, cands)
        comedy = policy.probabilities(COMEDY_FAN, cands)
        assert romance.sum() == pytest.approx(1.0) and comedy.sum() == pytest.approx(1.0)
        assert ROMANTIC in cands[int(np.argmax(romance))].tag_ids
        assert FUNNY in cands[int(np.argmax(comedy))].tag_ids
    decision = policy.decide(COMEDY_FAN, CATALOG[3], WHEN)
    assert decision.propensity == pytest.approx(decision.probabilities[decision.variant_id])
    policy.close()


def test_bandit_updated_in_batches_equals_one_fit_on_everything():
    features = FeatureSpace(TAGS)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(600, features.dim))
    rewards = (rng.random(600) < 0.3).astype(float)
    propensities = rng.uniform(0.1, 1.0, 600)
    whole = LinearBanditPolicy(features).fit_features(x, rewards, propensities)
    pieces = LinearBanditPolicy(features)
    for start in range(0, 600, 150):
        pieces.update(x[start:start + 150], rewards[start:start + 150], propensities[start:start + 150])
    assert np.allclose(whole.theta, pieces.theta) and np.allclose(whole.a_inv, pieces.a_inv)
    assert pieces.n_trained == 600
    refit = LinearBanditPolicy(features).fit_features(x[:10], rewards[:10], propensities[:10]).fit_features(x, rewards, propensities)
    assert np.allclose(refit.theta, whole.theta)  # fit starts afresh
