"""Variance reduction by post-stratification: each arm's rate as the weighted mean of its
rates within segments (country, device …), each segment weighted by its share of all the
comparison's impressions. Segments differ in base rate (a TV audience plays more than a
phone one); taking that out of the noise narrows the interval without moving what is
estimated (Miratrix, Sekhon & Yu 2013). The unadjusted result is always shown beside it.

Small segments are pooled into one "other" segment (a rate from a handful of impressions
adds noise, not precision); a segment an arm never saw cannot be weighted for that arm and
is left out of every arm, its share reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from artdash.stats.inference import Arm
from artdash.stats.rates import Proportion

MIN_STRATUM = 30        # impressions per arm below which a segment is pooled into "other"
OTHER = "(other)"


@dataclass(frozen=True)
class Stratified:
    """Post-stratified arms (by the keys given) and what was done to get them."""

    arms: Mapping[int, Arm]
    strata: tuple[str, ...]         # the segments used (after pooling)
    pooled: tuple[str, ...]         # the small segments pooled into "other"
    left_out_share: float           # the share of impressions in segments some arm never saw


def post_stratify(counts: Mapping[int, Mapping[str, Proportion]], arms: Sequence[int]) -> Stratified:
    """``counts[arm][segment] = (successes, impressions)`` → each of ``arms`` post-stratified
    over the segments, weighted by their share of all the arms' impressions."""
    segments = sorted({s for a in arms for s in counts.get(a, {})})
    small = [s for s in segments if any(counts.get(a, {}).get(s, (0, 0))[1] < MIN_STRATUM for a in arms)]
    merged: dict[int, dict[str, Proportion]] = {}
    for a in arms:
        merged[a] = {}
        for s, (k, n) in counts.get(a, {}).items():
            key = OTHER if s in small else s
            merged[a][key] = merged[a].get(key, Proportion(0, 0)) + (k, n)
    strata = sorted({s for a in arms for s in merged[a]})
    total = sum(n for a in arms for _, n in merged[a].values())
    usable = [s for s in strata if all(merged[a].get(s, (0, 0))[1] > 0 for a in arms)]
    kept = sum(n for a in arms for s, (_, n) in merged[a].items() if s in usable)
    weights = {s: sum(merged[a][s][1] for a in arms) / kept for s in usable} if kept else {}
    out: dict[int, Arm] = {}
    for a in arms:
        mean = variance = 0.0
        n_arm = 0
        for s in usable:
            k, n = merged[a][s]
            p = k / n
            mean += weights[s] * p
            variance += weights[s] ** 2 * p * (1 - p) / n
            n_arm += n
        out[a] = Arm(mean, variance, n_arm)
    pooled = tuple(s for s in small if s in segments)
    return Stratified(out, tuple(usable), pooled, 1 - kept / total if total else 0.0)


def variance_reduction(adjusted: float, unadjusted: float) -> float:
    """How much smaller the adjusted variance is: 0.2 means a 20 % smaller variance
    (the interval about 11 % narrower)."""
    return 1 - adjusted / unadjusted if unadjusted > 0 else 0.0
