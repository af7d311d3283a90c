"""Logged rounds as arrays, checked, and what every estimator needs of them: importance
weights, their effective sample size, the target's mass on actions the logger never took."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artdash.errors import ValidationError

UNSUPPORTED_WARN = 0.01     # warn when more than 1 % of the target's mass is on never-logged actions
MIN_EFFECTIVE_SAMPLE = 10   # below this many effective rounds, weighted estimates are withheld
MIN_SUPPORTED_MASS = 0.5    # … and when less than half of the target's mass is on logged actions


@dataclass(frozen=True)
class LoggedData:
    """Logged rounds. ``support`` (optional, n × K booleans) marks the actions the logger could
    take in each round (μ > 0); without it, every candidate is assumed possible."""

    action: np.ndarray        # int, index of the logged action in the round's candidates
    reward: np.ndarray        # float, 0/1 for quality plays
    propensity: np.ndarray    # float in (0, 1]
    n_actions: np.ndarray     # int, candidates in the round
    support: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.action)


def check_logged(data: LoggedData) -> LoggedData:
    """Refuses logs that cannot be evaluated, saying why; returns ``data`` with arrays typed."""
    n = len(data.action)
    if n == 0:
        raise ValidationError("the log has no impressions: there is nothing to evaluate a policy on")
    arrays = {"reward": data.reward, "propensity": data.propensity, "n_actions": data.n_actions}
    for name, arr in arrays.items():
        if len(arr) != n:
            raise ValidationError(f"`{name}` has {len(arr)} values for {n} logged actions")
    propensity = np.asarray(data.propensity, dtype=float)
    missing = ~np.isfinite(propensity)
    if missing.any():
        raise ValidationError(f"{int(missing.sum()):,} logged impressions have no propensity: offline evaluation "
                              "needs the probability the logging policy gave each shown image")
    zero = propensity <= 0
    if zero.any():
        raise ValidationError(f"{int(zero.sum()):,} logged impressions have propensity 0: an image shown with "
                              "probability 0 means the log's propensities are wrong; fix the logger")
    if (propensity > 1).any():
        raise ValidationError("propensities above 1 are not probabilities; fix the logger")
    action = np.asarray(data.action, dtype=np.int64)
    n_actions = np.asarray(data.n_actions, dtype=np.int64)
    if (action < 0).any() or (action >= n_actions).any():
        raise ValidationError("a logged action is outside its round's candidates")
    return LoggedData(action, np.asarray(data.reward, dtype=float), propensity, n_actions, data.support)


def taken(matrix: np.ndarray, action: np.ndarray) -> np.ndarray:
    """Each round's entry of ``matrix`` (rounds × candidates) at its logged ``action``."""
    return matrix[np.arange(len(action)), action]


def importance_weights(data: LoggedData, target: np.ndarray) -> np.ndarray:
    """``π(aᵢ|xᵢ) / μ(aᵢ|xᵢ)`` for each logged round."""
    return taken(target, data.action) / data.propensity


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of the importance weights: how many rounds the estimate is really worth."""
    total = float(weights.sum())
    squares = float((weights ** 2).sum())
    return total * total / squares if squares > 0 else 0.0


def unsupported_mass(data: LoggedData, target: np.ndarray) -> float:
    """Average probability the target puts on actions the logger could not have taken."""
    if data.support is None:
        return 0.0
    return float((target * ~data.support).sum(axis=1).mean())
