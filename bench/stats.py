"""Benchmark: a full A/B readout (issue 15) from the rollups of a 10M-impression log.

Setup (not timed): the rollups such a log has for one title — 8 variants × 30 days, and 10
segments × 8 variants — drawn from a 10M-impression simulation (a 5 % quality take rate,
variants within ±15 % of the control, segments with different base rates).

Timed (median of 50), in the same run:
- the readout: the variant report under each method (sequential with Holm, fixed horizon with
  Benjamini–Hochberg, Bayesian), the daily and cumulative bands, post-stratification by the
  10 segments under the page's method, and the sample-ratio check. Target ≤ 50 ms.
- the comparisons alone (7 variants against the control, three methods) by artdash.stats and by
  gbstats 0.8.0 on the same sufficient statistics (TwoSidedTTest, SequentialTwoSidedTTest,
  EffectBayesianABTest). Target ≥ 10× gbstats.

Reading the rollups from the results database is measured by bench/results.py.

Usage: python bench/stats.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import write_summary  # noqa: E402

from artdash import stats  # noqa: E402
from artdash.results import report  # noqa: E402
from artdash.stats.inference import BAYESIAN, BH, FIXED, HOLM, SEQUENTIAL, Method, compare  # noqa: E402

N_IMPRESSIONS, VARIANTS, DAYS, SEGMENTS = 10_000_000, 8, 30, 10
REPEATS = 50


def rollups(rng) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(totals, daily, by segment) for one title of a 10M-impression log."""
    lift = np.concatenate([[0.0], rng.uniform(-0.15, 0.15, VARIANTS - 1)])
    base = rng.uniform(0.02, 0.09, SEGMENTS)
    mix = rng.dirichlet(np.ones(SEGMENTS) * 3)
    per = N_IMPRESSIONS / (VARIANTS * DAYS)
    daily_rows, segment_rows = [], []
    seg_counts = np.zeros((VARIANTS, SEGMENTS, 2))
    for v in range(VARIANTS):
        for d in range(DAYS):
            n = rng.multinomial(int(per), mix)
            q = rng.binomial(n, np.clip(base * (1 + lift[v]), 0, 1))
            seg_counts[v, :, 0] += n
            seg_counts[v, :, 1] += q
            daily_rows.append({"day": 20_000 + d, "variant_id": v + 1, "impressions": int(n.sum()),
                               "plays": int(q.sum() * 2), "quality_plays": int(q.sum()), "play_seconds": 0.0})
    for v in range(VARIANTS):
        for s in range(SEGMENTS):
            n, q = seg_counts[v, s]
            segment_rows.append({"segment": f"s{s}", "variant_id": v + 1, "impressions": int(n), "plays": int(q * 2),
                                 "quality_plays": int(q), "play_seconds": 0.0})
    daily = pd.DataFrame(daily_rows)
    totals = daily.groupby("variant_id", as_index=False)[["impressions", "plays", "quality_plays", "play_seconds"]].sum()
    totals["title_id"] = 1
    return totals, daily, pd.DataFrame(segment_rows)


def readout(totals: pd.DataFrame, daily: pd.DataFrame, by_segment: pd.DataFrame) -> None:
    reviews = [report.variant_report(totals, 1, 0.95, method=m)
               for m in (Method(SEQUENTIAL, HOLM), Method(FIXED, BH), Method(BAYESIAN))]
    report.daily_bands(daily, 0.95)
    report.post_stratified(reviews[0], by_segment)
    stats.sample_ratio_mismatch(totals["impressions"].tolist(), [1.0] * len(totals))


def ours(arms, control) -> None:
    for kind in (FIXED, SEQUENTIAL, BAYESIAN):
        compare(arms, control, Method(kind, "none"))


def theirs(arms, control) -> None:
    from gbstats.bayesian.tests import EffectBayesianABTest
    from gbstats.frequentist.tests import SequentialTwoSidedTTest, TwoSidedTTest
    from gbstats.models.statistics import ProportionStatistic

    c = ProportionStatistic(sum=control[0], n=control[1])
    for s, n in arms:
        t = ProportionStatistic(sum=s, n=n)
        TwoSidedTTest(c, t).compute_result()
        SequentialTwoSidedTTest(c, t).compute_result()
        EffectBayesianABTest(c, t).compute_result()


def timed(fn, *args) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(15)
    totals, daily, by_segment = rollups(rng)
    readout(totals, daily, by_segment)                  # warm (imports, scipy's first calls)
    full = timed(readout, totals, daily, by_segment)
    rows = list(zip(totals["quality_plays"].astype(int), totals["impressions"].astype(int)))
    control, arms = rows[0], rows[1:]
    ours(arms, control)
    theirs(arms, control)
    ours_s, theirs_s = timed(ours, arms, control), timed(theirs, arms, control)
    write_summary("stats", {
        "impressions": int(totals["impressions"].sum()), "variants": VARIANTS, "days": DAYS, "segments": SEGMENTS,
        "readout_ms_median": round(full * 1000, 2), "target_readout_ms": 50,
        "comparisons_ms_median": round(ours_s * 1000, 3), "gbstats_ms_median": round(theirs_s * 1000, 3),
        "speedup_vs_gbstats": round(theirs_s / ours_s, 1), "target_speedup": 10,
        "date": time.strftime("%Y-%m-%d")})


if __name__ == "__main__":
    main()
