"""One inference per comparison: the interval, the p-value (or chance to win) and the verdict
of a variant against the control come from one method, chosen once per page.

The effect is the relative lift of the quality take rate, ``p_t / p_c − 1``, estimated with its
delta-method variance ``v = p_t(1−p_t)/(p_c² n_t) + p_c(1−p_c) p_t²/(p_c⁴ n_c)`` — as GrowthBook's
engine (gbstats) does, which the tests check it against.

- **Fixed horizon** (``fixed``): Welch's t-test; the interval is ``d ± t·√v``, the p-value
  the two-sided t tail. Valid when the result is read once, at the planned end.
- **Sequential** (``sequential``): asymptotic confidence sequences (Waudby-Smith et al. 2023,
  eq. 9 and 155, as GrowthBook): the interval and p-value hold at every look at once, so a
  reviewer can look daily; the price is a wider interval.
- **Bayesian** (``bayesian``): a Gaussian prior on the lift (flat by default, or proper with a
  mean and a standard deviation), a normal posterior; the credible interval, the chance to
  beat the control and the risk (expected loss) of choosing either arm.

Across several variants the frequentist p-values are adjusted (Holm, or Benjamini–Hochberg);
each interval is then drawn at the level that matches its adjusted p-value (``α·p/p_adj``, as
GrowthBook does), so a lift is significant exactly when its interval excludes zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from scipy.special import stdtr, stdtrit

from artdash.errors import ValidationError
from artdash.stats.rates import (
    MIN_IMPRESSIONS,
    NO_DATA,
    NOT_ENOUGH_DATA,
    OK,
    Interval,
    Proportion,
    _check_counts,
)

FIXED, SEQUENTIAL, BAYESIAN = "fixed", "sequential", "bayesian"
METHODS = (SEQUENTIAL, FIXED, BAYESIAN)
HOLM, BH, NO_CORRECTION = "holm", "bh", "none"
CORRECTIONS = (HOLM, BH, NO_CORRECTION)
NO_PLAYS_YET = "the variant has no plays yet: the lift cannot be estimated"
DEFAULT_TUNING = 5000.0        # the sample size at which the confidence sequence is tightest (GrowthBook's default)
_N = NormalDist()


@dataclass(frozen=True)
class Method:
    """How a page compares variants: ``kind`` (sequential, fixed or bayesian), the correction
    across comparisons (frequentist), the sequential tuning and the Bayesian prior on the lift
    (``prior_sd`` None: flat)."""

    kind: str = SEQUENTIAL
    correction: str = HOLM
    tuning: float = DEFAULT_TUNING
    prior_mean: float = 0.0
    prior_sd: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in METHODS:
            raise ValidationError(f"unknown method {self.kind!r}; one of {', '.join(METHODS)}")
        if self.correction not in CORRECTIONS:
            raise ValidationError(f"unknown correction {self.correction!r}; one of {', '.join(CORRECTIONS)}")
        if not self.tuning > 0:
            raise ValidationError("the sequential tuning parameter must be more than 0")
        if self.prior_sd is not None and not self.prior_sd > 0:
            raise ValidationError("a proper prior needs a standard deviation above 0 (or none: flat)")

    @property
    def label(self) -> str:
        """The method's short name, as the page shows it."""
        return {SEQUENTIAL: "Sequential", FIXED: "Fixed horizon", BAYESIAN: "Bayesian"}[self.kind]

    def describe(self, confidence: float) -> str:
        """One line naming the method, its level and its adjustments (page and CSV)."""
        level = f"{confidence:.0%}"
        if self.kind == BAYESIAN:
            prior = ("flat prior" if self.prior_sd is None
                     else f"prior on the lift N({self.prior_mean:+.0%}, {self.prior_sd:.0%}²)")
            return (f"Bayesian: normal posterior on the relative lift ({prior}), {level} credible intervals, chance "
                    "to beat the control and risk (expected loss); no multiple-comparison adjustment")
        correction = {HOLM: "Holm-adjusted", BH: "Benjamini–Hochberg-adjusted", NO_CORRECTION: "unadjusted"}[
            self.correction]
        if self.kind == SEQUENTIAL:
            return (f"Sequential: asymptotic confidence sequences on the relative lift (Waudby-Smith et al. 2023, "
                    f"tuning {self.tuning:,.0f}), {level}, {correction} — valid at every look")
        return f"Fixed horizon: Welch t-test on the relative lift, {level}, {correction} — valid for one look"


@dataclass(frozen=True)
class Comparison:
    """A variant against the control under one method."""

    method: str
    relative: float | None
    interval: Interval | None
    p_value: float | None = None        # frequentist, before adjustment
    p_adjusted: float | None = None     # frequentist, after the page's correction
    chance_to_win: float | None = None  # Bayesian: P(lift > 0)
    risk_control: float | None = None   # Bayesian: expected loss (relative) of keeping the control
    risk_variant: float | None = None   # … and of choosing the variant
    significant: bool = False
    std_error: float | None = None
    status: str = OK
    reason: str = ""


@dataclass(frozen=True)
class Arm:
    """One arm's estimate of its rate: the mean, the variance of that mean, and its units (a
    plain rate: p and p(1−p)/n; post-stratified or CUPED-adjusted: theirs)."""

    mean: float
    variance: float
    n: int
    unadjusted: float | None = None      # CUPED: the mean before adjustment (what a lift is relative to)

    @property
    def base(self) -> float:
        """The mean a relative lift is expressed against."""
        return self.mean if self.unadjusted is None else self.unadjusted

    @staticmethod
    def of(successes: int, trials: int) -> Arm:
        """The arm of a plain rate."""
        p = successes / trials
        return Arm(p, p * (1 - p) / trials, trials)


def lift_of(treatment: Arm, control: Arm) -> tuple[float, float, float]:
    """The relative lift of ``treatment`` over ``control``, its delta-method variance and the
    Welch–Satterthwaite degrees of freedom."""
    t, c = treatment, control
    effect = (t.mean - c.mean) / c.base
    variance = t.variance / c.base ** 2 + c.variance * t.base ** 2 / c.base ** 4
    den = t.variance ** 2 / max(t.n - 1, 1) + c.variance ** 2 / max(c.n - 1, 1)
    dof = (t.variance + c.variance) ** 2 / den if den > 0 else math.inf
    return effect, variance, dof


def relative_effect(treatment: Proportion, control: Proportion) -> tuple[float, float]:
    """The relative lift ``p_t/p_c − 1`` of two plain rates and its delta-method variance."""
    effect, variance, _ = lift_of(Arm.of(*treatment), Arm.of(*control))
    return effect, variance


def _rho(alpha: float, tuning: float) -> float:
    return math.sqrt((-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning)


def sequential_half_width(variance: float, n_total: int, alpha: float, tuning: float = DEFAULT_TUNING,
                          tuned_for: float | None = None) -> float:
    """Half-width of the asymptotic confidence sequence (eq. 9) at ``n_total`` units, at level
    ``alpha``; the mixture is tuned for ``tuned_for`` (default ``alpha``) — an adjusted level
    keeps the page's tuning, so the interval and the p-value stay one test."""
    rho = _rho(tuned_for or alpha, tuning)
    s2 = variance * n_total
    tr = n_total * rho * rho + 1
    return math.sqrt(s2) * math.sqrt(2 * tr * math.log(math.sqrt(tr) / alpha) / (n_total * rho) ** 2)


def sequential_p_value(effect: float, variance: float, n_total: int, alpha: float,
                       tuning: float = DEFAULT_TUNING) -> float:
    """The always-valid p-value (eq. 155): 1 / the mixture e-value, capped at 1."""
    rho = _rho(alpha, tuning)
    st2 = effect * effect * n_total / variance
    tr = n_total * rho * rho + 1
    log_e = rho * rho * st2 / (2 * tr) - 0.5 * math.log(tr)
    return 1.0 if log_e <= 0 else math.exp(-log_e)


def sequential_width_ratio(variance: float, n_total: int, alpha: float, tuning: float = DEFAULT_TUNING) -> float:
    """How much wider the sequential interval is than the fixed-horizon (normal) one, at ``n_total``."""
    fixed = _N.inv_cdf(1 - alpha / 2) * math.sqrt(variance)
    return sequential_half_width(variance, n_total, alpha, tuning) / fixed


def risks(mean: float, sd: float) -> tuple[float, float]:
    """Expected loss (relative) of keeping the control and of choosing the variant, for a
    normal posterior of the lift: E[max(δ, 0)] and E[max(−δ, 0)]."""
    z = mean / sd
    density, below, above = _N.pdf(z), _N.cdf(-z), _N.cdf(z)
    return mean * above + sd * density, sd * density - mean * below


def adjust(p_values: Sequence[float | None], correction: str) -> list[float | None]:
    """Adjusted p-values (Holm step-down, Benjamini–Hochberg step-up, or unchanged); ``None``
    entries (no test possible) stay ``None`` and do not count as tests."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    for p, _ in indexed:
        if not 0 <= p <= 1:
            raise ValidationError(f"p-values must be in [0, 1] (got {p})")
    out: list[float | None] = [None] * len(p_values)
    m = len(indexed)
    if correction == NO_CORRECTION:
        for p, i in indexed:
            out[i] = p
    elif correction == HOLM:
        running = 0.0
        for rank, (p, i) in enumerate(indexed):
            running = max(running, min(1.0, (m - rank) * p))
            out[i] = running
    elif correction == BH:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            p, i = indexed[rank]
            running = min(running, m * p / (rank + 1))
            out[i] = min(1.0, running)
    else:
        raise ValidationError(f"unknown correction {correction!r}")
    return out


def _checked(treatment: Proportion, control: Proportion, method: str,
             min_trials: int) -> Comparison | None:
    """The comparison's refusal when the counts cannot support one (None: they can)."""
    (s_t, n_t), (s_c, n_c) = treatment, control
    _check_counts(s_t, n_t)
    _check_counts(s_c, n_c)
    if n_t == 0 or n_c == 0:
        return Comparison(method, None, None, status=NO_DATA, reason="an arm has no impressions")
    if n_t < min_trials or n_c < min_trials:
        return Comparison(method, None, None, status=NOT_ENOUGH_DATA,
                          reason=f"needs at least {min_trials} impressions per arm (have {n_t} and {n_c})")
    if s_c == 0:
        return Comparison(method, None, None, status=NOT_ENOUGH_DATA,
                          reason="the control has no plays: a relative lift is undefined")
    if s_t in (0, n_t) and s_c in (0, n_c):
        return Comparison(method, s_t / n_t / (s_c / n_c) - 1, None, status=NOT_ENOUGH_DATA,
                          reason="both arms are all plays or no plays: no variance to judge a difference by")
    return None


def _frequentist(effect: float, variance: float, dof: float, n_total: int, method: Method,
                 alpha: float, tuned_for: float) -> tuple[float, float]:
    """(half-width at level ``alpha``, p-value); a sequential test is tuned for ``tuned_for``."""
    se = math.sqrt(variance)
    if method.kind == SEQUENTIAL:
        return (sequential_half_width(variance, n_total, alpha, method.tuning, tuned_for),
                sequential_p_value(effect, variance, n_total, tuned_for, method.tuning))
    # scipy.special's Student t functions (the ufuncs scipy.stats.t wraps, without its overhead)
    return float(stdtrit(dof, 1 - alpha / 2)) * se, float(2 * stdtr(dof, -abs(effect) / se))


def compare(treatments: Sequence[Proportion], control: Proportion, method: Method,
            confidence: float = 0.95, min_trials: int = MIN_IMPRESSIONS) -> list[Comparison]:
    """Each of ``treatments`` (quality plays, impressions) against ``control`` under ``method``;
    frequentist p-values adjusted across them, each interval at its matching level."""
    out: list[Comparison | None] = []
    pairs: list[tuple[Arm, Arm] | None] = []
    for arm in treatments:
        refused = _checked(arm, control, method.kind, min_trials)
        out.append(refused)
        pairs.append(None if refused is not None else (Arm.of(*arm), Arm.of(*control)))
    return _compare(pairs, out, method, confidence)


def compare_arms(treatments: Sequence[Arm], control: Arm, method: Method, confidence: float = 0.95) -> list[Comparison]:
    """:func:`compare` for arms already estimated (post-stratified)."""
    return compare_pairs([(arm, control) for arm in treatments], method, confidence)


def compare_pairs(pairs: Sequence[tuple[Arm, Arm]], method: Method, confidence: float = 0.95) -> list[Comparison]:
    """(treatment, control) pairs already estimated — CUPED adjusts the control afresh for
    each comparison — compared under ``method``, corrected across the pairs."""
    out: list[Comparison | None] = []
    for arm, control in pairs:
        if control.base <= 0:
            out.append(Comparison(method.kind, None, None, status=NOT_ENOUGH_DATA,
                                  reason="the control has no plays: a relative lift is undefined"))
        elif arm.variance <= 0 and control.variance <= 0:
            out.append(Comparison(method.kind, (arm.mean - control.mean) / control.base, None, status=NOT_ENOUGH_DATA,
                                  reason="no variance to judge a difference by"))
        else:
            out.append(None)
    return _compare([None if o is not None else p for p, o in zip(pairs, out)], out, method, confidence)


def _compare(pairs: Sequence[tuple[Arm, Arm] | None], out: list[Comparison | None], method: Method,
             confidence: float) -> list[Comparison]:
    """Compare each pair not already answered in ``out``; a pair whose lift has no variance
    (the variant's rate is 0) is answered with its condition, never a division by zero."""
    out = list(out)
    if not 0 < confidence < 1:
        raise ValidationError(f"`confidence` must be between 0 and 1 (got {confidence})")
    alpha = 1 - confidence
    parts: list[tuple[float, float, float, int] | None] = []
    for pair in pairs:
        if pair is None:
            parts.append(None)
            continue
        arm, control = pair
        effect, variance, dof = lift_of(arm, control)
        if not 0 < variance < math.inf:
            # the delta method has nothing to go on: the variant's rate is 0 (no plays yet) while
            # the control's is not (gbstats answers such a case with a status too)
            out[len(parts)] = Comparison(method.kind, None, None, status=NOT_ENOUGH_DATA, reason=NO_PLAYS_YET)
            parts.append(None)
            continue
        parts.append((effect, variance, dof, arm.n + control.n))
    if method.kind == BAYESIAN:
        bayes: list[Comparison] = []
        for done, part in zip(out, parts):
            if done is not None or part is None:
                assert done is not None
                bayes.append(done)
            else:
                bayes.append(_bayesian(part[0], part[1], method, alpha))
        return bayes
    p_values: list[float | None] = [None if part is None else _frequentist(*part, method, alpha, alpha)[1]
                                    for part in parts]
    adjusted = adjust(p_values, method.correction)
    results: list[Comparison] = []
    for done, part, p, p_adj in zip(out, parts, p_values, adjusted):
        if done is not None or part is None or p is None or p_adj is None:
            assert done is not None
            results.append(done)
            continue
        effect, variance, dof, n_total = part
        # the interval at the level its adjusted p-value is judged at: excludes 0 ⇔ p_adj < α
        # (the ratio first: p-values of 1e-320 are subnormal, and alpha·p would lose their digits)
        level = alpha * (p / p_adj) if p_adj > 0 else alpha
        half, _ = _frequentist(effect, variance, dof, n_total, method, min(max(level, 1e-300), alpha), alpha)
        results.append(Comparison(method.kind, effect, Interval(effect - half, effect + half), p, p_adj,
                                  significant=p_adj < alpha, std_error=math.sqrt(variance)))
    return results


def _bayesian(effect: float, variance: float, method: Method, alpha: float) -> Comparison:
    if method.prior_sd is None:
        mean, sd = effect, math.sqrt(variance)
    else:
        prior_var = method.prior_sd ** 2
        precision = 1 / variance + 1 / prior_var
        mean, sd = (effect / variance + method.prior_mean / prior_var) / precision, math.sqrt(1 / precision)
    z = _N.inv_cdf(1 - alpha / 2)
    interval = Interval(mean - z * sd, mean + z * sd)
    keep, choose = risks(mean, sd)
    chance = _N.cdf(mean / sd)
    return Comparison(BAYESIAN, mean, interval, chance_to_win=chance, risk_control=keep, risk_variant=choose,
                      significant=interval.low > 0 or interval.high < 0, std_error=sd)
