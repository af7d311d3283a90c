"""Arms of randomised members read from the impression log: per arm (a cell, or served against
holdout) the member sums a rate and its member-clustered variance need, overall or per title.

Members, not impressions, are what was randomised, so an arm's rate is a ratio of member sums —
Σ plays / Σ impressions over its members — with its variance from the spread of those sums
between members (the delta method, clustered by member). Impression-level formulas would be too
narrow, and a sample-ratio check on impressions would cry mismatch on every busy member. A
member seen in two arms (the assignment changed) is left out and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection

from artdash.results.log import ImpressionLog
from artdash.results.quality import quality_sql
from artdash.stats.inference import Arm

METRICS = ("quality_plays", "plays")
MIN_MEMBERS = 20          # per arm: fewer and the member-level variance means nothing

_METRIC_SQL = {"plays": "CASE WHEN played = 1 THEN 1 ELSE 0 END",
               "quality_plays": f"CASE WHEN {quality_sql('?')} THEN 1 ELSE 0 END"}

_SQL = """
WITH r AS (
  SELECT member_id, title_id, {arm} AS arm, {metric} AS q
  FROM {{log}} WHERE {where}),
m AS (
  SELECT member_id, {title} AS title_id, arm, COUNT(*) AS n, SUM(q) AS y
  FROM r GROUP BY member_id{title_group}, arm),
mixed AS (SELECT member_id FROM m GROUP BY member_id HAVING COUNT(DISTINCT arm) > 1)
SELECT title_id, arm, COUNT(*) AS members, SUM(n) AS n, SUM(y) AS y, SUM(n * n) AS nn, SUM(y * y) AS yy,
       SUM(n * y) AS ny, (SELECT COUNT(*) FROM mixed) AS mixed
FROM m WHERE member_id NOT IN (SELECT member_id FROM mixed)
GROUP BY title_id, arm
"""


@dataclass(frozen=True)
class ArmSums:
    """One arm's member sums: members, impressions (n), plays of the metric (y), and the sums
    of squares and products the clustered variance needs."""

    members: int
    n: float
    y: float
    nn: float
    yy: float
    ny: float

    @property
    def rate(self) -> float | None:
        """Plays per impression (None without impressions)."""
        return self.y / self.n if self.n else None

    def arm(self) -> Arm | None:
        """The rate as an :class:`Arm` with its member-clustered variance (None: too few members)."""
        if self.members < MIN_MEMBERS or self.n <= 0:
            return None
        r = self.y / self.n
        spread = (self.yy - 2 * r * self.ny + r * r * self.nn) / (self.members - 1)
        mean_n = self.n / self.members
        return Arm(r, max(spread, 0.0) / (self.members * mean_n * mean_n), self.members)


EMPTY = ArmSums(0, 0.0, 0.0, 0.0, 0.0, 0.0)


def member_sums(log: ImpressionLog, conn: Connection, arm_sql: str, arm_params: Sequence[object],
                where: Sequence[str], params: Sequence[object], quality_seconds: float,
                metric: str = "quality_plays", by_title: bool = False) -> tuple[pd.DataFrame, int]:
    """Member sums per arm (``arm_sql``, an SQL expression over a log row, with its parameters)
    of the rows matching every clause of ``where`` — per title with ``by_title`` — and how many
    members were in more than one arm (left out)."""
    if metric not in METRICS:
        raise ValueError(f"metric is one of {METRICS}")
    quality = [quality_seconds] if metric == "quality_plays" else []
    sql = _SQL.format(arm=arm_sql, title="title_id" if by_title else "0",
                      title_group=", title_id" if by_title else "", metric=_METRIC_SQL[metric],
                      where=" AND ".join(where) or "1 = 1")
    frame = log.query(conn, sql, [*arm_params, *quality, *params])
    mixed = int(frame["mixed"].iloc[0]) if len(frame) and pd.notna(frame["mixed"].iloc[0]) else 0
    return frame.drop(columns=["mixed"]), mixed


def sums_of(frame: pd.DataFrame, arm: object) -> ArmSums:
    """One arm's sums from :func:`member_sums`' rows (summed over the titles they hold)."""
    rows = frame[frame["arm"] == arm]
    if rows.empty:
        return EMPTY
    total = rows[["members", "n", "y", "nn", "yy", "ny"]].astype(float).sum()
    return ArmSums(int(total["members"]), total["n"], total["y"], total["nn"], total["yy"], total["ny"])


__all__ = ["EMPTY", "METRICS", "MIN_MEMBERS", "ArmSums", "member_sums", "sums_of"]
