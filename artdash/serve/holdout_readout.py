"""What personalisation earns, live: the decision service's traffic read as *served* (the
promoted policy) against *holdout* (the members held out and served a fixed rule,
:mod:`artdash.decision.holdout`) — each arm's take rate, the relative lift of served over
holdout with the page's method, overall and per title, and the sample-ratio check of the
members in each arm against the declared share.

Members, not impressions, are what was randomised (a member is held out by their id, and a
request decides a whole row of titles at once), so each arm's rate is a ratio of member sums —
Σ plays / Σ impressions over its members — with its variance from the spread of those sums
between members (the delta method, clustered by member), and the sample-ratio check counts
members. Impression-level formulas would be too narrow, and would cry mismatch on every
busy member.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from artdash.decision.holdout import PREFIX, Holdout
from artdash.results.arms import METRICS, MIN_MEMBERS, ArmSums, member_sums, sums_of
from artdash.results.log import ImpressionLog
from artdash.stats import inference
from artdash.stats.inference import Comparison, Method
from artdash.stats.rates import SrmCheck, sample_ratio_mismatch
from artdash.workspace import Workspace

LIVE = "live"


@dataclass(frozen=True)
class ArmsRow:
    """Served against holdout over one title (``title_id``) or all of them (None)."""

    title_id: int | None
    served: ArmSums
    holdout: ArmSums
    comparison: Comparison | None
    note: str = ""

    @property
    def lift(self) -> float | None:
        """The relative lift of served over holdout (the comparison's)."""
        return self.comparison.relative if self.comparison is not None else None


@dataclass(frozen=True)
class HoldoutReadout:
    """The live traffic as served against holdout."""

    holdout: Holdout
    metric: str
    method: Method
    confidence: float
    overall: ArmsRow
    titles: tuple[ArmsRow, ...]
    srm: SrmCheck | None
    mixed_members: int            # members seen in both arms (the share changed): left out


def arm_sums(log: ImpressionLog, conn: Connection, quality_seconds: float, metric: str = "quality_plays",
             by_title: bool = False, day_from: int | None = None, day_to: int | None = None,
             window: tuple[int, int | None] | None = None, served_policy: str | None = None) -> tuple[pd.DataFrame, int]:
    """Member sums per arm (``held`` 1: holdout) of the live traffic — per title with
    ``by_title``; from ``window[0]`` up to ``window[1]`` (seconds since the epoch, None: now);
    the served arm only where ``served_policy`` served — and how many members were in both
    arms (left out)."""
    clauses: list[str] = ["experiment = ?"]
    params: list[object] = [LIVE]
    for clause, value in (("day >= ?", day_from), ("day <= ?", day_to), ("ts >= ?", window and window[0]),
                          ("ts < ?", window and window[1])):
        if value is not None:
            clauses.append(clause)
            params.append(int(value))
    if served_policy is not None:
        clauses.append("(policy = ? OR policy LIKE ?)")
        params += [served_policy, PREFIX + "%"]
    frame, mixed = member_sums(log, conn, "CASE WHEN policy LIKE ? THEN 1 ELSE 0 END", [PREFIX + "%"], clauses,
                               params, quality_seconds, metric, by_title)
    return frame.rename(columns={"arm": "held"}), mixed


def arms_row(title_id: int | None, frame: pd.DataFrame, method: Method, confidence: float) -> ArmsRow:
    """Served against holdout from :func:`arm_sums`' rows (one title's, or all of them)."""
    arms = frame.rename(columns={"held": "arm"})
    served, held = sums_of(arms, 0), sums_of(arms, 1)
    a, b = served.arm(), held.arm()
    if a is None or b is None:
        few = [name for name, s in (("served", served), ("holdout", held)) if s.members < MIN_MEMBERS]
        note = (f"too few members yet in the {' and '.join(few)} arm{'s' if len(few) > 1 else ''} "
                f"(at least {MIN_MEMBERS} each): the lift cannot be estimated") if few else "no impressions"
        return ArmsRow(title_id, served, held, None, note)
    if b.mean <= 0:
        return ArmsRow(title_id, served, held, None, "no plays in the holdout yet: a relative lift has no base")
    comparison = inference.compare_arms([a], b, method, confidence)[0]
    return ArmsRow(title_id, served, held, comparison, comparison.reason)


def holdout_readout(log: ImpressionLog, conn: Connection, holdout: Holdout, quality_seconds: float,
                    method: Method | None = None, confidence: float = 0.95, metric: str = "quality_plays",
                    day_from: int | None = None, day_to: int | None = None) -> HoldoutReadout:
    """Served against holdout over the live traffic (sequential intervals unless ``method``
    says otherwise: a live readout is looked at every day), overall and per title."""
    method = method or Method(inference.SEQUENTIAL)
    overall_frame, mixed = arm_sums(log, conn, quality_seconds, metric, False, day_from, day_to)
    by_title, _ = arm_sums(log, conn, quality_seconds, metric, True, day_from, day_to)
    overall = arms_row(None, overall_frame, method, confidence)
    titles = tuple(arms_row(int(t), rows, method, confidence) for t, rows in by_title.groupby("title_id", sort=True))
    srm = None
    if holdout.share > 0 and overall.served.members + overall.holdout.members > 0:
        srm = sample_ratio_mismatch([overall.served.members, overall.holdout.members],
                                    [1 - holdout.share, holdout.share])
    return HoldoutReadout(holdout, metric, method, confidence, overall, titles, srm, mixed)


def readout_table(readout: HoldoutReadout, titles: dict[int, str] | None = None) -> pd.DataFrame:
    """The readout as a table (one row overall, one per title): what the page and the CSV show."""
    names = titles or {}
    rows = []
    for row in (readout.overall, *readout.titles):
        c = row.comparison
        low, high = (c.interval.low, c.interval.high) if c is not None and c.interval is not None else (None, None)
        rows.append({
            "title": "all titles" if row.title_id is None else names.get(row.title_id, f"#{row.title_id}"),
            "title_id": row.title_id, "served members": row.served.members, "holdout members": row.holdout.members,
            "served impressions": int(row.served.n), "holdout impressions": int(row.holdout.n),
            "served rate": row.served.rate, "holdout rate": row.holdout.rate,
            "lift": row.lift, "lift low": low, "lift high": high,
            "p-value": c.p_value if c is not None else None,
            "note": row.note})
    return pd.DataFrame(rows)


def finite(value: float | None) -> bool:
    """Whether a readout number can be shown (not None, not NaN)."""
    return value is not None and math.isfinite(value)




def holdout_table(ws: Workspace, title: str | None = None, method: str | None = None, confidence: float = 0.95,
                  days: int | None = None, metric: str = "quality_plays") -> tuple[HoldoutReadout, pd.DataFrame]:
    """The workspace's live readout (the holdout in force; sequential unless ``method`` says
    otherwise; the last ``days`` days of live traffic) and its table — one title's row when
    ``title`` (an id or exact name) is given — with what the CSV says it is about."""
    from artdash.db.models import Title
    from artdash.decision.holdout import current_holdout
    from artdash.results import queries
    from artdash.results.review import find_title
    from artdash.results.service import impression_log

    with ws.session() as s:
        holdout = current_holdout(s)
        names = {int(i): str(n) for i, n in s.execute(select(Title.id, Title.name)).all()}
    chosen = find_title(ws, title)[0] if title else None
    with ws.results_engine.connect() as conn:
        span = queries.day_range(conn, experiment=LIVE)
        day_from = day_to = None
        if span is not None and days:
            day_to = queries.to_day(span[1])
            day_from = day_to - days + 1
        readout = holdout_readout(impression_log(ws), conn, holdout, ws.settings.quality_play_seconds,
                                  Method(method) if method else None, confidence, metric, day_from, day_to)
    frame = readout_table(readout, names)
    if chosen is not None:
        frame = frame[frame["title_id"] == chosen]
    frame.insert(0, "method", readout.method.describe(confidence))
    frame.insert(0, "holdout", readout.holdout.describe())
    frame.insert(0, "metric", "quality plays" if metric == "quality_plays" else "plays")
    return readout, frame.reset_index(drop=True)


__all__ = ["LIVE", "METRICS", "MIN_MEMBERS", "ArmSums", "ArmsRow", "HoldoutReadout", "arm_sums", "arms_row", "holdout_readout",
           "holdout_table", "readout_table"]
