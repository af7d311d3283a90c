"""Statistics pinned against independent references (scipy, statsmodels) to 5+ decimals."""

import math

import pytest
from scipy import integrate, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from artdash import stats as s
from artdash.errors import ValidationError


@pytest.mark.parametrize("successes, trials", [(0, 10), (1, 10), (37, 1000), (500, 1000), (999, 1000),
                                               (1200, 250_000), (10, 10)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(successes, trials, confidence):
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    interval = s.wilson_interval(successes, trials, confidence)
    assert interval.low == pytest.approx(low, abs=1e-9)
    assert interval.high == pytest.approx(high, abs=1e-9)


def test_rate_estimate_states():
    assert s.rate_estimate(0, 0).status == s.NO_DATA and s.rate_estimate(0, 0).rate is None
    few = s.rate_estimate(3, 40)
    assert few.status == s.NOT_ENOUGH_DATA and "only 40 impressions" in few.reason
    ok = s.rate_estimate(120, 1000)
    assert ok.status == s.OK and ok.rate == 0.12 and ok.interval.contains(0.12)


@pytest.mark.parametrize("bad", [(-1, 10), (11, 10), (1, -5)])
def test_impossible_counts_are_refused(bad):
    with pytest.raises(ValidationError):
        s.rate_estimate(*bad)


@pytest.mark.parametrize("treatment, control", [((130, 1000), (100, 1000)), ((2_100, 50_000), (2_000, 50_000)),
                                                ((45, 900), (60, 1100))])
def test_lift_interval_matches_statsmodels_log_ratio(treatment, control):
    low, high = confint_proportions_2indep(treatment[0], treatment[1], control[0], control[1],
                                           method="log", compare="ratio", alpha=0.05)
    estimate = s.lift(treatment, control)
    assert estimate.status == s.OK
    assert estimate.relative == pytest.approx((treatment[0] / treatment[1]) / (control[0] / control[1]) - 1)
    assert estimate.interval.low == pytest.approx(low - 1, abs=1e-7)
    assert estimate.interval.high == pytest.approx(high - 1, abs=1e-7)
    _, p_value = proportions_ztest([treatment[0], control[0]], [treatment[1], control[1]])
    assert estimate.p_value == pytest.approx(p_value, abs=1e-9)


def test_lift_degenerate_cases_say_why():
    assert s.lift((0, 0), (10, 100)).status == s.NO_DATA
    assert "per arm" in s.lift((5, 50), (10, 1000)).reason
    assert "control has no plays" in s.lift((5, 1000), (0, 1000)).reason
    few = s.lift((3, 1000), (4, 1000))
    assert few.interval is None and few.p_value is not None and "no interval" in few.reason
    assert s.lift((0, 1000), (0, 1000)).status == s.NOT_ENOUGH_DATA


def test_holm_matches_statsmodels():
    p_values = [0.01, 0.04, 0.03, 0.005, 0.20]
    _, reference, _, _ = multipletests(p_values, method="holm")
    assert s.holm_adjust(p_values) == pytest.approx(list(reference), abs=1e-12)
    assert s.holm_adjust([0.02, None, 0.04]) == pytest.approx([0.04, None, 0.04])
    assert s.holm_adjust([]) == []


def test_probability_to_be_best_matches_the_exact_two_arm_integral():
    a, b = (120, 1000), (100, 1000)
    alpha_a, beta_a = 1 + a[0], 1 + a[1] - a[0]
    alpha_b, beta_b = 1 + b[0], 1 + b[1] - b[0]
    # P(A > B) = ∫ f_A(x) F_B(x) dx, computed independently by quadrature.
    exact, _ = integrate.quad(lambda x: stats.beta.pdf(x, alpha_a, beta_a) * stats.beta.cdf(x, alpha_b, beta_b),
                              0, 1, points=[0.1, 0.12], limit=200)
    p_best = s.probability_to_be_best([a, b], n_draws=400_000, seed=1)
    assert p_best[0] == pytest.approx(exact, abs=0.003)  # Monte Carlo error ~ 0.0007 at 400k draws
    assert sum(p_best) == pytest.approx(1.0)
    assert p_best == s.probability_to_be_best([a, b], n_draws=400_000, seed=1)  # seeded


def test_probability_to_be_best_three_equal_arms_is_a_third_each():
    p_best = s.probability_to_be_best([(50, 500)] * 3, n_draws=300_000, seed=2)
    assert p_best == pytest.approx([1 / 3] * 3, abs=0.005)


@pytest.mark.parametrize("observed, planned", [([5000, 5000], [1, 1]), ([5100, 4900], [0.5, 0.5]),
                                               ([10_000, 9_400, 10_100], [1, 1, 1]), ([820, 180], [0.8, 0.2])])
def test_srm_matches_scipy_chisquare(observed, planned):
    total = sum(observed)
    expected = [w / sum(planned) * total for w in planned]
    reference = stats.chisquare(observed, expected)
    check = s.sample_ratio_mismatch(observed, planned)
    assert check.chi2 == pytest.approx(reference.statistic, rel=1e-12)
    assert check.p_value == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-15)
    assert check.mismatch == (reference.pvalue < 0.001)


def test_srm_flags_a_broken_split_and_explains_it():
    check = s.sample_ratio_mismatch([10_000, 9_400], [1, 1])
    assert check.mismatch and "differs from the planned 50.00%, 50.00%" in check.reason
    assert not s.sample_ratio_mismatch([0, 0], [1, 1]).mismatch


@pytest.mark.parametrize("x, df", [(0.5, 1), (3.84, 1), (10.0, 2), (25.0, 4), (100.0, 9), (1e-6, 3), (400.0, 3)])
def test_chi2_sf_matches_scipy(x, df):
    assert s.chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=1e-9, abs=1e-300)


def test_confidence_must_be_a_probability():
    with pytest.raises(ValidationError, match="confidence"):
        s.wilson_interval(1, 10, confidence=95)
    assert math.isclose(s.two_sided_z(0.95), 1.959963984540054)


def test_detectable_lift_is_detected_with_the_stated_power():
    import numpy as np

    control, n = (1000, 10_000), 10_000
    mde = s.detectable_lift(control, n)
    # By hand: (1.96 + 0.8416) · sqrt(0.1 · 0.9 · (1/10000 + 1/10000)) / 0.1
    assert mde == pytest.approx((1.959964 + 0.841621) * (0.09 * 2e-4) ** 0.5 / 0.1, rel=1e-4)
    # A true lift of that size is found significant about 80 % of the time.
    rng = np.random.default_rng(0)
    c = rng.binomial(n, 0.1, 4000)
    t = rng.binomial(n, 0.1 * (1 + mde), 4000)
    found = sum(s.lift((int(a), n), (int(b), n)).p_value < 0.05 for a, b in zip(t, c))
    assert 0.76 <= found / 4000 <= 0.84
    assert s.detectable_lift(control, 40_000) < mde  # more impressions, smaller detectable lift
    assert s.detectable_lift((0, 500), n) is None and s.detectable_lift((0, 0), n) is None


def test_probability_to_be_best_by_quadrature_is_the_exact_integral():
    a, b = (120, 1000), (100, 1000)
    exact, _ = integrate.quad(lambda x: stats.beta.pdf(x, 121, 881) * stats.beta.cdf(x, 101, 901), 0, 1,
                              points=[0.1, 0.12], limit=200)
    p_best = s.probability_to_be_best([a, b])
    assert p_best[0] == pytest.approx(exact, abs=1e-6) and sum(p_best) == pytest.approx(1.0)
    assert s.probability_to_be_best([(50, 500)] * 3) == pytest.approx([1 / 3] * 3, abs=1e-6)
    eight = [(500 + 7 * i, 10_000) for i in range(8)]
    assert s.probability_to_be_best(eight) == pytest.approx(s.probability_to_be_best(eight, n_draws=400_000), abs=0.005)
    assert s.probability_to_be_best([(5, 10)]) == [1.0]


def test_counts_travel_as_a_sufficient_statistic_that_adds_and_subtracts():
    """As gbstats' ProportionStatistic: a segment's counts plus another's, everyone's minus one arm's."""
    from artdash.stats import Proportion

    a, b = Proportion(3, 100), Proportion(7, 50)
    assert a + b == Proportion(10, 150) and (a + b) - b == a and (a + (1, 10)) == Proportion(4, 110)
    assert Proportion.total([a, b, (0, 50)]) == Proportion(10, 200) and Proportion.total([]) == Proportion(0, 0)
    successes, trials = a                                    # still unpacks as (s, n)
    assert (successes, trials) == (3, 100) and a.rate == 0.03 and math.isnan(Proportion(0, 0).rate)
    assert s.lift(a, b) == s.lift((3, 100), (7, 50))          # every function takes it
