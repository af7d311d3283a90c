"""Statistics for take rates and A/B reviews: pure functions on counts.

SQL computes the sums and counts; these functions compute the statistics from them.
Degenerate data (no impressions, too few) gives a well-formed result with a ``status`` and a
``reason`` a reviewer can read, never a crash and never a misleading number.

Conventions: ``confidence`` is two-sided (0.95 → 95 % intervals); rates are in [0, 1];
relative lift is ``treatment / control − 1``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from artdash import numbers
from artdash.errors import ValidationError

OK = "ok"
NOT_ENOUGH_DATA = "not enough data"
NO_DATA = "no data"
MIN_IMPRESSIONS = 100       # below this a rate's interval is too wide to act on
MIN_SUCCESSES_FOR_LIFT = 5  # per arm: the log-ratio interval needs some successes to mean anything
SRM_P_THRESHOLD = 0.001
QUADRATURE_NODES = 128       # P(best): Gauss–Legendre nodes per arm (error ~2e-7 on a 2-arm case)


class Proportion(NamedTuple):
    """A rate's sufficient statistic: successes out of trials (gbstats' ``ProportionStatistic``).
    Counts add and subtract as statistics do — a segment's plus another's, a log's minus one
    import's — and every function here takes them; as a tuple it unpacks as ``(s, n)``."""

    successes: int
    trials: int

    def __add__(self, other: tuple[int, int]) -> Proportion:  # type: ignore[override]
        return Proportion(self.successes + other[0], self.trials + other[1])

    def __sub__(self, other: tuple[int, int]) -> Proportion:
        return Proportion(self.successes - other[0], self.trials - other[1])

    @property
    def rate(self) -> float:
        """successes / trials (nan with no trials)."""
        return self.successes / self.trials if self.trials else float("nan")

    @staticmethod
    def total(parts: Iterable[tuple[int, int]]) -> Proportion:
        """The sum of several statistics."""
        out = Proportion(0, 0)
        for part in parts:
            out = out + part
        return out


def two_sided_z(confidence: float) -> float:
    """The normal quantile of a two-sided interval at ``confidence`` (0.95 → 1.96): the one
    z-score every interval of the package (rates, lifts, offline estimates) is built with."""
    if not 0 < confidence < 1:
        raise ValidationError(f"`confidence` must be between 0 and 1 (got {confidence})")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _check_counts(successes: int, trials: int, what: str = "successes") -> None:
    if trials < 0 or successes < 0:
        raise ValidationError(f"counts must not be negative (got {successes} {what} of {trials})")
    if successes > trials:
        raise ValidationError(f"{what} ({successes}) cannot exceed trials ({trials})")


@dataclass(frozen=True)
class Interval:
    """A confidence (or credible) interval."""
    low: float
    high: float

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval."""
        return self.low <= value <= self.high


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a binomial proportion.

    Chosen over the normal (Wald) interval because take rates are small proportions where
    Wald intervals undercover and can go below zero."""
    _check_counts(successes, trials)
    if trials == 0:
        return Interval(0.0, 1.0)
    z = two_sided_z(confidence)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class RateEstimate:
    """A take rate with its interval and counts; ``status`` says whether to trust it."""

    successes: int
    trials: int
    interval: Interval
    status: str
    reason: str = ""

    @property
    def rate(self) -> float | None:
        """Successes per trial (None without trials)."""
        return self.successes / self.trials if self.trials else None


def rate_estimate(successes: int, trials: int, confidence: float = 0.95,
                  min_trials: int = MIN_IMPRESSIONS) -> RateEstimate:
    """Take rate (plays / impressions) or quality take rate, with a Wilson interval."""
    _check_counts(successes, trials)
    interval = wilson_interval(successes, trials, confidence)
    if trials == 0:
        return RateEstimate(0, 0, interval, NO_DATA, "no impressions in this selection")
    if trials < min_trials:
        return RateEstimate(successes, trials, interval, NOT_ENOUGH_DATA,
                            f"only {trials} impressions (at least {min_trials} needed for a usable interval)")
    return RateEstimate(successes, trials, interval, OK)


@dataclass(frozen=True)
class LiftEstimate:
    """Relative lift of a treatment over a control, with an interval and a two-sided p-value."""

    relative: float | None
    interval: Interval | None
    p_value: float | None
    status: str
    reason: str = ""

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the lift is significant at the estimate's level."""
        return self.p_value is not None and self.p_value < alpha


def lift(treatment: Proportion, control: Proportion, confidence: float = 0.95,
         min_trials: int = MIN_IMPRESSIONS) -> LiftEstimate:
    """Relative lift ``p_t / p_c − 1``.

    Interval: the log-ratio (Katz) interval, exponentiated — asymmetric like the ratio itself.
    p-value: the pooled two-proportion z-test of equal rates.
    """
    (s_t, n_t), (s_c, n_c) = treatment, control
    _check_counts(s_t, n_t)
    _check_counts(s_c, n_c)
    if n_t == 0 or n_c == 0:
        return LiftEstimate(None, None, None, NO_DATA, "an arm has no impressions")
    if n_t < min_trials or n_c < min_trials:
        return LiftEstimate(None, None, None, NOT_ENOUGH_DATA,
                            f"needs at least {min_trials} impressions per arm (have {n_t} and {n_c})")
    if s_c == 0:
        return LiftEstimate(None, None, None, NOT_ENOUGH_DATA, "the control has no plays: a ratio is undefined")
    p_t, p_c = s_t / n_t, s_c / n_c
    relative = p_t / p_c - 1
    p_value = _pooled_z_p_value(s_t, n_t, s_c, n_c)
    if s_t < MIN_SUCCESSES_FOR_LIFT or s_c < MIN_SUCCESSES_FOR_LIFT:
        return LiftEstimate(relative, None, p_value, NOT_ENOUGH_DATA,
                            f"fewer than {MIN_SUCCESSES_FOR_LIFT} plays in an arm: no interval")
    se = math.sqrt(1 / s_t - 1 / n_t + 1 / s_c - 1 / n_c)
    z = two_sided_z(confidence)
    log_ratio = math.log(p_t / p_c)
    interval = Interval(math.exp(log_ratio - z * se) - 1, math.exp(log_ratio + z * se) - 1)
    return LiftEstimate(relative, interval, p_value, OK)


def _pooled_z_p_value(s_t: int, n_t: int, s_c: int, n_c: int) -> float:
    pooled = (s_t + s_c) / (n_t + n_c)
    if pooled in (0.0, 1.0):
        return 1.0  # identical, degenerate arms: no evidence of a difference
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    z = (s_t / n_t - s_c / n_c) / se
    return 2 * NormalDist().cdf(-abs(z))


def detectable_lift(control: Proportion, n_treatment: int, confidence: float = 0.95,
                    power: float = 0.8) -> float | None:
    """The smallest relative lift over the control's rate that a two-sided z-test at this
    confidence would detect with this power, given the impressions so far (normal
    approximation, before any multiple-testing adjustment). None when it cannot be said
    (no impressions, or a control rate of 0 or 1)."""
    successes, trials = control
    _check_counts(successes, trials)
    if trials == 0 or n_treatment <= 0 or successes in (0, trials):
        return None
    if not 0 < power < 1:
        raise ValidationError(f"power must be between 0 and 1 (got {power})")
    rate = successes / trials
    z = two_sided_z(confidence) + NormalDist().inv_cdf(power)
    return z * math.sqrt(rate * (1 - rate) * (1 / trials + 1 / n_treatment)) / rate


def holm_adjust(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (step-down; controls the family-wise error rate).

    ``None`` entries (no test possible) stay ``None`` and do not count as tests."""
    indexed = [(p, i) for i, p in enumerate(p_values) if p is not None]
    for p, _ in indexed:
        if not 0 <= p <= 1:
            raise ValidationError(f"p-values must be in [0, 1] (got {p})")
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(indexed)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


@functools.lru_cache(maxsize=4)
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [0, 1] (an eigenvalue problem: computed once)."""
    nodes, weights = np.polynomial.legendre.leggauss(n)
    return (nodes + 1) / 2, weights / 2


def probability_to_be_best(arms: Sequence[Proportion], prior: tuple[float, float] = (1.0, 1.0),
                           n_draws: int | None = None, seed: int = 0) -> list[float]:
    """P(arm has the highest rate) under independent Beta(prior + successes, prior + failures)
    posteriors: ``P_i = ∫ f_i(x) Π_{j≠i} F_j(x) dx``, by Gauss–Legendre quadrature
    (deterministic, accurate to ~1e-6, about a millisecond for 8 arms); with ``n_draws``, by
    Monte Carlo with an explicit seed instead."""
    if not arms:
        return []
    for s, n in arms:
        _check_counts(s, n)
    a0, b0 = prior
    alphas = np.array([a0 + s for s, _ in arms], dtype=float)
    betas = np.array([b0 + n - s for s, n in arms], dtype=float)
    if n_draws is not None:
        rng = np.random.default_rng(seed)
        draws = np.column_stack([rng.beta(a, b, size=n_draws) for a, b in zip(alphas, betas)])
        return (np.bincount(np.argmax(draws, axis=1), minlength=len(arms)) / n_draws).tolist()
    if len(arms) == 1:
        return [1.0]
    from scipy.special import betainc, betaincinv

    # P_i = E over arm i's posterior of Π_{j≠i} F_j(x) = ∫₀¹ Π_{j≠i} F_j(F_i⁻¹(u)) du: a smooth
    # integrand on [0, 1], by Gauss–Legendre
    u, w = _legendre(QUADRATURE_NODES)
    p = np.empty(len(arms))
    for i in range(len(arms)):
        x = betaincinv(alphas[i], betas[i], u)
        cdf = betainc(alphas[:, None], betas[:, None], x[None, :])
        cdf[i] = 1.0
        p[i] = float(w @ np.prod(cdf, axis=0))
    return (p / p.sum()).tolist()


@dataclass(frozen=True)
class SrmCheck:
    """Sample-ratio-mismatch check: did each cell get the share of traffic it was planned to?"""

    chi2: float | None
    p_value: float | None
    mismatch: bool
    reason: str = ""


def sample_ratio_mismatch(observed: Sequence[int], planned: Sequence[float],
                          threshold: float = SRM_P_THRESHOLD) -> SrmCheck:
    """Pearson chi-square goodness of fit of observed impressions per cell to the planned
    allocation; a mismatch (p < threshold) means assignment or logging is broken and the
    results should not be trusted."""
    if len(observed) != len(planned) or len(observed) < 2:
        raise ValidationError("`observed` and `planned` need one entry per cell, at least two cells")
    if any(o < 0 for o in observed) or any(w <= 0 for w in planned):
        raise ValidationError("observed counts must be ≥ 0 and planned shares > 0")
    total = sum(observed)
    if total == 0:
        return SrmCheck(None, None, False, "no impressions yet")
    weights = np.asarray(planned, dtype=float) / float(sum(planned))
    expected = weights * total
    chi2 = float(((np.asarray(observed, dtype=float) - expected) ** 2 / expected).sum())
    p_value = chi2_sf(chi2, len(observed) - 1)
    mismatch = p_value < threshold
    shares = ", ".join(numbers.rate(o / total) for o in observed)
    plan = ", ".join(numbers.rate(w) for w in weights)
    reason = (f"traffic split {shares} differs from the planned {plan} (p = {p_value:.2g}); check assignment "
              "and logging before reading results") if mismatch else ""
    return SrmCheck(chi2, p_value, mismatch, reason)


def chi2_sf(x: float, df: int) -> float:
    """Survival function of the chi-square distribution: Q(df/2, x/2), the regularised upper
    incomplete gamma function (series below a+1, continued fraction above; Numerical Recipes)."""
    if df <= 0:
        raise ValidationError("degrees of freedom must be positive")
    if x <= 0:
        return 1.0
    a, z = df / 2.0, x / 2.0
    log_prefix = a * math.log(z) - z - math.lgamma(a)
    if z < a + 1:
        term = total = 1.0 / a
        k = a
        for _ in range(10_000):
            k += 1
            term *= z / k
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = z + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)
