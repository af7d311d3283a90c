"""Per-member sums for CUPED, computed by the engine where the log lives (DuckDB over the
Parquet log, or SQL on the impressions table): for each variant of a selection, its members'
quality plays during the selection (y) and in the ``pre_days`` before its first day (x, the
covariate), summed as n, Σy, Σy², Σx, Σx², Σxy — and how many members saw more than one
variant (CUPED needs each member in one arm: a log where members meet several variants is
not a member-randomised experiment)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from artdash.errors import ValidationError
from artdash.results.log import ImpressionLog
from artdash.results.quality import quality_sql
from artdash.results.queries import Selection
from artdash.stats.cuped import MemberSums

PRE_DAYS = 28


@dataclass(frozen=True)
class MemberTotals:
    """Each variant's member sums, and what was left out."""

    arms: dict[int, MemberSums]
    mixed_members: int          # members seen with more than one variant (left out)
    with_history: int           # members with any impression in the pre-period
    pre_days: int

    @property
    def members(self) -> int:
        """Members counted (in one arm each)."""
        return sum(a.n for a in self.arms.values())


def member_totals(log: ImpressionLog, conn: Connection, sel: Selection, quality_seconds: float,
                  pre_days: int = PRE_DAYS) -> MemberTotals:
    """The selection's member sums per variant, with the pre-period covariate."""
    if sel.day_from is None or sel.title_id is None:
        raise ValidationError("CUPED needs one title and a first day (the covariate is read before it)")
    where, params = sel.log_filter()                  # every impression counts, played or not
    quality = f"CASE WHEN {quality_sql('?')} THEN 1 ELSE 0 END"
    sql = f"""
WITH during AS (
  SELECT member_id, MIN(variant_id) AS variant_id, COUNT(DISTINCT variant_id) AS variants, SUM({quality}) AS y
  FROM {{log}} WHERE {where} GROUP BY member_id),
before AS (
  SELECT member_id, SUM({quality}) AS x FROM {{log}}
  WHERE title_id = ? AND day >= ? AND day < ? GROUP BY member_id)
SELECT d.variant_id, COUNT(*) AS n, SUM(d.y) AS y, SUM(d.y * d.y) AS yy, SUM(COALESCE(b.x, 0)) AS x,
       SUM(COALESCE(b.x, 0) * COALESCE(b.x, 0)) AS xx, SUM(d.y * COALESCE(b.x, 0)) AS xy,
       SUM(CASE WHEN b.member_id IS NULL THEN 0 ELSE 1 END) AS with_history
FROM during d LEFT JOIN before b ON b.member_id = d.member_id
WHERE d.variants = 1
GROUP BY d.variant_id ORDER BY d.variant_id
"""
    mixed_sql = f"""
SELECT COUNT(*) AS mixed FROM (
  SELECT member_id FROM {{log}} WHERE {where} GROUP BY member_id HAVING COUNT(DISTINCT variant_id) > 1) m
"""
    first = int(sel.day_from)
    frame = log.query(conn, sql, [quality_seconds, *params, quality_seconds, int(sel.title_id), first - pre_days,
                                  first])
    mixed = log.query(conn, mixed_sql, params)
    arms = {int(r.variant_id): MemberSums(int(r.n), float(r.y), float(r.yy), float(r.x), float(r.xx), float(r.xy))
            for r in frame.itertuples(index=False)}
    return MemberTotals(arms, int(mixed["mixed"].iloc[0] or 0), int(frame["with_history"].sum()) if len(frame) else 0,
                        pre_days)
