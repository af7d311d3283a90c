"""A linear contextual bandit (LinUCB with an ε exploration share) over persona × variant features."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from artdash.errors import ValidationError
from artdash.policy.base import (
    Candidate,
    CandidateTable,
    Context,
    Groups,
    Policy,
    Rounds,
    State,
    explore,
)
from artdash.policy.features import FeatureSpace
from artdash.policy.table import explore_table, feature_tensor, uniform_table


class LinearBanditPolicy(Policy):
    """Scores each variant with a ridge regression of quality plays on the features, plus an
    upper-confidence bonus ``alpha·sqrt(xᵀA⁻¹x)``; the top score gets ``1 − exploration`` of the
    probability and the rest is spread evenly, so every variant keeps a known, non-zero
    propensity. Trained from logged impressions, each weighted by 1 / propensity (inverse
    propensity weighting corrects for what the logging policy preferred)."""

    name, label = "linucb", "Contextual bandit (LinUCB)"
    first_choice = "top-scored for this member's tastes"
    learns = True
    CHUNK = 200_000          # groups a time when learning from summed logs (flat memory)

    def __init__(self, features: FeatureSpace, alpha: float = 0.05, exploration: float = 0.05, ridge: float = 1.0):
        if alpha < 0 or ridge <= 0:
            raise ValidationError("`alpha` must be ≥ 0 and `ridge` > 0")
        if not 0 <= exploration <= 1:
            raise ValidationError(f"`exploration` must be between 0 and 1 (got {exploration})")
        self.features, self.alpha, self.exploration, self.ridge = features, alpha, exploration, ridge
        self.theta: np.ndarray | None = None
        self.a_inv: np.ndarray | None = None
        self.n_trained = 0
        self._sums: dict[str, Any] | None = None
        self._tensor: tuple[Any, ...] | None = None

    @property
    def trained(self) -> bool:
        """Whether the model has learnt from any logged impression."""
        return self.theta is not None

    @property
    def context_free(self) -> bool:  # type: ignore[override]
        """Untrained, it is uniform for everyone; trained, each member's tastes count."""
        return self.theta is None

    def reset(self) -> None:
        self.theta = self.a_inv = None
        self.n_trained = 0
        self._sums = None
        self._tensor = None

    def _features_of(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray:
        """The (G, T, K, dim) feature tensor, built once per (catalog, contexts) pair."""
        key = (id(candidates), id(affinity), affinity.shape)
        cached = getattr(self, "_tensor", None)
        if cached is None or cached[0] != key:
            self._tensor = (key, feature_tensor(candidates, affinity), candidates, affinity)  # keep both alive
            cached = self._tensor
        return cached[1]

    def partial_fit(self, candidates: CandidateTable, affinity: np.ndarray, rounds: Rounds) -> LinearBanditPolicy:
        """Learn from logged rounds. Rounds sharing (context, title, candidate) share a feature
        vector: their weights (1 / propensity) are summed per cell and each distinct vector is
        added once — the same model as :meth:`fit` on everything, at a cost that does not grow
        with the number of rounds."""
        x = self._features_of(candidates, affinity)
        shape = x.shape[:3]
        cell = np.ravel_multi_index((rounds.group, rounds.title, rounds.action), shape)
        weights = 1.0 / np.asarray(rounds.propensity, dtype=float)
        size = int(np.prod(shape))
        weight_sums = np.bincount(cell, weights=weights, minlength=size)
        reward_sums = np.bincount(cell, weights=weights * rounds.reward, minlength=size)
        used = np.flatnonzero(weight_sums)
        return self.update_grouped(x.reshape(size, -1)[used], weight_sums[used], reward_sums[used], len(rounds))

    def table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray:
        if not self.trained:         # uniform: no features needed
            return np.array(uniform_table(candidates, len(affinity)))
        x = self._features_of(candidates, affinity)
        valid = np.broadcast_to(candidates.valid, x.shape[:3])
        flat = x.reshape(-1, x.shape[-1])
        assert self.theta is not None and self.a_inv is not None
        mean = flat @ self.theta
        bonus = np.sqrt(((flat @ self.a_inv) * flat).sum(axis=1).clip(min=0))   # xᵀA⁻¹x per row, as BLAS
        scores = np.where(valid, (mean + self.alpha * bonus).reshape(x.shape[:3]), -np.inf)
        return explore_table(scores.argmax(axis=2), valid, self.exploration)

    def predicted_table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray | None:
        if not self.trained:
            return None
        x = self._features_of(candidates, affinity)
        return np.clip(x @ self.theta, 0, 1)

    def fit_features(self, x: np.ndarray, rewards: np.ndarray,
                     propensities: np.ndarray | None = None) -> LinearBanditPolicy:
        """Fit from scratch on logged rounds given as features: the shown variant's feature
        vector, its reward (quality play), its propensity."""
        self._sums = None
        return self.update(x, rewards, propensities)

    def update(self, x: np.ndarray, rewards: np.ndarray, propensities: np.ndarray | None = None) -> LinearBanditPolicy:
        """Add logged rounds to what the model has seen: the result equals :meth:`fit_features` on all
        rounds so far (the sufficient statistics are kept), at the cost of the new rounds only."""
        x, rewards = np.asarray(x, dtype=float), np.asarray(rewards, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.features.dim or len(rewards) != len(x):
            raise ValidationError(f"`x` must be n × {self.features.dim} with one reward per row")
        if len(x) == 0 and not self._sums:
            raise ValidationError("no logged impressions to learn from")
        if propensities is None:
            weights = np.ones(len(x))
        else:
            propensities = np.asarray(propensities, dtype=float)
            if np.any(propensities <= 0) or np.any(propensities > 1):
                raise ValidationError("`propensities` must be in (0, 1]: a zero propensity cannot be weighted")
            weights = 1.0 / propensities
        return self.update_grouped(x, weights, weights * rewards, len(x))

    @property
    def sums(self) -> dict[str, Any] | None:
        """What the model has learnt, as additive sums (Σ w x xᵀ, Σ w r x, Σ w, rounds): a model
        trained on two logs is the one trained on their union, so training can continue from them."""
        return None if self._sums is None else dict(self._sums)

    def continue_from(self, sums: dict[str, Any]) -> LinearBanditPolicy:
        """Start from ``sums`` (of :attr:`sums`) before the next :meth:`update_grouped`."""
        self._sums = {"xx": np.asarray(sums["xx"], dtype=float), "xr": np.asarray(sums["xr"], dtype=float),
                      "w": float(sums["w"]), "n": int(sums["n"])}
        return self

    def update_grouped(self, x: np.ndarray, weight_sums: np.ndarray, weighted_rewards: np.ndarray,
                       n_rows: int) -> LinearBanditPolicy:
        """:meth:`update` for rounds already summed per distinct feature vector: ``x`` holds each
        distinct vector once, with the sum of its rounds' weights (1 / propensity) and of their
        weighted rewards; ``n_rows`` is how many rounds that was. Exactly the same model, at a
        cost that does not grow with the number of rounds."""
        x = np.asarray(x, dtype=float)
        xw = x * np.asarray(weight_sums, dtype=float)[:, None]
        sums = self._sums or {"xx": 0.0, "xr": 0.0, "w": 0.0, "n": 0}
        sums = {"xx": sums["xx"] + xw.T @ x, "xr": sums["xr"] + x.T @ np.asarray(weighted_rewards, dtype=float),
                "w": sums["w"] + float(np.sum(weight_sums)), "n": sums["n"] + int(n_rows)}
        if sums["n"] == 0:
            raise ValidationError("no logged impressions to learn from")
        self._sums = sums
        # Weights normalised to mean 1 over everything seen, so the ridge keeps its meaning.
        scale = sums["n"] / sums["w"]
        a = self.ridge * np.eye(self.features.dim) + scale * sums["xx"]
        self.a_inv = np.linalg.inv(a)
        self.theta = self.a_inv @ (scale * sums["xr"])
        self.n_trained = sums["n"]
        return self

    def state(self) -> State:
        """The additive sums (Σ w x xᵀ, Σ w r x, Σ w, rounds); {} before any training."""
        if self._sums is None:
            return {}
        return {"xx": np.asarray(self._sums["xx"]), "xr": np.asarray(self._sums["xr"]),
                "w": np.array(self._sums["w"]), "n": np.array(self._sums["n"])}

    def restore(self, state: State) -> LinearBanditPolicy:
        """The model of ``state``'s sums (untrained when it is empty)."""
        self.reset()
        if state and int(state["n"]) > 0:
            self.continue_from(state).update_grouped(np.zeros((0, self.features.dim)), np.zeros(0), np.zeros(0), 0)
        return self

    @property
    def learnt_rounds(self) -> int:
        return int(self.n_trained)

    def learn_groups(self, groups: Groups) -> None:
        """Add summed logged decisions: their feature rows, a chunk of groups at a time."""
        if not len(groups):
            return
        if groups.features is None:
            raise ValidationError("the bandit learns from feature rows: the groups carry none")
        for start in range(0, len(groups), self.CHUNK):
            sl = slice(start, start + self.CHUNK)
            self.update_grouped(groups.features(sl), groups.w[sl], groups.wr[sl], int(groups.n[sl].sum()))

    def scores(self, x: np.ndarray) -> np.ndarray:
        """UCB score of each row of ``x`` (a trained model only)."""
        if self.theta is None or self.a_inv is None:
            raise ValidationError("the bandit has never been trained: fit it on logged impressions first")
        mean = x @ self.theta
        bonus = np.sqrt(((x @ self.a_inv) * x).sum(axis=1).clip(min=0))
        return mean + self.alpha * bonus

    def probabilities(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        if not self.trained:
            return np.full(len(candidates), 1.0 / len(candidates))
        scores = self.scores(self.features.encode(context, candidates))
        return explore(int(np.argmax(scores)), len(candidates), self.exploration)

    def predicted_take(self, context: Context, candidate: Candidate) -> float | None:
        if not self.trained:
            return None
        return float(np.clip(self.features.encode(context, [candidate])[0] @ self.theta, 0, 1))

    def fallback_reason(self, context: Context) -> str:
        if not self.trained:
            return "the bandit has never been trained: uniform random until it has logged impressions"
        if context.is_blank:
            return "this persona has no tastes set: showing the non-personalised choice"
        return ""

    def explain(self, context: Context, candidates: Sequence[Candidate], index: int) -> str:
        if not self.trained:
            return ""
        x = self.features.encode(context, candidates)
        if len(candidates) > 1 and np.argmax(self.scores(x)) != index:
            return f"exploration ({self.exploration:.0%} share) instead of the top-scored variant"
        # Why this one rather than the others: its contributions minus their average.
        return self._why(self.theta * (x[index] - x.mean(axis=0)), context.affinities)

    def _why(self, contributions: np.ndarray, affinities: Mapping[int, float]) -> str:
        """The three largest contributions to a choice, in words."""
        parts = []
        for j in np.argsort(-contributions)[:3]:
            if contributions[j] < 0.005:
                break
            kind, tag = self.features.describe(int(j))
            if kind == "cross" and tag is not None:
                weight = affinities.get(tag.id, 0.0)
                parts.append(f"{tag.name} affinity {weight:+.1f} × {tag.name} ({tag.facet}) image: {contributions[j]:+.2f}")
            elif kind != "bias":
                parts.append(f"image {kind}: {contributions[j]:+.2f}")
        return "; ".join(parts) or "scores are level: the top one by a hair"

    def explain_table(self, candidates: CandidateTable, affinity: np.ndarray, context: Context,
                      picks: np.ndarray) -> list[str] | None:
        """:meth:`explain` for the pick of every title of ``candidates`` (one context), the
        feature arithmetic done once for all titles."""
        if not self.trained:
            return None
        assert self.theta is not None
        x = self._features_of(candidates, affinity)[0]                    # (T, K, dim)
        valid = candidates.valid
        rows = np.arange(len(picks))
        scores = np.where(valid, self.scores(x.reshape(-1, x.shape[-1])).reshape(valid.shape), -np.inf)
        n = valid.sum(axis=1)
        mean = (x * valid[:, :, None]).sum(axis=1) / np.maximum(n, 1)[:, None]
        contributions = self.theta * (x[rows, picks] - mean)
        top = scores.argmax(axis=1)
        out = []
        for i in rows:
            if n[i] > 1 and top[i] != picks[i]:
                out.append(f"exploration ({self.exploration:.0%} share) instead of the top-scored variant")
            else:
                out.append(self._why(contributions[i], context.affinities))
        return out
