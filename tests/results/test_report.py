"""Report assembly: numbers come from artdash.stats, shaped the way the Results page shows them."""

import pandas as pd
import pytest

from artdash import stats
from artdash.results import report
from artdash.stats.inference import BAYESIAN, BH, FIXED, Method, compare


def totals(*rows):
    return pd.DataFrame(rows, columns=["variant_id", "title_id", "impressions", "plays", "quality_plays",
                                       "play_seconds"])


@pytest.mark.parametrize("method", [Method(), Method(FIXED), Method(FIXED, BH), Method(BAYESIAN)])
def test_variant_report_rates_lift_under_the_pages_method_and_best(method):
    review = report.variant_report(totals((1, 9, 10_000, 2000, 1500, 0.0), (2, 9, 10_000, 2300, 1800, 0.0),
                                          (3, 9, 10_000, 2000, 1520, 0.0)), control=1, method=method)
    control, better, level = review.row(1), review.row(2), review.row(3)
    assert control.is_control and control.note == "control" and control.lift is None
    expected = compare([(1800, 10_000), (1520, 10_000)], (1500, 10_000), method)
    assert better.lift == pytest.approx(expected[0].relative)
    assert (better.lift_low, better.lift_high) == pytest.approx((expected[0].interval.low, expected[0].interval.high))
    assert better.p_adjusted == expected[0].p_adjusted and better.chance_to_win == expected[0].chance_to_win
    assert better.significant and not level.significant
    assert better.significant == (better.lift_low > 0)                    # one test: the interval says it
    assert sum(r.p_best for r in review.rows) == pytest.approx(1.0)
    assert max(review.rows, key=lambda r: r.p_best).variant_id == 2
    low = stats.wilson_interval(1500, 10_000)
    assert (control.quality.interval.low, control.quality.interval.high) == pytest.approx((low.low, low.high))


def test_the_report_downloads_as_raw_numbers_with_its_method():
    review = report.variant_report(totals((1, 9, 10_000, 2000, 1500, 0.0), (2, 9, 10_000, 2300, 1800, 0.0)),
                                   control=1, confidence=0.9)
    frame = review.frame()
    assert list(frame["variant_id"]) == [1, 2] and list(frame["control"]) == [True, False]
    assert frame.loc[1, "quality_take_rate"] == pytest.approx(0.18) and frame["confidence"].eq(0.9).all()
    assert frame.loc[1, "lift"] == pytest.approx(review.row(2).lift)
    assert (frame["method"] == review.method).all() and "Sequential" in review.method and "Holm" in review.method
    assert (frame["method_kind"] == "sequential").all() and (frame["correction"] == "holm").all()


def test_thin_variants_say_not_enough_data():
    review = report.variant_report(totals((1, 9, 5_000, 900, 700, 0.0), (2, 9, 40, 9, 5, 0.0)), control=1)
    thin = review.row(2)
    assert thin.status == stats.NOT_ENOUGH_DATA and "only 40 impressions" in thin.note
    assert review.thin == (thin,)
    assert report.variant_report(totals(), control=None).empty


def test_daily_bands_and_cumulative():
    daily = pd.DataFrame({"day": [1, 2, 1, 2], "variant_id": [1, 1, 2, 2], "impressions": [100, 100, 50, 0],
                          "plays": [20, 30, 5, 0], "quality_plays": [10, 20, 5, 0], "play_seconds": [0.0] * 4})
    bands = report.daily_bands(daily).set_index(["variant_id", "day"])
    assert bands.loc[(1, 2), "rate"] == 0.2 and bands.loc[(1, 2), "cum rate"] == 0.15
    assert bands.loc[(1, 2), "cum low"] < 0.15 < bands.loc[(1, 2), "cum high"]
    assert pd.isna(bands.loc[(2, 2), "rate"]) and bands.loc[(2, 2), "cum rate"] == 0.1


def test_tag_insights_pool_variants_by_tag():
    frame = report.tag_insights(totals((1, 9, 1000, 300, 200, 0.0), (2, 8, 1000, 100, 50, 0.0)),
                                {1: ["visual: dark", "tone: romantic"], 2: ["visual: dark"]})
    rows = frame.set_index("tag")
    assert rows.loc["visual: dark", "impressions"] == 2000 and rows.loc["visual: dark", "quality plays"] == 250
    assert rows.loc["tone: romantic", "quality take rate"] == 0.2 and rows.loc["visual: dark", "variants"] == 2


def test_verdict_names_a_clear_winner_and_the_significantly_worse():
    review = report.variant_report(totals((1, 9, 10_000, 2000, 1500, 0.0), (2, 9, 10_000, 2600, 2100, 0.0),
                                          (3, 9, 10_000, 1200, 900, 0.0), (4, 9, 10_000, 2000, 1510, 0.0)),
                                   control=1)
    active = {1: "active", 2: "active", 3: "active", 4: "active"}
    assert report.verdict(review, pick=1, statuses=active) == report.Verdict(winner=2, weak=(3,))
    # Already the pick: nothing to promote. Retired already, or the pick itself: not proposed.
    assert report.verdict(review, pick=2, statuses=active).winner is None
    assert report.verdict(review, pick=1, statuses=active | {3: "retired"}).weak == ()
    assert report.verdict(review, pick=3, statuses=active).weak == ()
    # No clear winner when the evidence is thin.
    thin = report.variant_report(totals((1, 9, 400, 80, 60, 0.0), (2, 9, 400, 90, 70, 0.0)), control=1)
    assert report.verdict(thin, pick=1, statuses={1: "active", 2: "active"}) == report.Verdict(None, ())


def test_post_stratified_lifts_sit_beside_the_unadjusted_under_the_same_method():
    review = report.variant_report(totals((1, 9, 10_000, 2000, 1500, 0.0), (2, 9, 10_000, 2300, 1800, 0.0)),
                                   control=1, method=Method(FIXED))
    one_segment = pd.DataFrame({"segment": ["tv", "tv"], "variant_id": [1, 2], "impressions": [10_000, 10_000],
                                "plays": [2000, 2300], "quality_plays": [1500, 1800], "play_seconds": [0.0, 0.0]})
    adjusted = report.post_stratified(review, one_segment)
    row = adjusted.table.iloc[0]
    # one segment: nothing to take out of the noise, the same lift and interval
    assert row["adjusted lift"] == pytest.approx(row["lift"]) and row["adjusted low"] == pytest.approx(row["lift low"])
    assert row["variance reduction"] == pytest.approx(0.0, abs=1e-9) and adjusted.strata == ("tv",)
