"""Batch decisions: same scores as the plain formula, valid propensities, sticky, learns the truth."""

import numpy as np
import pytest

from artdash.errors import ValidationError
from artdash.policy.batch import CrossLinearModel, VariantTable, sticky_uniform

A, T, V = 5, 4, 2


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    per_title, next_id = [], 0
    for _ in range(40):
        variants = []
        for _ in range(int(rng.integers(2, 6))):
            variants.append((next_id, (rng.random(T) < 0.5).astype(np.float32), rng.random(V).astype(np.float32)))
            next_id += 1
        per_title.append(variants)
    table = VariantTable.build(per_title)
    members = rng.uniform(-1, 1, (300, A)).astype(np.float32)
    w = rng.normal(0, 1.5, (A, T))
    n = 60_000
    m, t = rng.integers(300, size=n), rng.integers(40, size=n)
    k = table.n_variants[t]
    slot = (rng.random(n) * k).astype(np.int64)
    logits = -1 + np.einsum("na,at,nt->n", members[m], w, table.tags[t, slot])
    reward = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(float)
    model = CrossLinearModel(A, T, V, exploration=0.1).fit(
        members[m], table.tags[t, slot], table.visual[t, slot], table.variant_ids[t, slot], reward, 1.0 / k)
    return table, members, w, model, model.prepare(table)


def test_batch_scores_equal_the_formula(world):
    table, members, _, model, prepared = world
    rng = np.random.default_rng(1)
    mi, ti = rng.integers(300, size=500), rng.integers(40, size=500)
    theta_cross, c = prepared
    expected = np.einsum("na,at,nkt->nk", members[mi], theta_cross, table.tags[ti]) + c[ti]
    got = model.scores_batch(prepared, table, members, mi, ti)
    finite = np.isfinite(expected)
    assert np.array_equal(finite, np.isfinite(got))
    assert np.allclose(got[finite], expected[finite], atol=1e-4)


def test_batch_decisions_have_valid_sticky_propensities(world):
    table, members, _, model, prepared = world
    rng = np.random.default_rng(2)
    mi, ti = rng.integers(300, size=5000), rng.integers(40, size=5000)
    chosen, propensity = model.decide_batch(prepared, table, members, mi, ti, window=7)
    assert np.all(chosen < table.n_variants[ti]) and np.all(table.variant_ids[ti, chosen] >= 0)
    probs = model.probabilities_batch(prepared, table, members, mi, ti)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert np.allclose(propensity, probs[np.arange(len(mi)), chosen])
    again, _ = model.decide_batch(prepared, table, members, mi, ti, window=7)
    assert np.array_equal(chosen, again)
    explored = (chosen != probs.argmax(axis=1)).mean()
    assert 0.03 < explored < 0.12  # about ε·(k−1)/k of decisions explore


def test_the_model_learns_the_true_ranking(world):
    table, members, w, model, prepared = world
    rng = np.random.default_rng(3)
    mi, ti = rng.integers(300, size=3000), rng.integers(40, size=3000)
    truth = np.einsum("na,at,nkt->nk", members[mi], w, table.tags[ti])
    truth = np.where(table.variant_ids[ti] >= 0, truth, -np.inf)
    greedy = model.scores_batch(prepared, table, members, mi, ti).argmax(axis=1)
    best = truth.max(axis=1)
    picked = truth[np.arange(len(mi)), greedy]
    assert np.mean(np.isclose(picked, best)) > 0.85


def test_sticky_uniform_is_uniform_and_depends_on_window():
    ids, titles = np.arange(20_000), np.full(20_000, 3)
    u = sticky_uniform(ids, titles, 1)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert not np.array_equal(u, sticky_uniform(ids, titles, 2))


def test_untrained_and_bad_logs_are_refused():
    model = CrossLinearModel(A, T, V)
    with pytest.raises(ValidationError, match="never been trained"):
        model.prepare(VariantTable.build([[(0, np.ones(T), np.ones(V))]]))
    with pytest.raises(ValidationError, match="propensities"):
        model.fit(np.ones((2, A)), np.ones((2, T)), np.ones((2, V)), np.array([0, 1]), np.ones(2), np.array([0.5, 0]))
