"""Which policy the decision service serves, and the version a member whose window begins now
is served — read by the service, Preview and the lab's offline evaluation alike (the lab
scores that very version, not one of its own training)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from artdash import clock
from artdash.catalog.eligibility import aware
from artdash.decision.models import EPOCH, ServedPolicy
from artdash.decision.snapshot import Snapshot, load_snapshot
from artdash.decision.timeline import load_timeline
from artdash.lab.promotions import PromotionView, current_policy
from artdash.policy import registry
from artdash.policy.registry import DEFAULT_POLICY, LABELS
from artdash.workspace import Workspace


def served_choice(session: Session) -> tuple[str, PromotionView | None, str]:
    """(the policy served, the promotion entry, a note): the promoted policy if the service can
    serve it, else the default — with a note that says why."""
    promoted, entry = current_policy(session)
    name = promoted or DEFAULT_POLICY
    kind = registry.KINDS.get(name)
    if kind is not None and kind.servable:
        return name, entry, ""
    why = kind.not_servable if kind is not None else "it is no longer registered"
    return DEFAULT_POLICY, entry, (f"{LABELS.get(name, name)} is promoted but cannot be served ({why}); serving "
                                   f"{LABELS[DEFAULT_POLICY]} instead")


def floor_of(entry: PromotionView | None, name: str) -> datetime:
    """When ``name`` started being served: its promotion (a window that began before reads as at it)."""
    return aware(entry.at) if entry is not None and entry.policy == name else EPOCH


def served_now(session: Session, conn: Connection, snapshot: Snapshot, now: datetime) -> ServedPolicy:
    """The version of the served policy a member whose sticky window begins at ``now`` gets."""
    name, entry, _ = served_choice(session)
    return load_timeline(conn, name, snapshot, now, 0.0, floor_of(entry, name)).at(now)


def as_served(ws: Workspace) -> ServedPolicy:
    """:func:`served_now` at the workspace's now, read fresh (what the lab scores as served)."""
    with ws.session() as s:
        snapshot = load_snapshot(s)
        with ws.results_engine.connect() as conn:
            return served_now(s, conn, snapshot, clock.now())
