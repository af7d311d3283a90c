"""What a promotion was expected to earn: each source's estimate of the promoted policy's
quality take rate (quality plays per impression) with its interval, kept with the promotion.

Three sources can stand behind a promotion — the lab's simulation of the policy (a saved run's
summary), an offline evaluation on a log (the doubly robust estimate when it was given, else
SNIPS, else IPS) and the shadow readout on live traffic — and the calibration history
(:mod:`artdash.serve.calibration`) sets each beside what came true once the policy served.

    >>> lab_estimates(run, "linucb")          # from a saved run: its lab and offline estimates
    >>> offline_estimate(table, "linucb", "the live log, 12 May – 30 May")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from artdash.db.models import PromotionEstimate as EstimateRow

if TYPE_CHECKING:
    import pandas as pd  # the frames these read come from the lab, which has pandas loaded

SOURCES = ("lab", "offline", "shadow")
SOURCE_LABELS = {"lab": "lab (simulated)", "offline": "offline (on a log)", "shadow": "shadow (live traffic)"}
OFFLINE_PREFERENCE = ("DR", "SNIPS", "IPS")     # the estimator a promotion's offline estimate is taken from


@dataclass(frozen=True)
class Estimate:
    """One source's estimate of a policy's quality take rate, with its interval (None: not
    given), the number of impressions or decisions behind it and where it came from."""

    source: str
    value: float
    low: float | None
    high: float | None
    sample: int
    detail: str

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"an estimate's source is one of {SOURCES}")
        if not math.isfinite(self.value):
            raise ValueError("an estimate's value must be a number")

    def covers(self, value: float) -> bool | None:
        """Whether the interval holds ``value`` (None: no interval)."""
        if self.low is None or self.high is None:
            return None
        return bool(self.low <= value <= self.high)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def summary_estimate(summary: pd.DataFrame, policy: str, detail: str) -> Estimate | None:
    """The lab's estimate of ``policy`` from a run's summary (None: the run did not run it)."""
    if summary.empty or "policy" not in summary:
        return None
    rows = summary[summary["policy"] == policy]
    if rows.empty or _number(rows["quality take rate"].iloc[0]) is None:
        return None
    row = rows.iloc[0]
    return Estimate("lab", float(row["quality take rate"]), _number(row.get("quality low")),
                    _number(row.get("quality high")), int(row.get("impressions", 0) or 0), detail)


def offline_estimate(table: pd.DataFrame | None, policy: str, where: str) -> Estimate | None:
    """The offline estimate of ``policy`` from an offline evaluation's table — doubly robust
    when it gave one, else SNIPS, else IPS (None: every estimate of it was withheld)."""
    if table is None or table.empty:
        return None
    rows = table[table["policy"] == policy]
    if "as_served" in rows:
        rows = rows[rows["as_served"].isna()]      # the policy as retrained on the log, not the stored version
    for estimator in OFFLINE_PREFERENCE:
        found = rows[rows["estimator"] == estimator]
        if found.empty or _number(found["value"].iloc[0]) is None:
            continue
        row = found.iloc[0]
        sample = _number(row.get("effective sample"))
        return Estimate("offline", float(row["value"]), _number(row.get("low")), _number(row.get("high")),
                        int(sample) if sample is not None else 0, f"{estimator} on {where}"[:300])
    return None


def lab_estimates(run, policy: str) -> list[Estimate]:
    """A saved lab run's estimates of ``policy``: its simulated take rate and, when the run was
    evaluated offline, the offline estimate on its uniform log."""
    found = [summary_estimate(run.summary, policy, f"lab run {run.title}"[:300]),
             offline_estimate(run.offline, policy, f"lab run #{run.id}'s uniform log")]
    return [e for e in found if e is not None]


def record(session: Session, promotion_id: int, estimates: Sequence[Estimate]) -> None:
    """Keep ``estimates`` with promotion ``promotion_id`` (one per source: the first given wins)."""
    seen: set[str] = set()
    for e in estimates:
        if e.source in seen:
            continue
        seen.add(e.source)
        session.add(EstimateRow(promotion_id=promotion_id, source=e.source, value=e.value, low=e.low, high=e.high,
                                sample=max(int(e.sample), 0), detail=e.detail[:300]))
    session.flush()


def recorded(session: Session) -> dict[int, list[Estimate]]:
    """Every promotion's recorded estimates, by promotion id, in the order of :data:`SOURCES`."""
    out: dict[int, list[Estimate]] = {}
    for row in session.scalars(select(EstimateRow).order_by(EstimateRow.promotion_id, EstimateRow.id)):
        out.setdefault(row.promotion_id, []).append(
            Estimate(row.source, row.value, row.low, row.high, row.sample, row.detail))
    for items in out.values():
        items.sort(key=lambda e: SOURCES.index(e.source))
    return out


__all__ = ["OFFLINE_PREFERENCE", "SOURCES", "SOURCE_LABELS", "Estimate", "lab_estimates", "offline_estimate",
           "record", "recorded", "summary_estimate"]
