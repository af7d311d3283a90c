"""What the decision service has been doing, read from its log: decisions per second,
outcomes joined, which policy version decided, and how often a member's image of a title
changes between two showings (Netflix names change effects as a risk: a member who sees a
new image every visit may not recognise the title).

Everything is aggregated by the database (GROUP BY and a window function), so the cost
does not grow with the members in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select, text

from artdash.catalog.eligibility import aware
from artdash.clock import epoch_ms
from artdash.db.results_schema import policy_models
from artdash.policy.registry import LABELS

TOP_MEMBERS = 20


@dataclass(frozen=True)
class ChangeRate:
    """Between two showings of one title to one member, how often the image changed."""

    repeats: int                 # showings that had an earlier showing of the same title to the same member
    changes: int                 # … where the image differed from the one before
    members: int                 # members with at least one repeat
    distribution: pd.DataFrame   # share of members by their own change rate (bucket, members)
    top: pd.DataFrame            # the members whose image changes most (member, repeats, changes, rate)

    @property
    def rate(self) -> float:
        """Changes per repeat showing (NaN before any member saw a title twice)."""
        return self.changes / self.repeats if self.repeats else float("nan")


@dataclass(frozen=True)
class LiveTraffic:
    """The service's log from ``since`` up to and including ``until``, in buckets of ``bucket_seconds``."""

    since: datetime
    until: datetime
    bucket_seconds: int
    decisions: int
    with_outcome: int
    plays: int
    late: int
    per_bucket: pd.DataFrame     # at, decisions, outcomes, plays, decisions per second
    by_version: pd.DataFrame     # at, policy, version, decisions (who decided, over time)
    versions: pd.DataFrame       # version, policy, trained at, decisions trained on, note
    change: ChangeRate

    @property
    def empty(self) -> bool:
        """Whether the service logged nothing in the window."""
        return self.decisions == 0

    @property
    def joined_share(self) -> float:
        """Of the window's decisions, the share whose outcome has arrived."""
        return self.with_outcome / self.decisions if self.decisions else float("nan")


_TOTALS = text("""
SELECT COUNT(*) AS n, COUNT(o.event_id) AS joined, COALESCE(SUM(o.played), 0) AS plays,
       COALESCE(SUM(o.late), 0) AS late
FROM decisions d LEFT JOIN outcomes o ON o.event_id = d.event_id
WHERE d.at_ms >= :since AND d.at_ms <= :until
""")
_BUCKETS = text("""
SELECT (d.at_ms / CAST(:bucket AS BIGINT)) * CAST(:bucket AS BIGINT) AS at_ms, COUNT(*) AS decisions, COUNT(o.event_id) AS outcomes,
       COALESCE(SUM(o.played), 0) AS plays
FROM decisions d LEFT JOIN outcomes o ON o.event_id = d.event_id
WHERE d.at_ms >= :since AND d.at_ms <= :until
GROUP BY 1 ORDER BY 1
""")
_VERSIONS = text("""
SELECT (at_ms / CAST(:bucket AS BIGINT)) * CAST(:bucket AS BIGINT) AS at_ms, policy, model_version, COUNT(*) AS decisions
FROM decisions WHERE at_ms >= :since AND at_ms <= :until
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
""")
_PER_MEMBER = """
SELECT member_id, SUM(CASE WHEN prev IS NULL THEN 0 ELSE 1 END) AS repeats,
       SUM(CASE WHEN prev IS NOT NULL AND prev <> variant_id THEN 1 ELSE 0 END) AS changes
FROM (SELECT member_id, variant_id,
             LAG(variant_id) OVER (PARTITION BY member_id, title_id ORDER BY at_ms, event_id) AS prev
      FROM decisions WHERE at_ms >= :since AND at_ms <= :until) showings
GROUP BY member_id HAVING SUM(CASE WHEN prev IS NULL THEN 0 ELSE 1 END) > 0
"""
_CHANGE_TOTALS = text(f"SELECT COUNT(*), COALESCE(SUM(repeats), 0), COALESCE(SUM(changes), 0) FROM ({_PER_MEMBER}) m")
_CHANGE_BUCKETS = text(f"""
SELECT CASE WHEN changes >= repeats THEN 9 ELSE (changes * 10) / repeats END AS bucket, COUNT(*) AS members
FROM ({_PER_MEMBER}) m GROUP BY 1 ORDER BY 1
""")
_CHANGE_TOP = text(f"""
SELECT member_id, repeats, changes FROM ({_PER_MEMBER}) m
ORDER BY changes DESC, repeats DESC, member_id LIMIT {TOP_MEMBERS}
""")



def _at(ms) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


def bucket_for(span: timedelta) -> int:
    """A bucket size (seconds) that gives a readable number of points over ``span``."""
    for seconds in (10, 60, 300, 900, 3600, 6 * 3600, 86400):
        if span.total_seconds() / seconds <= 240:
            return seconds
    return 7 * 86400


def change_rate(results: Engine, since: datetime, until: datetime) -> ChangeRate:
    """How often a member's image of a title changed between two showings in the window."""
    params = {"since": epoch_ms(since), "until": epoch_ms(until)}
    with results.connect() as conn:
        members, repeats, changes = conn.execute(_CHANGE_TOTALS, params).one()
        buckets = conn.execute(_CHANGE_BUCKETS, params).all()
        top = conn.execute(_CHANGE_TOP, params).all()
    share = {int(b): int(n) for b, n in buckets}
    distribution = pd.DataFrame({"change rate": [f"{10 * b}–{10 * b + 10}%" for b in range(10)],
                                 "members": [share.get(b, 0) for b in range(10)]})
    top_frame = pd.DataFrame([{"member": m, "repeats": int(r), "changes": int(c), "change rate": c / r}
                              for m, r, c in top], columns=["member", "repeats", "changes", "change rate"])
    return ChangeRate(int(repeats), int(changes), int(members), distribution, top_frame)


MIN_SPAN = timedelta(minutes=10)   # a few decisions a second apart still get a readable axis


def data_span(results: Engine, since: datetime, until: datetime) -> tuple[datetime, datetime] | None:
    """The first and last decision in the window (None: none)."""
    with results.connect() as conn:
        low, high = conn.execute(text("SELECT MIN(at_ms), MAX(at_ms) FROM decisions WHERE at_ms >= :since "
                                      "AND at_ms <= :until"),
                                 {"since": epoch_ms(since), "until": epoch_ms(until)}).one()
    return (_at(low), _at(high)) if low is not None else None


def live_traffic(results: Engine, since: datetime, until: datetime, bucket_seconds: int | None = None) -> LiveTraffic:
    """The decision log between ``since`` and ``until`` (a product manager's live view), in
    buckets sized to the span the decisions cover (one busy minute in a 24-hour window is read
    in 10-second buckets, not one 15-minute bar)."""
    if bucket_seconds is None:
        span = data_span(results, since, until)
        covered = max(span[1] - span[0], MIN_SPAN) if span is not None else until - since
        bucket_seconds = bucket_for(covered)
    bucket = int(bucket_seconds)
    params = {"since": epoch_ms(since), "until": epoch_ms(until), "bucket": bucket * 1000}
    with results.connect() as conn:
        n, joined, plays, late = conn.execute(_TOTALS, params).one()
        buckets = conn.execute(_BUCKETS, params).all()
        by_version = conn.execute(_VERSIONS, params).all()
        versions = conn.execute(select(policy_models.c.version, policy_models.c.policy, policy_models.c.trained_at,
                                       policy_models.c.n_rows, policy_models.c.note)
                                .order_by(policy_models.c.version.desc()).limit(200)).all()
    per_bucket = pd.DataFrame([{"at": _at(a), "decisions": int(d), "outcomes": int(o), "plays": int(p),
                                "decisions per second": d / bucket} for a, d, o, p in buckets],
                              columns=["at", "decisions", "outcomes", "plays", "decisions per second"])
    who = pd.DataFrame([{"at": _at(a), "policy": LABELS.get(p, p), "version": int(v), "decisions": int(d)}
                        for a, p, v, d in by_version], columns=["at", "policy", "version", "decisions"])
    trained = pd.DataFrame([{"version": int(v), "policy": LABELS.get(p, p), "trained at": aware(t),
                             "decisions trained on": int(r), "note": note} for v, p, t, r, note in versions],
                           columns=["version", "policy", "trained at", "decisions trained on", "note"])
    return LiveTraffic(aware(since), aware(until), bucket, int(n), int(joined), int(plays), int(late), per_bucket,
                       who, trained, change_rate(results, since, until))


@dataclass(frozen=True)
class RewardToModel:
    """From an outcome's arrival to the first version the service trained after it (which
    learnt it): over the outcomes that arrived in a window."""

    outcomes: int
    learnt: int                        # … of which a version has learnt
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def waiting(self) -> int:
        """Outcomes no version has learnt yet (the next retrain will)."""
        return self.outcomes - self.learnt


def reward_to_model(results: Engine, since: datetime, until: datetime, limit: int = 200_000) -> RewardToModel:
    """How long the service took to learn what members did: for each outcome that arrived in
    the window (the latest ``limit``), the wait until the first version trained from live
    traffic after it."""
    window = {"since": epoch_ms(since), "until": epoch_ms(until), "limit": limit}
    with results.connect() as conn:
        arrived = np.array([r[0] for r in conn.execute(text(
            "SELECT at_ms FROM outcomes WHERE at_ms >= :since AND at_ms <= :until ORDER BY at_ms DESC LIMIT :limit"),
            window)], dtype=np.int64)
        trained = np.array(sorted(epoch_ms(aware(t)) for (t,) in conn.execute(
            select(policy_models.c.trained_at).where(policy_models.c.source == "live"))), dtype=np.int64)
    if not len(arrived):
        return RewardToModel(0, 0, None, None)
    at = np.searchsorted(trained, arrived, side="left")
    learnt = at < len(trained)
    waits = (trained[at[learnt]] - arrived[learnt]) / 1000.0
    if not len(waits):
        return RewardToModel(len(arrived), 0, None, None)
    return RewardToModel(len(arrived), int(learnt.sum()), float(np.median(waits)), float(np.quantile(waits, 0.9)))


def last_decision_at(results: Engine) -> datetime | None:
    """When the service last decided (None: never)."""
    with results.connect() as conn:
        ms = conn.execute(text("SELECT MAX(at_ms) FROM decisions")).scalar_one()
    return None if ms is None else _at(ms)
