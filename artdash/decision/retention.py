"""Which trained versions keep their weights: all but those a later live-trained version of the
same policy supersedes within the same quarter hour (:data:`artdash.decision.timeline.TICK`).
A superseded version keeps its row — when it was trained, on how much (the Live view's *reward
to model* reads those times) — and loses its weights (the 50 KB or so that made the store grow).

Versions take effect at quarter-hour ticks (:func:`artdash.decision.timeline.effective_from`),
and of the versions in effect at a moment the newest is served, so a version superseded before
its tick came was never served to anyone and never will be: keeping it only fills the store.
With stickiness off a version takes effect at once; keeping the last of each quarter hour
still keeps the one in effect now, and a history at quarter-hour grain. Retraining every
30 seconds then keeps the weights of at most 96 versions a day per policy instead of 2,880;
imported and lab-trained versions are never touched.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update

from artdash.db.results_schema import policy_models
from artdash.decision.models import EPOCH, SUPERSEDED
from artdash.decision.timeline import TICK

NOTE = "superseded within its quarter hour before anyone was served it: weights not kept"


def superseded(marks: list[tuple[int, object]]) -> list[int]:
    """Of live versions ``(version, effective_at)``, those a later one in the same quarter hour replaces."""
    last: dict[int, int] = {}
    for version, at in marks:
        tick = (at - EPOCH) // TICK  # type: ignore[operator]
        last[tick] = max(version, last.get(tick, version))
    keep = set(last.values())
    return [v for v, _ in marks if v not in keep]


def prune_superseded(conn: Connection, name: str) -> int:
    """Drop the weights of the live versions of ``name`` that a later one in the same quarter
    hour supersedes; returns how many were dropped now."""
    from artdash.catalog.eligibility import aware

    c = policy_models.c
    rows = conn.execute(select(c.version, func.coalesce(c.effective_at, c.trained_at))
                        .where(c.policy == name, c.source == "live", func.length(c.state) > 0)
                        .order_by(c.version)).all()
    gone = superseded([(int(v), aware(at)) for v, at in rows])
    for start in range(0, len(gone), 500):
        conn.execute(update(policy_models).where(c.version.in_(gone[start:start + 500]))
                     .values(state=SUPERSEDED, note=NOTE))
    return len(gone)


__all__ = ["prune_superseded", "superseded"]
