"""A second personalised policy: Vowpal Wabbit's contextual bandit with action-dependent
features (``--cb_explore_adf``). The persona's affinities form the shared namespace ``U``,
each variant's tags and visual features the action namespace ``A``; ``-q UA`` crosses them,
so every (persona taste, image tag) pair gets its own weight.

Optional: needs the ``vowpalwabbit`` package (``pip install 'artdash[vw]'``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import numpy as np

from artdash.errors import ArtdashError, ValidationError
from artdash.policy.base import Candidate, CandidateTable, Context, Policy, Rounds, title_candidates
from artdash.policy.features import VISUAL_NAMES, FeatureSpace


def available() -> bool:
    """Whether the optional ``vowpalwabbit`` package is installed."""
    try:
        import vowpalwabbit  # noqa: F401
    except ImportError:
        return False
    return True


class VowpalWabbitPolicy(Policy):
    """Vowpal Wabbit's contextual bandit (``--cb_explore_adf -q UA``) as a policy."""
    name, label = "vw", "Contextual bandit (Vowpal Wabbit)"

    def __init__(self, features: FeatureSpace, epsilon: float = 0.05, passes: int = 1, extra: str = ""):
        if not available():
            raise ArtdashError("Vowpal Wabbit is not installed: pip install vowpalwabbit (or 'artdash[vw]')")
        if not 0 <= epsilon <= 1:
            raise ValidationError(f"`epsilon` must be between 0 and 1 (got {epsilon})")
        import vowpalwabbit

        self.features, self.epsilon, self.passes = features, epsilon, passes
        self._vw = vowpalwabbit.Workspace(f"--cb_explore_adf --epsilon {epsilon} -q UA --quiet {extra}".strip())
        self._lock = threading.Lock()  # a VW workspace must not be used by two threads at once
        self.n_trained = 0

    @property
    def trained(self) -> bool:
        """Whether it has learnt from any logged impression."""
        return self.n_trained > 0

    # -- example text ------------------------------------------------------------------
    def _shared(self, affinity: np.ndarray) -> str:
        parts = [f"t{self.features.tags[j].id}:{affinity[j]:.4g}" for j in np.flatnonzero(affinity)]
        return "shared |U " + " ".join(parts) if parts else "shared |U blank"

    def _action(self, tags: np.ndarray, visual: Sequence[float]) -> str:
        tokens = [f"t{self.features.tags[j].id}" for j in np.flatnonzero(tags)]
        tokens += [f"{name}:{value:.4g}" for name, value in zip(VISUAL_NAMES, visual)]
        return "|A " + " ".join(tokens)

    def fit_rounds(self, affinity: np.ndarray, title_ids: np.ndarray, variant_ids: np.ndarray,
                   rewards: np.ndarray, propensities: np.ndarray,
                   candidates_by_title: Mapping[int, Sequence[Candidate]]) -> VowpalWabbitPolicy:
        """Learn from logged rounds: the member's affinities, the title's candidates, the shown
        variant, its reward and its propensity (cost = −reward, as VW minimises cost)."""
        if len(rewards) == 0:
            raise ValidationError("no logged impressions to learn from")
        if np.any(propensities <= 0) or np.any(propensities > 1):
            raise ValidationError("`propensities` must be in (0, 1]")
        prepared = {}
        for title_id, cands in candidates_by_title.items():
            ordered = sorted(cands, key=lambda c: c.variant_id)
            tags = self.features.tag_matrix(ordered)
            prepared[title_id] = ([c.variant_id for c in ordered],
                                  [self._action(tags[i], c.visual) for i, c in enumerate(ordered)])
        with self._lock:
            for _ in range(self.passes):
                for i in range(len(rewards)):
                    ids, actions = prepared[int(title_ids[i])]
                    chosen = ids.index(int(variant_ids[i]))
                    lines = [self._shared(affinity[i])] + list(actions)
                    lines[chosen + 1] = f"0:{-float(rewards[i]):.4g}:{float(propensities[i]):.6g} " + actions[chosen]
                    self._vw.learn(lines)
        self.n_trained += len(rewards)
        return self

    def partial_fit(self, candidates: CandidateTable, affinity: np.ndarray, rounds: Rounds) -> VowpalWabbitPolicy:
        """Learn online from logged rounds (VW keeps what it learnt: there is no refit)."""
        key = id(candidates)
        if getattr(self, "_by_title", (None, None))[0] != key:
            self._by_title = (key, title_candidates(candidates), candidates)
        return self.fit_rounds(np.asarray(affinity)[rounds.group], candidates.title_ids[rounds.title],
                               candidates.variant_ids[rounds.title, rounds.action], rounds.reward,
                               rounds.propensity, self._by_title[1])

    def probabilities(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        if not self.trained:
            return np.full(len(candidates), 1.0 / len(candidates))
        tags = self.features.tag_matrix(candidates)
        lines = [self._shared(self.features.affinity_vector(context))]
        lines += [self._action(tags[i], c.visual) for i, c in enumerate(candidates)]
        with self._lock:
            pmf = np.asarray(self._vw.predict(lines), dtype=float)
        return pmf / pmf.sum()

    def fallback_reason(self, context: Context) -> str:
        if not self.trained:
            return "Vowpal Wabbit has never been trained: uniform random until it has logged impressions"
        if context.is_blank:
            return "this persona has no tastes set: showing the non-personalised choice"
        return ""

    def explain(self, context: Context, candidates: Sequence[Candidate], index: int) -> str:
        if not self.trained or len(candidates) < 2:
            return ""
        probs = self.probabilities(context, candidates)
        if int(np.argmax(probs)) != index:
            return f"exploration ({self.epsilon:.0%} share) instead of Vowpal Wabbit's top choice"
        liked = [t for t in candidates[index].tag_ids if context.affinities.get(t, 0) > 0]
        names = {t.id: f"{t.name} ({t.facet})" for t in self.features.tags}
        shared = ", ".join(sorted(names[t] for t in liked if t in names))
        return f"Vowpal Wabbit's top choice; image tags this persona likes: {shared}" if shared else \
            "Vowpal Wabbit's top choice for these tastes"

    def close(self) -> None:
        """Free Vowpal Wabbit's workspace."""
        with self._lock:
            self._vw.finish()
