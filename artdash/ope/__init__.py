"""Offline policy evaluation: how would a policy have done on logged impressions?

Pure functions on arrays (usable from a notebook). A logged dataset has, per round ``i``,
the action the logging policy took (an index into that round's candidates), its reward
(quality play: 0/1) and its propensity ``μ(aᵢ|xᵢ)``. A target policy is given as a matrix of
probabilities ``π(a|xᵢ)`` over each round's candidates (rows padded with zeros past the
round's last candidate); the direct method and doubly robust also need a reward model's
predictions ``q̂(xᵢ, a)`` in the same shape.

Estimators (value = expected reward per impression under the target policy):

- **replay** (Li et al. 2011): keep the rounds where the target's (sampled) action equals the
  logged one; their mean reward, with a Wilson interval. Unbiased only when the log is
  uniformly random.
- **IPS**: mean of ``wᵢ rᵢ`` with ``wᵢ = π(aᵢ|xᵢ) / μ(aᵢ|xᵢ)``.
- **SNIPS**: ``Σ wᵢ rᵢ / Σ wᵢ`` (self-normalised: a little bias, much less variance).
- **DM**: mean of ``Σₐ π(a|xᵢ) q̂(xᵢ, a)`` — only as good as the reward model.
- **DR**: DM plus the IPS-weighted residual of the logged action, ``wᵢ (rᵢ − q̂(xᵢ, aᵢ))``:
  unbiased if either the propensities or the reward model are right.

Intervals are analytic (normal approximation over rounds; the delta method for SNIPS; Wilson
for replay) at the given confidence; IPS's, SNIPS's, DM's and DR's, which can stray outside
what a rate can be, are clipped to [0, 1] and say so. Effective sample size ``(Σw)² / Σw²`` says how many uniformly weighted
rounds the estimate is worth; a policy that puts probability on actions the logger never
took is warned about, and with too little overlap its estimates are withheld.
"""

from artdash.ope.data import (
    MIN_EFFECTIVE_SAMPLE,
    MIN_SUPPORTED_MASS,
    UNSUPPORTED_WARN,
    LoggedData,
    check_logged,
    effective_sample_size,
    importance_weights,
    unsupported_mass,
)
from artdash.ope.estimators import (
    CLIPPED,
    ESTIMATORS,
    IPS,
    SNIPS,
    DirectMethod,
    DoublyRobust,
    Estimate,
    Estimator,
    Evaluation,
    Replay,
    direct_method,
    doubly_robust,
    estimates,
    evaluate,
    ips,
    replay,
    snips,
)
from artdash.ope.reward_model import (
    DIRECT_KEYS,
    RewardPredictions,
    TabularRewardModel,
    cross_fitted_predictions,
)

__all__ = [
    "CLIPPED", "DIRECT_KEYS", "ESTIMATORS", "IPS", "MIN_EFFECTIVE_SAMPLE", "MIN_SUPPORTED_MASS", "SNIPS",
    "UNSUPPORTED_WARN", "DirectMethod", "DoublyRobust", "Estimate", "Estimator", "Evaluation", "LoggedData",
    "Replay", "RewardPredictions", "TabularRewardModel", "check_logged", "cross_fitted_predictions",
    "direct_method", "doubly_robust", "effective_sample_size", "estimates", "evaluate", "importance_weights",
    "ips", "replay", "snips", "unsupported_mass",
]
