"""Every estimate beside what came true: for each promotion, what the lab, an offline
evaluation and the shadow expected the promoted policy to earn (kept with the promotion,
:mod:`artdash.lab.estimates`) and what it earned once it served — its realised quality take
rate on the live traffic from the promotion to the next change (members not held out, decisions
the promoted policy made), with a member-clustered interval, and the realised lift over the
holdout in the same span (:mod:`artdash.serve.holdout_readout`).

An estimate *covers* when its interval holds the realised rate. Over many promotions, a
source whose intervals cover about as often as they claim (95 %) can be trusted; one that
misses again and again is optimistic (or measures a different world: the lab's simulation).

    >>> history = calibration_history(ws)
    >>> calibration_table(history)            # one row per promotion and source: the CSV
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, select

from artdash.catalog.eligibility import aware
from artdash.db.models import PolicyPromotion
from artdash.lab import estimates as lab_estimates
from artdash.lab.estimates import SOURCE_LABELS, Estimate
from artdash.policy.registry import LABELS
from artdash.results.log import ImpressionLog
from artdash.serve.holdout_readout import MIN_MEMBERS, ArmsRow, arm_sums, arms_row
from artdash.stats import inference, two_sided_z
from artdash.stats.inference import Method
from artdash.workspace import Workspace

METRIC = "quality_plays"


@dataclass(frozen=True)
class Realised:
    """What the promoted policy earned while it served: its quality take rate over the members
    it served (None: too few), the rate's interval, and served against the holdout."""

    rate: float | None
    low: float | None
    high: float | None
    arms: ArmsRow
    closed: bool = False          # the promotion has ended (another one, or a demotion, followed)

    @property
    def members(self) -> int:
        """Members the promoted policy served in the span."""
        return self.arms.served.members

    @property
    def impressions(self) -> int:
        """Impressions the promoted policy served in the span."""
        return int(self.arms.served.n)

    @property
    def note(self) -> str:
        """Why the realised rate is missing, when it is."""
        if self.rate is not None:
            return ""
        if self.members == 0:
            return ("no live traffic while it was promoted" if self.closed else
                    "not served yet: no live traffic since this promotion")
        return f"too few members served yet ({self.members:,}; at least {MIN_MEMBERS})"


@dataclass(frozen=True)
class CalibrationEntry:
    """One promotion: the policy, when it started and stopped serving (None: it still serves),
    what each source expected and what came true."""

    promotion_id: int
    policy: str
    at: datetime
    until: datetime | None
    by: str
    estimates: tuple[Estimate, ...]
    realised: Realised

    @property
    def label(self) -> str:
        """``#id Policy (date)``, as the chart's rows are labelled."""
        return f"#{self.promotion_id} {LABELS.get(self.policy, self.policy)} ({self.at:%Y-%m-%d})"

    def covered(self, estimate: Estimate) -> bool | None:
        """Whether ``estimate``'s interval holds the realised rate (None: nothing to compare yet)."""
        return None if self.realised.rate is None else estimate.covers(self.realised.rate)


def _windows(session) -> list[tuple[PolicyPromotion, datetime | None]]:
    rows = session.scalars(select(PolicyPromotion).order_by(PolicyPromotion.id)).all()
    return [(p, aware(rows[i + 1].at) if i + 1 < len(rows) else None)
            for i, p in enumerate(rows) if p.action == "promote"]


def realised(log: ImpressionLog, conn: Connection, policy: str, since: datetime, until: datetime | None,
             quality_seconds: float, confidence: float = 0.95, method: Method | None = None) -> Realised:
    """What ``policy`` earned on the live traffic from ``since`` up to ``until`` (None: now)."""
    window = (int(aware(since).timestamp()), int(aware(until).timestamp()) if until is not None else None)
    frame, _ = arm_sums(log, conn, quality_seconds, METRIC, window=window, served_policy=policy)
    arms = arms_row(None, frame, method or Method(inference.SEQUENTIAL), confidence)
    arm = arms.served.arm()
    if arm is None:
        return Realised(None, None, None, arms, until is not None)
    mean = float(arm.mean)
    half = two_sided_z(confidence) * float(arm.variance) ** 0.5
    return Realised(mean, max(mean - half, 0.0), min(mean + half, 1.0), arms, until is not None)


def calibration_history(ws: Workspace, confidence: float = 0.95) -> list[CalibrationEntry]:
    """Every promotion, oldest first, with its recorded estimates and what came true since."""
    from artdash.results.service import impression_log

    with ws.session() as s:
        windows = [(p.id, p.policy, aware(p.at), until, p.by) for p, until in _windows(s)]
        expected = lab_estimates.recorded(s)
    log = impression_log(ws)
    out = []
    with ws.results_engine.connect() as conn:
        for promotion_id, policy, at, until, by in windows:
            came = realised(log, conn, policy, at, until, ws.settings.quality_play_seconds, confidence)
            out.append(CalibrationEntry(promotion_id, policy, at, until, by,
                                        tuple(expected.get(promotion_id, ())), came))
    return out


def calibration_table(history: list[CalibrationEntry]) -> pd.DataFrame:
    """One row per promotion and source (a promotion without recorded estimates: one row with
    none), newest promotion first: what the page shows and the CSV holds."""
    rows = []
    for entry in reversed(history):
        came, lift = entry.realised, entry.realised.arms.comparison
        interval = lift.interval if lift is not None else None
        base = {"promotion": entry.promotion_id, "policy": LABELS.get(entry.policy, entry.policy),
                "promoted at": entry.at, "until": entry.until, "by": entry.by}
        outcome = {"realised rate": came.rate, "realised low": came.low, "realised high": came.high,
                   "realised members": came.members, "realised impressions": came.impressions,
                   "lift over holdout": lift.relative if lift is not None else None,
                   "lift low": interval.low if interval is not None else None,
                   "lift high": interval.high if interval is not None else None,
                   "note": came.note or (entry.realised.arms.note if lift is None else "")}
        for e in entry.estimates or (None,):
            covered = entry.covered(e) if e is not None else None
            rows.append({**base, "source": SOURCE_LABELS[e.source] if e else "no estimate recorded",
                         "estimate": e.value if e else None, "estimate low": e.low if e else None,
                         "estimate high": e.high if e else None, "estimate sample": e.sample if e else None,
                         "estimate from": e.detail if e else "",
                         "covered": "" if covered is None else "yes" if covered else "no", **outcome})
    columns = ["promotion", "policy", "promoted at", "until", "by", "source", "estimate", "estimate low",
               "estimate high", "estimate sample", "estimate from", "realised rate", "realised low", "realised high",
               "covered", "realised members", "realised impressions", "lift over holdout", "lift low", "lift high",
               "note"]
    return pd.DataFrame(rows, columns=columns)


def coverage(history: list[CalibrationEntry]) -> dict[str, tuple[int, int]]:
    """Per source: (estimates whose interval held the realised rate, estimates that could be judged)."""
    out: dict[str, tuple[int, int]] = {}
    for entry in history:
        for e in entry.estimates:
            covered = entry.covered(e)
            if covered is None:
                continue
            hit, judged = out.get(e.source, (0, 0))
            out[e.source] = (hit + int(covered), judged + 1)
    return out


__all__ = ["CalibrationEntry", "Realised", "calibration_history", "calibration_table", "coverage", "realised"]
