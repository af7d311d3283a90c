"""Misleading artwork: an image that wins the click but not the watch. Per variant, the
abandonment rate — plays shorter than a threshold (default 2 minutes) over plays — with its
interval, read from the impression log where it lives; and two flags a reviewer should see:

- **clickbait**: its take rate beats the control significantly while its quality take rate
  does not (members press play, then leave);
- **abandoned more**: its abandonment is significantly higher than that of the title's other
  variants together (one-sided two-proportion test on the difference, Holm across the title's
  variants: a difference is defined when the others abandon nothing, a relative lift is not).

    >>> table = abandonment(log, conn, selection)                # per variant
    >>> creative_flags(totals, table, control, method)           # what to look at, in words
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection

from artdash import stats
from artdash.errors import ValidationError
from artdash.results.log import ImpressionLog
from artdash.results.queries import Selection
from artdash.stats import Proportion
from artdash.stats.inference import FIXED, Method, compare

ABANDON_SECONDS = 120.0      # a play shorter than this was abandoned
MAX_ABANDON_SECONDS = 3600.0
CLICKBAIT = "clickbait"
ABANDONED = "abandoned more"


def check_threshold(seconds: float) -> float:
    """The abandonment threshold, or a refusal saying what it may be."""
    if not (0 < float(seconds) <= MAX_ABANDON_SECONDS):
        raise ValidationError(f"the abandonment threshold is in seconds, above 0 and at most {MAX_ABANDON_SECONDS:g} "
                              f"(got {seconds:g})")
    return float(seconds)


def abandonment(log: ImpressionLog, conn: Connection, sel: Selection, seconds: float = ABANDON_SECONDS,
                confidence: float = 0.95, by_title: bool = False) -> pd.DataFrame:
    """Per variant (and title with ``by_title``): plays, plays with a duration, abandoned plays
    (a duration under ``seconds``) and the abandonment rate among timed plays with its Wilson
    interval (``rate``, ``low``, ``high``). Plays without a duration (a click log) are not
    counted as abandoned: they are left out, and a variant with none timed has no rate."""
    seconds = check_threshold(seconds)
    where, params = sel.log_filter(plays_only=True)
    keys = "title_id, variant_id" if by_title else "variant_id"
    frame = log.query(conn, f"SELECT {keys}, COUNT(*) AS plays, "
                            "SUM(CASE WHEN play_seconds > 0 THEN 1 ELSE 0 END) AS timed, "
                            "SUM(CASE WHEN play_seconds > 0 AND play_seconds < ? THEN 1 ELSE 0 END) AS abandoned "
                            f"FROM {{log}} WHERE {where} GROUP BY {keys} ORDER BY {keys}", [seconds, *params])
    for column in ("plays", "timed", "abandoned", "variant_id", *(("title_id",) if by_title else ())):
        frame[column] = pd.to_numeric(frame[column]).fillna(0).astype("int64")
    estimates = [stats.rate_estimate(int(a), int(n), confidence, min_trials=1)
                 for a, n in zip(frame["abandoned"], frame["timed"])]
    return frame.assign(rate=[e.rate if n else None for e, n in zip(estimates, frame["timed"])],
                        low=[e.interval.low if n else None for e, n in zip(estimates, frame["timed"])],
                        high=[e.interval.high if n else None for e, n in zip(estimates, frame["timed"])],
                        seconds=seconds)


@dataclass(frozen=True)
class Flag:
    """One variant a reviewer should look at: which, why (``kind``) and the numbers, in words."""

    variant_id: int
    kind: str
    reason: str
    title_id: int | None = None


def creative_flags(totals: pd.DataFrame, abandon: pd.DataFrame, control: int | None, method: Method | None = None,
                   confidence: float = 0.95) -> list[Flag]:
    """The flags of one title's variants: ``totals`` as :func:`artdash.results.queries.variant_totals`
    gives them, ``abandon`` as :func:`abandonment`, lifts against ``control`` under ``method``
    (default: fixed horizon), abandonment against the title's other variants together."""
    method = method or Method(FIXED)
    flags: list[Flag] = []
    counts = {int(r.variant_id): r for r in totals.itertuples(index=False)}
    if control in counts:
        treated = [v for v in counts if v != control]
        c = counts[control]
        takes = compare([Proportion(int(counts[v].plays), int(counts[v].impressions)) for v in treated],
                        Proportion(int(c.plays), int(c.impressions)), method, confidence)
        quals = compare([Proportion(int(counts[v].quality_plays), int(counts[v].impressions)) for v in treated],
                        Proportion(int(c.quality_plays), int(c.impressions)), method, confidence)
        for v, take, quality in zip(treated, takes, quals):
            wins_click = take.significant and (take.relative or 0) > 0
            wins_watch = quality.significant and (quality.relative or 0) > 0
            if wins_click and not wins_watch and int(counts[v].quality_plays) + int(c.quality_plays) > 0:
                flags.append(Flag(v, CLICKBAIT, f"take rate {_pct(take.relative)} over the control, but its quality "
                                                 f"take rate {_pct(quality.relative)} (not a significant gain): "
                                                 "members press play and leave"))
    timed = {int(r.variant_id): (int(r.abandoned), int(r.timed)) for r in abandon.itertuples(index=False)
             if int(r.timed) > 0}
    if len(timed) >= 2:
        ids = sorted(timed)
        everyone = Proportion.total(timed.values())
        rest = {v: everyone - timed[v] for v in ids}
        p_values = {v: _worse_p(timed[v], rest[v]) for v in ids}
        alpha = 1 - confidence
        for rank, v in enumerate(sorted(ids, key=p_values.__getitem__)):     # Holm, step down
            if p_values[v] > alpha / (len(ids) - rank):
                break
            a, n = timed[v]
            flags.append(Flag(v, ABANDONED, f"{a / n:.1%} of its plays end within the threshold, against "
                                            f"{rest[v][0] / rest[v][1]:.1%} for the title's other images "
                                            f"(p = {p_values[v]:.2g}, Holm-adjusted across its images)"))
    return sorted(flags, key=lambda f: (f.variant_id, f.kind))


def flags_frame(flags: list[Flag], labels: Mapping[int, str] | None = None) -> pd.DataFrame:
    """The flags as a table: variant, flag, why."""
    names = labels or {}
    return pd.DataFrame([{"title_id": f.title_id, "variant_id": f.variant_id,
                          "variant": names.get(f.variant_id, f"#{f.variant_id}"), "flag": f.kind, "why": f.reason}
                         for f in flags], columns=["title_id", "variant_id", "variant", "flag", "why"])


def _worse_p(arm: tuple[int, int], rest: tuple[int, int]) -> float:
    """One-sided p-value that ``arm``'s rate (successes, trials) is above ``rest``'s: the
    two-proportion z-test on the difference (defined when a rate is 0, unlike a relative lift)."""
    (a, n), (b, m) = arm, rest
    pooled = (a + b) / (n + m)
    if not n or not m or pooled in (0.0, 1.0):
        return 1.0
    z = (a / n - b / m) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    return 0.5 * math.erfc(z / math.sqrt(2))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"
