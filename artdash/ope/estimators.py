"""The estimators, one shape (after Open Bandit Pipeline's ``BaseOffPolicyEstimator``): each has a
``name`` and turns one :class:`Evaluation` — the log, the target policy and what the weighted
estimators share, computed once — into an :class:`Estimate` (value, interval, effective sample
size, caveat). :data:`ESTIMATORS` is the one list; :func:`evaluate` runs every one that applies.
A new estimator is one class and one entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np

from artdash import numbers
from artdash.errors import ValidationError
from artdash.ope.data import (
    MIN_EFFECTIVE_SAMPLE,
    MIN_SUPPORTED_MASS,
    UNSUPPORTED_WARN,
    LoggedData,
    check_logged,
    effective_sample_size,
    unsupported_mass,
)
from artdash.ope.reward_model import RewardPredictions
from artdash.stats import two_sided_z, wilson_interval

CLIPPED = "clipped to [0, 1] (a rate cannot leave it)"
Found = tuple[float, float, float]      # value, low, high


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


@dataclass(frozen=True)
class Evaluation:
    """One target policy on one log, with the pieces every weighted estimator shares (weights,
    weighted rewards, the reward model's terms), the effective sample size, and whether the
    overlap is too thin to estimate at all (``withheld``: the reason)."""

    data: LoggedData
    target: np.ndarray
    predicted: np.ndarray | RewardPredictions | None
    confidence: float = 0.95
    seed: int = 0
    uniform_log: bool = True
    weights: np.ndarray = field(default_factory=lambda: np.empty(0))
    weighted_rewards: np.ndarray = field(default_factory=lambda: np.empty(0))
    dm_terms: np.ndarray | None = None
    dr_terms: np.ndarray | None = None
    effective_sample: float = 0.0
    note: str = ""             # a caveat every weighted estimate carries (mass off the logged images)
    withheld: str = ""         # why weighted estimates are withheld ("" when they are not)

    @classmethod
    def of(cls, data: LoggedData, target: np.ndarray, predicted: np.ndarray | RewardPredictions | None = None,
           confidence: float = 0.95, seed: int = 0, uniform_log: bool | None = None) -> Evaluation:
        """The shared pieces, computed once (``data`` as :func:`check_logged` left it)."""
        rows = np.arange(len(data))
        w = target[rows, data.action] / data.propensity
        wr = w * data.reward
        dm = dr = None
        if predicted is not None:
            values = predicted.values if isinstance(predicted, RewardPredictions) else predicted
            dm = np.einsum("ij,ij->i", target, values)
            dr = dm + wr - w * values[rows, data.action]
        ess = effective_sample_size(w) if len(w) else 0.0
        off = unsupported_mass(data, target) if len(data) else 0.0
        note = (f"{numbers.rate(off)} of this policy's probability is on images the logger never showed"
                if off > UNSUPPORTED_WARN else "")
        withheld = (f"withheld: too little overlap with the logged policy (effective sample {ess:,.0f}, "
                    f"{numbers.rate(1 - off)} of the policy's probability on logged images)"
                    if off > 1 - MIN_SUPPORTED_MASS or ess < MIN_EFFECTIVE_SAMPLE else "")
        if uniform_log is None:
            uniform_log = bool(np.allclose(data.propensity, 1.0 / data.n_actions)) if len(data) else True
        return cls(data, target, predicted, confidence, seed, uniform_log, w, wr, dm, dr, ess, note, withheld)


class Estimator(Protocol):
    """An off-policy estimator: its name, whether it needs a reward model, and its estimate."""

    name: ClassVar[str]
    needs_model: ClassVar[bool]

    def estimate(self, ev: Evaluation) -> Estimate: ...


def _mean_interval(terms: np.ndarray, confidence: float) -> Found:
    n = len(terms)
    mean = float(terms.mean())
    half = two_sided_z(confidence) * float(terms.std(ddof=1)) / np.sqrt(n) if n > 1 else float("inf")
    return mean, mean - half, mean + half


def as_rate(name: str, found: Found, ess: float | None, note: str) -> Estimate:
    """An estimate of a rate with its value and interval inside [0, 1] — saying so when the
    formula strayed outside (a normal interval on few rewards reaches below 0)."""
    value, low, high = found
    clipped = (min(max(value, 0.0), 1.0), min(max(low, 0.0), 1.0), max(min(high, 1.0), 0.0))
    if clipped != (value, low, high):
        note = "; ".join(n for n in (note, CLIPPED) if n)
    return Estimate(name, *clipped, ess, None, note)


def weighted(name: str, ev: Evaluation, found: Callable[[Evaluation], Found]) -> Estimate:
    """A weighting estimator's estimate as a rate with the evaluation's effective sample size
    and caveat — or, when the overlap is too thin, withheld with the reason."""
    if ev.withheld:
        return Estimate(name, None, None, None, ev.effective_sample, None, ev.withheld)
    return as_rate(name, found(ev), ev.effective_sample, ev.note)


@dataclass(frozen=True)
class Replay:
    """Li et al. (2011): sample the target's action for each round (seeded), keep the rounds
    where it equals the logged one; their mean reward with a Wilson interval. Unbiased only on
    a uniformly random log."""

    name: ClassVar[str] = "replay"
    needs_model: ClassVar[bool] = False

    @staticmethod
    def matched(ev: Evaluation) -> tuple[float, float, float, int]:
        """Value, interval and the number of matched rounds."""
        rng = np.random.default_rng(ev.seed)
        cumulative = np.cumsum(ev.target, axis=1)
        u = rng.random(len(ev.data)) * cumulative[:, -1]
        chosen = (u[:, None] < cumulative).argmax(axis=1)
        matched = chosen == ev.data.action
        n = int(matched.sum())
        if n == 0:
            return float("nan"), float("nan"), float("nan"), 0
        rewards = ev.data.reward[matched]
        # Wilson, not Wald: a handful of matched rounds with no play is [0, 0.06], not [0, 0]
        interval = wilson_interval(int(round(float(rewards.sum()))), n, ev.confidence)
        return float(rewards.mean()), interval.low, interval.high, n

    def estimate(self, ev: Evaluation) -> Estimate:
        """The replay estimate, or why it is withheld."""
        if ev.withheld:
            return Estimate(self.name, None, None, None, None, None, ev.withheld)
        value, low, high, n = self.matched(ev)
        if not n:
            return Estimate(self.name, None, None, None, 0.0, 0, "withheld: no logged round matches the policy's choice")
        note = "" if ev.uniform_log else "the log is not uniformly random: replay is biased here"
        return Estimate(self.name, value, low, high, float(n), n, note)


@dataclass(frozen=True)
class IPS:
    """Inverse propensity scoring: the mean of ``wᵢ rᵢ``."""

    name: ClassVar[str] = "IPS"
    needs_model: ClassVar[bool] = False

    @staticmethod
    def found(ev: Evaluation) -> Found:
        """Value and normal interval over rounds."""
        return _mean_interval(ev.weighted_rewards, ev.confidence)

    def estimate(self, ev: Evaluation) -> Estimate:
        """The IPS estimate, or why it is withheld."""
        return weighted(self.name, ev, self.found)


@dataclass(frozen=True)
class SNIPS:
    """Self-normalised IPS, ``Σ wᵢ rᵢ / Σ wᵢ``: a little bias, much less variance."""

    name: ClassVar[str] = "SNIPS"
    needs_model: ClassVar[bool] = False

    @staticmethod
    def found(ev: Evaluation) -> Found:
        """Value and delta-method interval: Var ≈ Σ wᵢ²(rᵢ − V)² / (Σ wᵢ)²."""
        total = ev.weights.sum()
        if total <= 0:
            return float("nan"), float("nan"), float("nan")
        value = float(ev.weighted_rewards.sum() / total)
        half = two_sided_z(ev.confidence) * float(np.sqrt(np.square(ev.weights * (ev.data.reward - value)).sum())) \
            / float(total)
        return value, value - half, value + half

    def estimate(self, ev: Evaluation) -> Estimate:
        """The SNIPS estimate, or why it is withheld."""
        return weighted(self.name, ev, self.found)


@dataclass(frozen=True)
class DirectMethod:
    """The mean of ``Σₐ π(a|xᵢ) q̂(xᵢ, a)`` — only as good as the reward model. With plain
    predictions the interval covers only the spread over rounds; with :class:`RewardPredictions`
    it adds the model's own estimation error (each fitted cell's variance, weighted by how much
    of the policy's probability lands on it)."""

    name: ClassVar[str] = "DM"
    needs_model: ClassVar[bool] = True

    @staticmethod
    def found(ev: Evaluation) -> Found:
        """Value and interval."""
        terms, predicted = ev.dm_terms, ev.predicted
        assert terms is not None  # built with predictions
        value, low, high = _mean_interval(terms, ev.confidence)
        if not isinstance(predicted, RewardPredictions) or not len(predicted.variances):
            return value, low, high
        n = len(terms)
        valid = predicted.cells >= 0
        weight = np.bincount(predicted.cells[valid], weights=ev.target[valid], minlength=len(predicted.variances)) / n
        model_var = float((weight ** 2 * predicted.variances).sum())
        spread_var = float(terms.var(ddof=1)) / n if n > 1 else 0.0
        half = two_sided_z(ev.confidence) * np.sqrt(spread_var + model_var)
        return value, value - half, value + half

    def estimate(self, ev: Evaluation) -> Estimate:
        """The DM estimate (never withheld: it does not weight the log)."""
        note = ("" if isinstance(ev.predicted, RewardPredictions)
                else "the interval ignores reward-model error; trust it only as far as the model")
        return as_rate(self.name, self.found(ev), float(len(ev.data)), note)


@dataclass(frozen=True)
class DoublyRobust:
    """DM plus the weighted residual of the logged action, ``wᵢ (rᵢ − q̂(xᵢ, aᵢ))``: unbiased if
    either the propensities or the reward model are right."""

    name: ClassVar[str] = "DR"
    needs_model: ClassVar[bool] = True

    @staticmethod
    def found(ev: Evaluation) -> Found:
        """Value and normal interval over rounds."""
        assert ev.dr_terms is not None  # built with predictions
        return _mean_interval(ev.dr_terms, ev.confidence)

    def estimate(self, ev: Evaluation) -> Estimate:
        """The DR estimate, or why it is withheld."""
        return weighted(self.name, ev, self.found)


ESTIMATORS: tuple[Estimator, ...] = (Replay(), IPS(), SNIPS(), DirectMethod(), DoublyRobust())


def evaluate(data: LoggedData, target: np.ndarray, predicted: np.ndarray | RewardPredictions | None = None,
             confidence: float = 0.95, seed: int = 0, uniform_log: bool | None = None) -> list[Estimate]:
    """Every estimator that applies (those needing a reward model only with ``predicted``), with
    its interval, effective sample size and caveats."""
    data = check_logged(data)
    target = np.asarray(target, dtype=float)
    if target.shape[0] != len(data):
        raise ValidationError(f"the target policy gives {target.shape[0]} rows of probabilities for "
                              f"{len(data)} logged rounds")
    values = predicted.values if isinstance(predicted, RewardPredictions) else predicted
    if values is not None and values.shape != target.shape:
        raise ValidationError("the reward model's predictions must have the target's shape (rounds × candidates)")
    ev = Evaluation.of(data, target, predicted, confidence, seed, uniform_log)
    return [e.estimate(ev) for e in ESTIMATORS if predicted is not None or not e.needs_model]


# The estimators as plain functions on arrays (a notebook's, and the tests' against Open Bandit Pipeline).

def ips(data: LoggedData, target: np.ndarray, confidence: float = 0.95) -> Found:
    """Inverse propensity scoring: the policy's value with its interval."""
    return IPS.found(Evaluation.of(data, target, None, confidence))


def snips(data: LoggedData, target: np.ndarray, confidence: float = 0.95) -> Found:
    """Self-normalised IPS: the policy's value with its (delta-method) interval."""
    return SNIPS.found(Evaluation.of(data, target, None, confidence))


def direct_method(target: np.ndarray, predicted: np.ndarray | RewardPredictions, confidence: float = 0.95) -> Found:
    """The direct method's value and interval (see :class:`DirectMethod`)."""
    values = predicted.values if isinstance(predicted, RewardPredictions) else predicted
    ev = Evaluation(LoggedData(np.zeros(len(target), np.int64), np.zeros(len(target)), np.ones(len(target)),
                               np.ones(len(target), np.int64)), target, predicted, confidence,
                    dm_terms=np.einsum("ij,ij->i", target, values))
    return DirectMethod.found(ev)


def doubly_robust(data: LoggedData, target: np.ndarray, predicted: np.ndarray | RewardPredictions,
                  confidence: float = 0.95) -> Found:
    """Doubly robust: the reward model's estimate corrected by weighted residuals, with its interval."""
    return DoublyRobust.found(Evaluation.of(data, target, predicted, confidence))


def estimates(data: LoggedData, target: np.ndarray, predicted: np.ndarray | RewardPredictions | None = None,
              confidence: float = 0.95) -> dict[str, Found]:
    """IPS, SNIPS and (with predictions) DM and DR, from one :class:`Evaluation`."""
    ev = Evaluation.of(data, target, predicted, confidence)
    out = {"IPS": IPS.found(ev), "SNIPS": SNIPS.found(ev)}
    if predicted is not None:
        out["DM"] = DirectMethod.found(ev)
        out["DR"] = DoublyRobust.found(ev)
    return out


def replay(data: LoggedData, target: np.ndarray, seed: int = 0, confidence: float = 0.95) -> tuple[float, float, float, int]:
    """The replay estimate's value, interval and matched rounds (see :class:`Replay`)."""
    return Replay.matched(Evaluation(data, np.asarray(target, dtype=float), None, confidence, seed))
