"""What the decision service serves, as the service and Preview both read it: the promoted
policy if the service can serve it (else the default, and why), from when, over the catalog
snapshot, with the timeline of its trained versions — and, for Preview to compare with, the
newest version of every other policy the service could serve."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from artdash.decision.decide import HeldOut
from artdash.decision.holdout import current_holdout
from artdash.decision.models import ServedPolicy, load_latest
from artdash.decision.snapshot import Snapshot, load_snapshot
from artdash.decision.timeline import Timeline, load_timeline
from artdash.lab.promotions import PromotionView
from artdash.lab.served import floor_of, served_choice
from artdash.policy import registry
from artdash.workspace import Workspace


@dataclass(frozen=True)
class ServedView:
    """The served policy's timeline over a catalog snapshot, with what Preview compares it to."""

    snapshot: Snapshot
    timeline: Timeline
    promotion: PromotionView | None
    note: str
    sticky_hours: float
    candidates: Mapping[str, ServedPolicy]      # every other servable policy's newest version
    held_out: HeldOut | None = None             # the holdout in force (None: nobody is held out)

    @property
    def name(self) -> str:
        """The served policy's registry key."""
        return self.timeline.name


def load_served_view(ws: Workspace, now: datetime, sticky_hours: float) -> ServedView:
    """What the service serves at ``now`` (read fresh from the catalog and the results store)."""
    with ws.session() as s:
        name, entry, note = served_choice(s)
        snapshot = load_snapshot(s)
        holdout = current_holdout(s)
    with ws.results_engine.connect() as conn:
        timeline = load_timeline(conn, name, snapshot, now, sticky_hours, floor_of(entry, name))
        others = {n: load_latest(conn, n, snapshot) for n in registry.names(available_only=True, servable_only=True)
                  if n != name}
    return ServedView(snapshot, timeline, entry, note, sticky_hours, others, HeldOut.of(holdout, snapshot))
