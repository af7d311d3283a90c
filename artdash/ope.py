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

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artdash import numbers
from artdash.errors import ValidationError
from artdash.stats import two_sided_z, wilson_interval

UNSUPPORTED_WARN = 0.01     # warn when more than 1 % of the target's mass is on never-logged actions
MIN_EFFECTIVE_SAMPLE = 10   # below this many effective rounds, weighted estimates are withheld
MIN_SUPPORTED_MASS = 0.5    # … and when less than half of the target's mass is on logged actions
DIRECT_KEYS = 1 << 22       # action keys below this index the reward table directly


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


def _mean_interval(terms: np.ndarray, confidence: float) -> tuple[float, float, float]:
    n = len(terms)
    mean = float(terms.mean())
    half = two_sided_z(confidence) * float(terms.std(ddof=1)) / np.sqrt(n) if n > 1 else float("inf")
    return mean, mean - half, mean + half


def _taken(matrix: np.ndarray, action: np.ndarray) -> np.ndarray:
    return matrix[np.arange(len(action)), action]


def importance_weights(data: LoggedData, target: np.ndarray) -> np.ndarray:
    """``π(aᵢ|xᵢ) / μ(aᵢ|xᵢ)`` for each logged round."""
    return _taken(target, data.action) / data.propensity


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of the importance weights: how many rounds the estimate is really worth."""
    total = float(weights.sum())
    squares = float((weights ** 2).sum())
    return total * total / squares if squares > 0 else 0.0


@dataclass(frozen=True)
class _Parts:
    """What the weighted estimators share, computed once."""

    weights: np.ndarray
    weighted_rewards: np.ndarray
    dm_terms: np.ndarray | None = None
    dr_terms: np.ndarray | None = None


def _parts(data: LoggedData, target: np.ndarray, predicted: np.ndarray | RewardPredictions | None = None) -> _Parts:
    rows = np.arange(len(data))
    w = target[rows, data.action] / data.propensity
    wr = w * data.reward
    if predicted is None:
        return _Parts(w, wr)
    values = predicted.values if isinstance(predicted, RewardPredictions) else predicted
    dm = np.einsum("ij,ij->i", target, values)
    return _Parts(w, wr, dm, dm + wr - w * values[rows, data.action])


def _ips(parts: _Parts, confidence: float) -> tuple[float, float, float]:
    return _mean_interval(parts.weighted_rewards, confidence)


def _snips(parts: _Parts, reward: np.ndarray, confidence: float) -> tuple[float, float, float]:
    w = parts.weights
    total = w.sum()
    if total <= 0:
        return float("nan"), float("nan"), float("nan")
    value = float(parts.weighted_rewards.sum() / total)
    # Delta method: Var ≈ Σ wᵢ²(rᵢ − V)² / (Σ wᵢ)².
    half = two_sided_z(confidence) * float(np.sqrt(np.square(w * (reward - value)).sum())) / float(total)
    return value, value - half, value + half


def _dm(parts: _Parts, target: np.ndarray, predicted: np.ndarray | RewardPredictions,
        confidence: float) -> tuple[float, float, float]:
    terms = parts.dm_terms
    assert terms is not None  # built with predictions
    value, low, high = _mean_interval(terms, confidence)
    if not isinstance(predicted, RewardPredictions) or not len(predicted.variances):
        return value, low, high
    n = len(terms)
    valid = predicted.cells >= 0
    weight = np.bincount(predicted.cells[valid], weights=target[valid], minlength=len(predicted.variances)) / n
    model_var = float((weight ** 2 * predicted.variances).sum())
    spread_var = float(terms.var(ddof=1)) / n if n > 1 else 0.0
    half = two_sided_z(confidence) * np.sqrt(spread_var + model_var)
    return value, value - half, value + half


def ips(data: LoggedData, target: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Inverse propensity scoring: the policy's value with its interval."""
    return _ips(_parts(data, target), confidence)


def snips(data: LoggedData, target: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Self-normalised IPS: the policy's value with its (delta-method) interval."""
    return _snips(_parts(data, target), data.reward, confidence)


def direct_method(target: np.ndarray, predicted: np.ndarray | RewardPredictions,
                  confidence: float = 0.95) -> tuple[float, float, float]:
    """With plain predictions the interval covers only the spread over rounds; with
    :class:`RewardPredictions` it adds the reward model's own estimation error (each fitted
    cell's variance, weighted by how much of the policy's probability lands on it)."""
    values = predicted.values if isinstance(predicted, RewardPredictions) else predicted
    return _dm(_Parts(np.empty(0), np.empty(0), np.einsum("ij,ij->i", target, values)), target, predicted,
               confidence)


def doubly_robust(data: LoggedData, target: np.ndarray, predicted: np.ndarray | RewardPredictions,
                  confidence: float = 0.95) -> tuple[float, float, float]:
    """Doubly robust: the reward model's estimate corrected by weighted residuals, with its interval."""
    terms = _parts(data, target, predicted).dr_terms
    assert terms is not None  # built with predictions
    return _mean_interval(terms, confidence)


def estimates(data: LoggedData, target: np.ndarray, predicted: np.ndarray | RewardPredictions | None = None,
              confidence: float = 0.95) -> dict[str, tuple[float, float, float]]:
    """IPS, SNIPS and (with predictions) DM and DR in one pass over shared pieces."""
    parts = _parts(data, target, predicted)
    out = {"IPS": _ips(parts, confidence), "SNIPS": _snips(parts, data.reward, confidence)}
    if predicted is not None:
        out["DM"] = _dm(parts, target, predicted, confidence)
        assert parts.dr_terms is not None
        out["DR"] = _mean_interval(parts.dr_terms, confidence)
    return out


def replay(data: LoggedData, target: np.ndarray, seed: int = 0,
           confidence: float = 0.95) -> tuple[float, float, float, int]:
    """Li et al. (2011): sample the target's action for each round (seeded), keep the rounds
    where it equals the logged action. Returns value, interval and the matched count."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(target, axis=1)
    u = rng.random(len(data)) * cumulative[:, -1]
    chosen = (u[:, None] < cumulative).argmax(axis=1)
    matched = chosen == data.action
    n = int(matched.sum())
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    rewards = data.reward[matched]
    value = float(rewards.mean())
    # Wilson, not Wald: a handful of matched rounds with no play is [0, 0.06], not [0, 0]
    interval = wilson_interval(int(round(float(rewards.sum()))), n, confidence)
    return value, interval.low, interval.high, n


def unsupported_mass(data: LoggedData, target: np.ndarray) -> float:
    """Average probability the target puts on actions the logger could not have taken."""
    if data.support is None:
        return 0.0
    return float((target * ~data.support).sum(axis=1).mean())


@dataclass(frozen=True)
class Estimate:
    """One estimator's estimate of a policy's value: interval, effective sample, matched rounds, caveat."""
    estimator: str
    value: float | None
    low: float | None
    high: float | None
    effective_sample: float | None
    matched: int | None
    note: str = ""

    @property
    def withheld(self) -> bool:
        """Whether the estimate was withheld (no overlap, no matching rounds)."""
        return self.value is None


def evaluate(data: LoggedData, target: np.ndarray, predicted: np.ndarray | RewardPredictions | None = None,
             confidence: float = 0.95, seed: int = 0, uniform_log: bool | None = None) -> list[Estimate]:
    """Every estimator that applies, with its interval, effective sample size and caveats."""
    data = check_logged(data)
    target = np.asarray(target, dtype=float)
    if target.shape[0] != len(data):
        raise ValidationError(f"the target policy gives {target.shape[0]} rows of probabilities for "
                              f"{len(data)} logged rounds")
    values = predicted.values if isinstance(predicted, RewardPredictions) else predicted
    if values is not None and values.shape != target.shape:
        raise ValidationError("the reward model's predictions must have the target's shape (rounds × candidates)")
    w = importance_weights(data, target)
    ess = effective_sample_size(w)
    off_support = unsupported_mass(data, target)
    notes = []
    if off_support > UNSUPPORTED_WARN:
        notes.append(f"{numbers.rate(off_support)} of this policy's probability is on images the logger never showed")
    withhold = off_support > 1 - MIN_SUPPORTED_MASS or ess < MIN_EFFECTIVE_SAMPLE
    reason = (f"withheld: too little overlap with the logged policy (effective sample {ess:,.0f}, "
              f"{numbers.rate(1 - off_support)} of the policy's probability on logged images)")
    out: list[Estimate] = []
    if uniform_log is None:
        uniform_log = bool(np.allclose(data.propensity, 1.0 / data.n_actions))
    if withhold:
        out.append(Estimate("replay", None, None, None, None, None, reason))
    else:
        value, low, high, matched = replay(data, target, seed, confidence)
        note = "" if uniform_log else "the log is not uniformly random: replay is biased here"
        out.append(Estimate("replay", value if matched else None, low if matched else None,
                            high if matched else None, float(matched), matched,
                            note if matched else "withheld: no logged round matches the policy's choice"))
    found = estimates(data, target, predicted, confidence)
    note = "; ".join(notes)
    for name in ("IPS", "SNIPS"):
        if withhold:
            out.append(Estimate(name, None, None, None, ess, None, reason))
        else:
            out.append(_as_rate(name, found[name], ess, note))
    if predicted is not None:
        dm_note = ("" if isinstance(predicted, RewardPredictions)
                   else "the interval ignores reward-model error; trust it only as far as the model")
        out.append(_as_rate("DM", found["DM"], float(len(data)), dm_note))
        if withhold:
            out.append(Estimate("DR", None, None, None, ess, None, reason))
        else:
            out.append(_as_rate("DR", found["DR"], ess, note))
    return out


CLIPPED = "clipped to [0, 1] (a rate cannot leave it)"


def _as_rate(name: str, found: tuple[float, float, float], ess: float | None, note: str) -> Estimate:
    """An estimate of a rate with its value and interval inside [0, 1] — saying so when the
    formula strayed outside (a normal interval on few rewards reaches below 0)."""
    value, low, high = found
    clipped = (min(max(value, 0.0), 1.0), min(max(low, 0.0), 1.0), max(min(high, 1.0), 0.0))
    if clipped != (value, low, high):
        note = "; ".join(n for n in (note, CLIPPED) if n)
    return Estimate(name, *clipped, ess, None, note)


# --- reward model --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RewardPredictions:
    """q̂(xᵢ, a) for every round and candidate, and what the direct method's interval needs:
    which fitted cell each prediction comes from and the variance of that cell's estimate."""

    values: np.ndarray      # (n, K)
    cells: np.ndarray       # (n, K) cell index, −1 past a round's candidates
    variances: np.ndarray   # (n_cells,)


@dataclass(frozen=True)
class TabularRewardModel:
    """Rates per (context group, action key), shrunk towards the action's overall rate (and that
    towards the global rate) with ``prior`` pseudo-impressions: an empirical-Bayes reward model
    that fits 1M rounds in milliseconds. Groups are personas/segments; action keys are variant ids."""

    prior: float = 1.0

    def fit_predict(self, group: np.ndarray, key: np.ndarray, reward: np.ndarray, query_group: np.ndarray,
                    query_key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fit on (group, key, reward) rows; predict for every (query_group, query_key).
        Returns predictions, their cell indices and the variance of each cell's rate."""
        key, query_key = np.asarray(key, dtype=np.int64), np.asarray(query_key, dtype=np.int64)
        low = min(key.min(initial=0), query_key.min(initial=0))
        high = max(key.max(initial=0), query_key.max(initial=0))
        if low >= 0 and high < DIRECT_KEYS:
            # Small non-negative ids (variant ids): index by the id itself, no sorting needed.
            fit_keys, q_keys, n_keys = key, query_key, int(high) + 1
        else:
            keys, key_index = np.unique(np.concatenate([key, query_key.ravel()]), return_inverse=True)
            fit_keys, q_keys = key_index[:len(key)], key_index[len(key):].reshape(query_key.shape)
            n_keys = len(keys)
        n_groups = int(max(group.max(initial=0), query_group.max(initial=0))) + 1
        overall = reward.mean() if len(reward) else 0.0
        key_n = np.bincount(fit_keys, minlength=n_keys)
        key_s = np.bincount(fit_keys, weights=reward, minlength=n_keys)
        key_rate = (key_s + self.prior * overall) / (key_n + self.prior)
        cell = group.astype(np.int64) * n_keys + fit_keys
        cell_n = np.bincount(cell, minlength=n_groups * n_keys)
        cell_s = np.bincount(cell, weights=reward, minlength=n_groups * n_keys)
        rate = (cell_s + self.prior * np.tile(key_rate, n_groups)) / (cell_n + self.prior)
        variance = rate * (1 - rate) / (cell_n + self.prior)
        q_group = np.broadcast_to(query_group.reshape(len(query_group), *([1] * (q_keys.ndim - 1))), q_keys.shape)
        q_cell = q_group.astype(np.int64) * n_keys + q_keys
        return rate[q_cell], q_cell, variance


def cross_fitted_predictions(group: np.ndarray, candidate_keys: np.ndarray, data: LoggedData, folds: int = 2,
                             seed: int = 0, model: TabularRewardModel | None = None) -> RewardPredictions:
    """q̂(xᵢ, a) for every round and candidate, each round predicted by a model fitted on the
    other folds only (cross-fitting keeps DR honest: a round never grades its own model).
    ``candidate_keys`` is rounds × K (variant ids, padded with any value past n_actions)."""
    model = model or TabularRewardModel()
    n = len(data)
    fold = np.random.default_rng([seed, 0xF01D]).integers(folds, size=n)  # its own stream
    logged_keys = _taken(candidate_keys, data.action)
    values = np.zeros(candidate_keys.shape, dtype=float)
    cells = np.full(candidate_keys.shape, -1, dtype=np.int64)
    variances = []
    offset = 0
    for f in range(folds):
        train, test = fold != f, fold == f
        if not test.any():
            continue
        if not train.any():
            train = test
        v, c, var = model.fit_predict(group[train], logged_keys[train], data.reward[train], group[test],
                                      candidate_keys[test])
        values[test], cells[test] = v, c + offset
        variances.append(var)
        offset += len(var)
    valid = np.arange(candidate_keys.shape[1])[None, :] < data.n_actions[:, None]
    return RewardPredictions(np.where(valid, values, 0.0), np.where(valid, cells, -1),
                             np.concatenate(variances) if variances else np.zeros(0))
