"""Batch decisions for many (member, title) pairs at once, vectorised with numpy.

:class:`CrossLinearModel` is the linear bandit in its general form: every member-affinity
dimension crossed with every variant-tag dimension (an outer product, like Vowpal Wabbit's
``-q UA``), plus the variant's tags, visual features, a bias, and a per-variant offset for
appeal that tags cannot explain. Scoring a variant for a member is then
``a · U_v + c_v`` with ``U_v = Θ t_v`` precomputed per variant, so a million decisions cost
one gather and one small matrix product.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from artdash.errors import ValidationError


@dataclass(frozen=True)
class VariantTable:
    """Variants padded per title: row = title index, column = variant slot (−1 = empty)."""

    variant_ids: np.ndarray   # titles × k_max, int64, −1 padding
    tags: np.ndarray          # titles × k_max × T
    visual: np.ndarray        # titles × k_max × V
    n_variants: np.ndarray    # titles

    @classmethod
    def build(cls, per_title: list[list[tuple[int, np.ndarray, np.ndarray]]]) -> VariantTable:
        """``per_title[i]`` lists (variant id, tag vector, visual vector) of title i."""
        k_max = max((len(v) for v in per_title), default=0)
        if k_max == 0:
            raise ValidationError("no title has a variant")
        n_tags = len(per_title[0][0][1]) if per_title[0] else len(next(v for v in per_title if v)[0][1])
        n_visual = len(next(v for v in per_title if v)[0][2])
        ids = np.full((len(per_title), k_max), -1, dtype=np.int64)
        tags = np.zeros((len(per_title), k_max, n_tags), dtype=np.float32)
        visual = np.zeros((len(per_title), k_max, n_visual), dtype=np.float32)
        for i, variants in enumerate(per_title):
            for k, (vid, t, v) in enumerate(variants):
                ids[i, k], tags[i, k], visual[i, k] = vid, t, v
        return cls(ids, tags, visual, np.array([len(v) for v in per_title]))


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A fast, well-mixed 64-bit hash (vectorised; uint64 arithmetic wraps by design)."""
    x = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def sticky_uniform(member_ids: np.ndarray, title_ids: np.ndarray, window: int) -> np.ndarray:
    """Per pair, a number in [0, 1) fixed by (member, title, window) — the batch twin of
    :mod:`artdash.policy.assign` (a different hash: batch and single decisions
    are each sticky, not equal to each other)."""
    with np.errstate(over="ignore"):
        key = splitmix64(member_ids.astype(np.uint64) * np.uint64(0x100000001B3)
                         ^ splitmix64(title_ids.astype(np.uint64) + np.uint64(window) * np.uint64(0x9E3779B1)))
    return (key >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class CrossLinearModel:
    """A linear model over member-affinity × variant-tag crosses, scored for millions of pairs at once (the decision-throughput benchmark)."""
    def __init__(self, n_affinity: int, n_tags: int, n_visual: int, ridge: float = 1.0,
                 exploration: float = 0.05, variant_shrinkage: float = 20.0):
        if not 0 <= exploration <= 1:
            raise ValidationError(f"`exploration` must be between 0 and 1 (got {exploration})")
        self.a, self.t, self.v = n_affinity, n_tags, n_visual
        self.ridge, self.exploration, self.shrinkage = ridge, exploration, variant_shrinkage
        self.dim = n_affinity * n_tags + n_tags + n_visual + 1
        self.theta: np.ndarray | None = None
        self.variant_offset: dict[int, float] = {}

    def _features(self, affinity: np.ndarray, tags: np.ndarray, visual: np.ndarray) -> np.ndarray:
        cross = (affinity[:, :, None] * tags[:, None, :]).reshape(len(affinity), -1)
        return np.hstack([cross, tags, visual, np.ones((len(affinity), 1), dtype=affinity.dtype)])

    def fit(self, affinity: np.ndarray, tags: np.ndarray, visual: np.ndarray, variant_ids: np.ndarray,
            rewards: np.ndarray, propensities: np.ndarray, chunk: int = 100_000,
            newton_steps: int = 3) -> CrossLinearModel:
        """Inverse-propensity-weighted, ridge-penalised logistic regression on logged rounds.

        Starts from the least-squares solution and takes ``newton_steps`` Newton (IRLS) steps;
        each step is one chunked pass over the log, so memory stays flat however long it is.
        Then a shrunk per-variant offset (one Newton step per variant) captures the appeal of
        an image that its tags do not explain."""
        n = len(rewards)
        if n == 0:
            raise ValidationError("no logged impressions to learn from")
        propensities = np.asarray(propensities, dtype=np.float64)
        if np.any(propensities <= 0) or np.any(propensities > 1):
            raise ValidationError("`propensities` must be in (0, 1]")
        rewards = np.asarray(rewards, dtype=np.float64)
        weights = 1.0 / propensities
        weights /= weights.mean()

        def chunks() -> Iterator[tuple[slice, np.ndarray]]:
            for start in range(0, n, chunk):
                sl = slice(start, start + chunk)
                yield sl, self._features(affinity[sl], tags[sl], visual[sl]).astype(np.float64)

        # Least squares on the log-odds scale of a smoothed rate gives a good starting point.
        xtx, xty = self.ridge * np.eye(self.dim), np.zeros(self.dim)
        target = np.log((rewards + 0.5) / (1.5 - rewards))
        for sl, x in chunks():
            xw = x * weights[sl, None]
            xtx += xw.T @ x
            xty += xw.T @ target[sl]
        theta = np.linalg.solve(xtx, xty) * 0.5
        for _ in range(newton_steps):
            hessian, gradient = self.ridge * np.eye(self.dim), -self.ridge * theta
            for sl, x in chunks():
                p = 1 / (1 + np.exp(-(x @ theta)))
                w = weights[sl]
                hessian += (x * (w * p * (1 - p))[:, None]).T @ x
                gradient += x.T @ (w * (rewards[sl] - p))
            theta = theta + np.linalg.solve(hessian, gradient)
        self.theta = theta
        uniq, inverse = np.unique(np.asarray(variant_ids), return_inverse=True)
        grad_v, hess_v = np.zeros(len(uniq)), np.zeros(len(uniq))
        for sl, x in chunks():
            p = 1 / (1 + np.exp(-(x @ theta)))
            w = weights[sl]
            np.add.at(grad_v, inverse[sl], w * (rewards[sl] - p))
            np.add.at(hess_v, inverse[sl], w * p * (1 - p))
        self.variant_offset = dict(zip(uniq.tolist(), (grad_v / (hess_v + self.shrinkage)).tolist()))
        return self

    def prepare(self, table: VariantTable) -> tuple[np.ndarray, np.ndarray]:
        """(Θ as A × T, c: titles × k with the tag/visual/bias/offset part of each variant's
        score, −inf where there is no variant)."""
        if self.theta is None:
            raise ValidationError("the model has never been trained")
        a, t, v = self.a, self.t, self.v
        theta_cross = self.theta[:a * t].reshape(a, t).astype(np.float32)
        theta_tags = self.theta[a * t:a * t + t]
        theta_visual = self.theta[a * t + t:a * t + t + v]
        offsets = np.vectorize(lambda i: self.variant_offset.get(int(i), 0.0), otypes=[float])(table.variant_ids)
        c = table.tags @ theta_tags + table.visual @ theta_visual + self.theta[-1] + offsets
        return theta_cross, np.where(table.variant_ids >= 0, c, -np.inf).astype(np.float32)

    def _sorted_scores(self, prepared: tuple[np.ndarray, np.ndarray], table: VariantTable, members: np.ndarray, member_index: np.ndarray,
                       title_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(scores of the pairs sorted by title, the sort order).

        aᵀΘt_v = (Θᵀa)·t_v: each member is projected once onto the T tag dimensions (a small
        table that stays in cache), pairs are radix-sorted by title, and each title's block of
        pairs takes one small product with that title's tag matrix. No n × k × A intermediate
        and no random gathers over large arrays."""
        theta_cross, c = prepared
        projected_members = members.astype(np.float32) @ theta_cross                  # M × T
        key = title_index.astype(np.int16 if len(table.n_variants) <= 32767 else np.int32)
        order = np.argsort(key, kind="stable")
        bounds = np.searchsorted(title_index[order], np.arange(len(table.n_variants) + 1))
        projected = projected_members[member_index[order]]                            # n × T, sorted
        scores = np.empty((len(title_index), table.variant_ids.shape[1]), dtype=np.float32)
        for i in np.flatnonzero(np.diff(bounds)):
            lo, hi = bounds[i], bounds[i + 1]
            np.matmul(projected[lo:hi], table.tags[i].T, out=scores[lo:hi])
            scores[lo:hi] += c[i]
        return scores, order

    def scores_batch(self, prepared: tuple[np.ndarray, np.ndarray], table: VariantTable, members: np.ndarray, member_index: np.ndarray,
                     title_index: np.ndarray) -> np.ndarray:
        """n × k_max scores in the pairs' own order (−inf in empty slots)."""
        sorted_scores, order = self._sorted_scores(prepared, table, members, member_index, title_index)
        scores = np.empty_like(sorted_scores)
        scores[order] = sorted_scores
        return scores

    def decide_batch(self, prepared: tuple[np.ndarray, np.ndarray], table: VariantTable, members: np.ndarray, member_index: np.ndarray,
                     title_index: np.ndarray, window: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(chosen slot, propensity) per (member, title) pair: the top score gets 1 − ε, the ε
        share is spread evenly over the title's variants, and a sticky hash of (member, title,
        window) picks from that distribution. ``members`` is the M × A affinity table and
        ``member_index`` the row of each pair's member in it."""
        sorted_scores, order = self._sorted_scores(prepared, table, members, member_index, title_index)
        best = np.empty(len(title_index), dtype=np.int64)
        best[order] = sorted_scores.argmax(axis=1)
        k = table.n_variants[title_index]
        eps = self.exploration
        if eps > 0:
            draw = sticky_uniform(member_index, title_index, window)
            chosen = np.where(draw < eps, np.minimum((draw / eps * k).astype(np.int64), k - 1), best)
        else:
            chosen = best
        propensity = eps / k + np.where(chosen == best, 1 - eps, 0.0)
        return chosen, propensity

    def probabilities_batch(self, prepared: tuple[np.ndarray, np.ndarray], table: VariantTable, members: np.ndarray, member_index: np.ndarray,
                            title_index: np.ndarray, exploration: float | None = None) -> np.ndarray:
        """n × k_max probabilities (0 in empty slots); ``exploration`` overrides ε (0 = greedy)."""
        eps = self.exploration if exploration is None else exploration
        scores = self.scores_batch(prepared, table, members, member_index, title_index)
        k = table.n_variants[title_index]
        valid = table.variant_ids[title_index] >= 0
        probs = np.where(valid, (eps / k)[:, None], 0.0)
        probs[np.arange(len(scores)), scores.argmax(axis=1)] += 1 - eps
        return probs
