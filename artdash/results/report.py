"""Turn rollup sums into what a reviewer reads: rates with intervals, lift against a control
under one method (sequential, fixed horizon or Bayesian: ``artdash.stats.inference``),
probability to be best, daily bands, tag insights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from artdash import stats
from artdash.results.metric import PLAYS, QUALITY, Metric
from artdash.stats import Proportion
from artdash.stats.adjust import post_stratify, variance_reduction
from artdash.stats.cuped import MemberSums
from artdash.stats.cuped import pair as cuped_pair
from artdash.stats.cuped import unadjusted as cuped_unadjusted
from artdash.stats.inference import (
    BAYESIAN,
    NO_PLAYS_YET,
    Comparison,
    Method,
    compare,
    compare_arms,
    compare_pairs,
)


def rates_method(metric: Metric) -> str:
    """How rates and P(best) are computed, for the method caption."""
    return f"Wilson intervals (rates); P(best) from Beta(1, 1) posteriors on the {metric.rate_name}"


RATES = rates_method(QUALITY)


@dataclass(frozen=True)
class VariantRow:
    """One variant's numbers in a review: counts, take rate and quality take rate (with their
    intervals), its lift over the control under the page's method (relative, with its interval,
    its p-value before and after the correction — or, Bayesian, its chance to beat the control
    and the risk of choosing it), the smallest lift the data could detect, and its probability
    of being best."""

    variant_id: int
    impressions: int
    plays: int
    quality_plays: int
    take: stats.RateEstimate
    quality: stats.RateEstimate
    is_control: bool
    lift: float | None = None
    lift_low: float | None = None
    lift_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    chance_to_win: float | None = None
    risk: float | None = None
    significant: bool = False
    detectable_lift: float | None = None
    lift_se: float | None = None
    p_best: float = 0.0
    note: str = ""
    lift_status: str = stats.OK          # whether its lift against the control could be estimated
    metric: str = QUALITY.key            # the count its lift and P(best) are of

    @property
    def estimate(self) -> stats.RateEstimate:
        """The rate of the review's metric (quality take rate or take rate)."""
        return self.take if self.metric == PLAYS.key else self.quality

    @property
    def successes(self) -> int:
        """The count of the review's metric (quality plays or plays)."""
        return self.plays if self.metric == PLAYS.key else self.quality_plays

    @property
    def status(self) -> str:
        """Whether its rate and its lift can be judged (``ok``) or why not."""
        return self.estimate.status if self.estimate.status != stats.OK else self.lift_status


@dataclass(frozen=True)
class VariantReport:
    """A review of one selection's variants against a control, under one named method."""

    rows: tuple[VariantRow, ...]
    control: int | None
    confidence: float
    inference: Method = Method()
    metric: Metric = QUALITY

    @property
    def method(self) -> str:
        """The methods, named (the page's caption and the CSV's ``method`` column)."""
        return f"{self.inference.describe(self.confidence)}; {rates_method(self.metric)}"

    @property
    def empty(self) -> bool:
        """Whether the selection has no variant with impressions."""
        return not self.rows

    def row(self, variant_id: int) -> VariantRow:
        """The row of ``variant_id``."""
        return next(r for r in self.rows if r.variant_id == variant_id)

    @property
    def thin(self) -> tuple[VariantRow, ...]:
        """Variants with too little data to judge."""
        return tuple(r for r in self.rows if r.status != stats.OK)

    def frame(self) -> pd.DataFrame:
        """The report as raw numbers, one row per variant (what the CSV download holds)."""
        return pd.DataFrame([{
            "variant_id": r.variant_id, "control": r.is_control, "impressions": r.impressions, "plays": r.plays,
            "quality_plays": r.quality_plays, "take_rate": r.take.rate, "take_rate_low": r.take.interval.low,
            "take_rate_high": r.take.interval.high, "quality_take_rate": r.quality.rate,
            "quality_take_rate_low": r.quality.interval.low, "quality_take_rate_high": r.quality.interval.high,
            "lift": r.lift, "lift_low": r.lift_low, "lift_high": r.lift_high, "p_value": r.p_value,
            "p_adjusted": r.p_adjusted, "chance_to_win": r.chance_to_win, "risk": r.risk,
            "significant": r.significant, "detectable_lift": r.detectable_lift,
            "p_best": r.p_best, "confidence": self.confidence, "method_kind": self.inference.kind,
            "correction": "" if self.inference.kind == BAYESIAN else self.inference.correction,
            "metric": self.metric.rate_name, "method": self.method, "note": r.note,
        } for r in self.rows])


def variant_report(totals: pd.DataFrame, control: int | None, confidence: float = 0.95,
                   min_impressions: int = stats.MIN_IMPRESSIONS, seed: int = 0,
                   method: Method | None = None, metric: Metric = QUALITY) -> VariantReport:
    """One row per variant with counts, take rate and quality take rate (Wilson intervals),
    the relative lift of ``metric``'s rate (default: the quality take rate) over ``control``
    under ``method`` (default: sequential, Holm-adjusted across the variants) and the
    probability of being best."""
    method = method or Method()
    key = metric.key
    if totals.empty:
        return VariantReport((), control, confidence, method, metric)
    control_row = totals[totals["variant_id"] == control]
    control_counts = (Proportion(int(control_row[key].iloc[0]), int(control_row["impressions"].iloc[0]))
                      if len(control_row) else None)
    drafts = []
    for t in totals.itertuples(index=False):
        variant_id, n = int(t.variant_id), int(t.impressions)
        take = stats.rate_estimate(int(t.plays), n, confidence, min_impressions)
        quality = stats.rate_estimate(int(t.quality_plays), n, confidence, min_impressions)
        row: dict[str, Any] = {"variant_id": variant_id, "impressions": n, "plays": int(t.plays),
                               "quality_plays": int(t.quality_plays), "take": take, "quality": quality,
                               "is_control": variant_id == control, "metric": key,
                               "note": (take if key == PLAYS.key else quality).reason}
        if variant_id == control:
            row["note"] = "control"
        drafts.append(row)
    treated = [r for r in drafts if control_counts is not None and not r["is_control"]]
    if control_counts is not None and treated:
        found = compare([Proportion(r[key], r["impressions"]) for r in treated], control_counts, method,
                        confidence, min_impressions)
        for r, c in zip(treated, found):
            r.update(lift=c.relative, p_value=c.p_value, p_adjusted=c.p_adjusted, chance_to_win=c.chance_to_win,
                     risk=c.risk_variant, significant=c.significant, lift_se=c.std_error, lift_status=c.status,
                     detectable_lift=stats.detectable_lift(control_counts, r["impressions"], confidence))
            if c.interval is not None:
                r.update(lift_low=c.interval.low, lift_high=c.interval.high)
            if c.reason == NO_PLAYS_YET:
                r["note"] = f"no {metric.count_name} yet for #{r['variant_id']}: the lift cannot be estimated"
            elif c.status != stats.OK and not r["note"]:
                r["note"] = c.reason
    best = stats.probability_to_be_best([Proportion(r[key], r["impressions"]) for r in drafts], seed=seed)
    rows = tuple(VariantRow(**r, p_best=float(b)) for r, b in zip(drafts, best))
    return VariantReport(rows, control, confidence, method, metric)


@dataclass(frozen=True)
class Adjusted:
    """A review's lifts post-stratified by a segment kind, beside the unadjusted ones."""

    table: pd.DataFrame
    strata: tuple[str, ...]
    pooled: tuple[str, ...]
    left_out_share: float

    @property
    def empty(self) -> bool:
        """Whether no variant could be compared."""
        return self.table.empty


def _beside(lift: float | None, low: float | None, high: float | None, significant: bool, se: float | None,
            adjusted: Comparison) -> dict[str, Any]:
    """The unadjusted lift and the adjusted one as the columns of one row, with the variance
    reduction the adjustment achieved."""
    interval = adjusted.interval
    return {"lift": lift, "lift low": low, "lift high": high, "significant": significant,
            "adjusted lift": adjusted.relative, "adjusted low": interval.low if interval else None,
            "adjusted high": interval.high if interval else None, "adjusted significant": adjusted.significant,
            "variance reduction": (variance_reduction(adjusted.std_error ** 2, se ** 2)
                                   if adjusted.std_error is not None and se else None)}


def post_stratified(review: VariantReport, by_segment: pd.DataFrame) -> Adjusted:
    """Each compared variant's lift of the review metric's rate, post-stratified by the segments
    of ``by_segment`` (:func:`artdash.results.queries.segment_totals`), under the review's method
    (corrected across the variants as the review is), with the unadjusted lift beside it."""
    compared = [r for r in review.rows if not r.is_control and r.lift_low is not None]
    if review.control is None or not compared:
        return Adjusted(pd.DataFrame(), (), (), 0.0)
    counts: dict[int, dict[str, Proportion]] = {}
    for row in by_segment.itertuples(index=False):
        counts.setdefault(int(row.variant_id), {})[str(row.segment)] = Proportion(int(getattr(row, review.metric.key)),
                                                                                   int(row.impressions))
    ids = [review.control, *(r.variant_id for r in compared)]
    done = post_stratify(counts, ids)
    found = compare_arms([done.arms[r.variant_id] for r in compared], done.arms[review.control], review.inference,
                         review.confidence)
    rows = [{"variant_id": r.variant_id, **_beside(r.lift, r.lift_low, r.lift_high, r.significant, r.lift_se, c)}
            for r, c in zip(compared, found)]
    return Adjusted(pd.DataFrame(rows), done.strata, done.pooled, done.left_out_share)


def cuped(review: VariantReport, arms: Mapping[int, MemberSums]) -> pd.DataFrame:
    """Each compared variant's lift of quality plays per member, CUPED-adjusted (the control
    adjusted afresh for each comparison), beside the unadjusted per-member lift, under the
    review's method and corrected across the variants."""
    control = arms.get(review.control) if review.control is not None else None
    ids = [r.variant_id for r in review.rows if not r.is_control and r.variant_id in arms]
    if control is None or control.n < 2 or not ids:
        return pd.DataFrame()
    treated = [arms[v] for v in ids if arms[v].n >= 2]
    ids = [v for v in ids if arms[v].n >= 2]
    if not ids:
        return pd.DataFrame()
    adjusted_found = compare_pairs([cuped_pair(t, control) for t in treated], review.inference, review.confidence)
    raw_found = compare_pairs([(cuped_unadjusted(t), cuped_unadjusted(control)) for t in treated], review.inference,
                              review.confidence)
    rows = [{"variant_id": v, "members": t.n, "plays per member": t.y / t.n,
             **_beside(raw.relative, raw.interval.low if raw.interval else None,
                       raw.interval.high if raw.interval else None, raw.significant, raw.std_error, adj)}
            for v, t, adj, raw in zip(ids, treated, adjusted_found, raw_found)]
    return pd.DataFrame(rows)


WINNER_P_BEST = 0.95


@dataclass(frozen=True)
class Verdict:
    """What a review supports doing: the variant to make the editor's pick (a clear winner
    over the control) and the active variants significantly worse than the control."""

    winner: int | None
    weak: tuple[int, ...]


def verdict(review: VariantReport, pick: int | None, statuses: Mapping[int, str]) -> Verdict:
    """From a :func:`variant_report`. A winner has a significant positive lift over the
    control and P(best) ≥ 95 %, is active and is not already the pick; weak variants have a
    significant negative lift and are active (the editor's pick is never proposed for
    retirement: choose another pick first)."""
    active = [r for r in review.rows if statuses.get(r.variant_id) == "active" and r.lift is not None]
    better = [r for r in active if r.significant and r.lift is not None and r.lift > 0 and r.p_best >= WINNER_P_BEST]
    winner = better[0].variant_id if len(better) == 1 else None
    if winner == pick:
        winner = None
    worse = tuple(r.variant_id for r in active
                  if r.significant and r.lift is not None and r.lift < 0 and r.variant_id != pick)
    return Verdict(winner, worse)


def daily_bands(daily: pd.DataFrame, confidence: float = 0.95, metric: str = "quality_plays") -> pd.DataFrame:
    """Per (day, variant): the rate of ``metric`` per impression with a Wilson band, daily and
    cumulative from the first day shown."""
    if daily.empty:
        return daily
    frame = daily.sort_values(["variant_id", "day"]).copy()
    frame["cum_impressions"] = frame.groupby("variant_id")["impressions"].cumsum()
    frame["cum_successes"] = frame.groupby("variant_id")[metric].cumsum()
    for prefix, n_col, s_col in (("", "impressions", metric), ("cum ", "cum_impressions", "cum_successes")):
        bands = [stats.wilson_interval(int(s), int(n), confidence) for s, n in zip(frame[s_col], frame[n_col])]
        frame[f"{prefix}rate"] = np.where(frame[n_col] > 0, frame[s_col] / frame[n_col].clip(lower=1), np.nan)
        frame[f"{prefix}low"] = [b.low for b in bands]
        frame[f"{prefix}high"] = [b.high for b in bands]
    return frame


def tag_insights(totals: pd.DataFrame, variant_tags: Mapping[int, list[str]], confidence: float = 0.95,
                 min_impressions: int = stats.MIN_IMPRESSIONS) -> pd.DataFrame:
    """Quality take rate by variant tag across all titles (a variant counts for each of its tags)."""
    sums: dict[str, Proportion] = {}
    n_variants: dict[str, int] = {}
    for t in totals.itertuples(index=False):
        for tag in variant_tags.get(int(t.variant_id), []):
            sums[tag] = sums.get(tag, Proportion(0, 0)) + (int(t.quality_plays), int(t.impressions))
            n_variants[tag] = n_variants.get(tag, 0) + 1
    out = []
    for tag, (q, n) in sorted(sums.items()):
        estimate = stats.rate_estimate(q, n, confidence, min_impressions)
        out.append({"tag": tag, "variants": n_variants[tag], "impressions": n, "quality plays": q,
                    "quality take rate": estimate.rate, "low": estimate.interval.low,
                    "high": estimate.interval.high, "status": estimate.status})
    return pd.DataFrame(out)


def daily_trend(daily: pd.DataFrame, metric: Metric = QUALITY) -> dict[int, list[float]]:
    """Each variant's rate of ``metric`` per day, in day order (the Results table's sparkline)."""
    if daily.empty:
        return {}
    rates = daily.assign(rate=daily[metric.key] / daily["impressions"].where(daily["impressions"] > 0))
    return {int(v): [round(float(r), 4) for r in rows.sort_values("day")["rate"].fillna(0.0)]
            for v, rows in rates.groupby("variant_id")}


def segment_rates(by_segment: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per (segment, variant): the quality take rate with its Wilson interval (``rate``, ``low``,
    ``high``), from :func:`artdash.results.queries.segment_totals`."""
    est = [stats.rate_estimate(int(q), int(n), confidence)
           for q, n in zip(by_segment["quality_plays"], by_segment["impressions"])]
    return by_segment.assign(rate=[e.rate for e in est], low=[e.interval.low for e in est],
                             high=[e.interval.high for e in est])
