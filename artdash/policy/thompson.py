"""Thompson sampling with Beta–Bernoulli posteriors per variant (Open Bandit Pipeline's
``BernoulliTS``): each variant's quality take rate has a Beta(1 + quality plays, 1 + the rest)
posterior, and a member is shown the variant whose posterior draw is highest.

Logged decisions need the probability of that choice, which Thompson sampling only defines
implicitly. OBP estimates it by Monte Carlo (many posterior draws per title); here it is
computed by quadrature — ``P(k is best) = ∫ f_k(x) Π_{j≠k} F_j(x) dx``
(:func:`artdash.stats.rates.probability_to_be_best`), exact to ~1e-6 — once per title and
trained version, and a share ``exploration`` is spread evenly so no variant's propensity is
ever near 0 (inverse-propensity weights stay bounded). The sticky assignment then plays the
role of the posterior draw: the same member sees the same image for the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from artdash import numbers
from artdash.policy.base import Candidate, CandidateTable, Context
from artdash.policy.baselines import VariantCounts
from artdash.stats import Proportion
from artdash.stats.rates import probability_to_be_best


class ThompsonSamplingPolicy(VariantCounts):
    """Beta–Bernoulli Thompson sampling per variant, with exact propensities (see the module)."""

    name, label = "thompson", "Thompson sampling (Beta–Bernoulli)"
    first_choice = "most likely the best so far (Thompson sampling)"

    def __init__(self, quality_counts: Mapping[int, tuple[int, int]] | None = None, exploration: float = 0.05,
                 prior: tuple[float, float] = (1.0, 1.0)):
        self.prior = prior
        self._cache: dict[tuple[int, ...], np.ndarray] = {}
        super().__init__(quality_counts, exploration)

    def changed(self) -> None:
        self._cache = {}

    def _row(self, variant_ids: tuple[int, ...]) -> np.ndarray:
        """The probabilities of one title's candidates (cached until the counts change)."""
        found = self._cache.get(variant_ids)
        if found is None:
            n = len(variant_ids)
            best = np.array(probability_to_be_best([Proportion(*self.counts.get(v, (0, 0))) for v in variant_ids],
                                                   self.prior))
            found = (1 - self.exploration) * best + self.exploration / n
            self._cache[variant_ids] = found
        return found

    def probabilities(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        return self._row(tuple(c.variant_id for c in candidates)).copy()

    def table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray:
        t = np.zeros(candidates.variant_ids.shape)
        for i, (row, n) in enumerate(zip(candidates.variant_ids.tolist(), candidates.n_actions.tolist())):
            if n:
                t[i, :n] = self._row(tuple(row[:n]))
        return np.broadcast_to(t, (len(affinity), *t.shape))

    def predicted_take(self, context: Context, candidate: Candidate) -> float:
        successes, trials = self.counts.get(candidate.variant_id, (0, 0))
        a, b = self.prior
        return (a + successes) / (a + b + trials)

    def explain(self, context: Context, candidates: Sequence[Candidate], index: int) -> str:
        p = self.probabilities(context, candidates)
        successes, trials = self.counts.get(candidates[index].variant_id, (0, 0))
        return f"{numbers.rate(float(p[index]))} chance under the posterior of each variant's take rate: {successes}/{trials} quality plays"
