"""Turn rollup sums into what a reviewer reads: rates with intervals, lift against a control
with Holm-adjusted significance, probability to be best, daily bands, tag insights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from artdash import stats


def variant_report(totals: pd.DataFrame, control: int | None, confidence: float = 0.95,
                   min_impressions: int = stats.MIN_IMPRESSIONS, seed: int = 0) -> pd.DataFrame:
    """One row per variant with counts, take rate and quality take rate (Wilson intervals),
    relative lift of the quality take rate over ``control`` (log-ratio interval, pooled
    z-test, Holm-adjusted across the variants) and the probability of being best."""
    if totals.empty:
        return pd.DataFrame()
    rows = []
    control_row = totals[totals["variant_id"] == control]
    control_counts = ((int(control_row["quality_plays"].iloc[0]), int(control_row["impressions"].iloc[0]))
                      if len(control_row) else None)
    for t in totals.itertuples(index=False):
        take = stats.rate_estimate(int(t.plays), int(t.impressions), confidence, min_impressions)
        quality = stats.rate_estimate(int(t.quality_plays), int(t.impressions), confidence, min_impressions)
        row = {
            "variant_id": int(t.variant_id), "impressions": int(t.impressions), "plays": int(t.plays),
            "take rate": take.rate, "take low": take.interval.low, "take high": take.interval.high,
            "quality plays": int(t.quality_plays), "quality take rate": quality.rate,
            "quality low": quality.interval.low, "quality high": quality.interval.high,
            "lift": None, "lift low": None, "lift high": None, "p": None, "detectable lift": None,
            "status": quality.status,
            "note": quality.reason,
        }
        if control_counts is not None and int(t.variant_id) != control:
            lift = stats.lift((int(t.quality_plays), int(t.impressions)), control_counts, confidence, min_impressions)
            row.update({"lift": lift.relative, "p": lift.p_value,
                        "detectable lift": stats.detectable_lift(control_counts, int(t.impressions), confidence)})
            if lift.interval is not None:
                row.update({"lift low": lift.interval.low, "lift high": lift.interval.high})
            if lift.status != stats.OK and not row["note"]:
                row["note"] = lift.reason
        elif int(t.variant_id) == control:
            row["note"] = "control"
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["p (Holm)"] = stats.holm_adjust([None if pd.isna(p) else float(p) for p in frame["p"]])
    alpha = 1 - confidence
    frame["significant"] = [bool(p is not None and not pd.isna(p) and p < alpha) for p in frame["p (Holm)"]]
    frame["P(best)"] = stats.probability_to_be_best(
        list(zip(frame["quality plays"].astype(int), frame["impressions"].astype(int))), seed=seed)
    return frame


WINNER_P_BEST = 0.95


@dataclass(frozen=True)
class Verdict:
    """What a review supports doing: the variant to make the editor's pick (a clear winner
    over the control) and the active variants significantly worse than the control."""

    winner: int | None
    weak: tuple[int, ...]


def verdict(table: pd.DataFrame, control: int, pick: int | None, statuses: Mapping[int, str]) -> Verdict:
    """From :func:`variant_report`'s table. A winner has a significant positive lift over the
    control and P(best) ≥ 95 %, is active and is not already the pick; weak variants have a
    significant negative lift and are active (the editor's pick is never proposed for
    retirement: choose another pick first)."""
    if table.empty:
        return Verdict(None, ())
    lift = pd.to_numeric(table["lift"], errors="coerce")
    active = table["variant_id"].map(lambda v: statuses.get(int(v)) == "active")
    better = table[table["significant"] & (lift > 0) & (table["P(best)"] >= WINNER_P_BEST) & active]
    winner = int(better["variant_id"].iloc[0]) if len(better) == 1 else None
    if winner == pick:
        winner = None
    worse = table[table["significant"] & (lift < 0) & active & (table["variant_id"] != pick)]
    return Verdict(winner, tuple(int(v) for v in worse["variant_id"]))


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
    rows: dict[str, list[int]] = {}
    for t in totals.itertuples(index=False):
        for tag in variant_tags.get(int(t.variant_id), []):
            agg = rows.setdefault(tag, [0, 0, 0])
            agg[0] += int(t.impressions)
            agg[1] += int(t.quality_plays)
            agg[2] += 1
    out = []
    for tag, (n, q, n_variants) in sorted(rows.items()):
        estimate = stats.rate_estimate(q, n, confidence, min_impressions)
        out.append({"tag": tag, "variants": n_variants, "impressions": n, "quality plays": q,
                    "quality take rate": estimate.rate, "low": estimate.interval.low,
                    "high": estimate.interval.high, "status": estimate.status})
    return pd.DataFrame(out)


def daily_trend(daily: pd.DataFrame) -> dict[int, list[float]]:
    """Each variant's quality take rate per day, in day order (the Results table's sparkline)."""
    if daily.empty:
        return {}
    rates = daily.assign(rate=daily["quality_plays"] / daily["impressions"].where(daily["impressions"] > 0))
    return {int(v): [round(float(r), 4) for r in rows.sort_values("day")["rate"].fillna(0.0)]
            for v, rows in rates.groupby("variant_id")}


def segment_rates(by_segment: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per (segment, variant): the quality take rate with its Wilson interval (``rate``, ``low``,
    ``high``), from :func:`artdash.results.queries.segment_totals`."""
    est = [stats.rate_estimate(int(q), int(n), confidence)
           for q, n in zip(by_segment["quality_plays"], by_segment["impressions"])]
    return by_segment.assign(rate=[e.rate for e in est], low=[e.interval.low for e in est],
                             high=[e.interval.high for e in est])
