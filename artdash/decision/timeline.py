"""Which trained version serves a member: the one in effect when the member's sticky window
began — so a retrain never moves an image within a window, and every worker and replica,
knowing the same versions, answers the same.

A version takes effect at the first quarter-hour tick at least one refresh interval after it
was trained (:func:`effective_from`): by then every worker has loaded it, so none serves a
member a version another worker has not heard of. Members meet it at their next window (at
most ``sticky_hours`` later); with stickiness off (``--sticky-hours 0``) every request is
served the newest version in effect. A promotion takes effect at once: a window that began
before it is served the version in effect at the promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from artdash.decision.models import EPOCH, ServedPolicy, load_version, untrained, version_marks
from artdash.decision.snapshot import Snapshot
from artdash.errors import NotFoundError
from artdash.policy import registry

TICK = timedelta(minutes=15)


def effective_from(trained_at: datetime, refresh_seconds: float) -> datetime:
    """When a version trained at ``trained_at`` takes effect: the first tick (a quarter hour)
    at least ``refresh_seconds`` later."""
    ready = trained_at + timedelta(seconds=refresh_seconds)
    ticks = -(-(ready - EPOCH) // TICK)   # ceiling division
    return EPOCH + ticks * TICK


@dataclass(frozen=True)
class Timeline:
    """The versions of the served policy that members may still be served, oldest first."""

    name: str
    versions: tuple[ServedPolicy, ...]
    floor: datetime = EPOCH          # the promotion of this policy (a window before it reads as at it)

    def at(self, moment: datetime) -> ServedPolicy:
        """The version in effect at ``moment`` (the first one known if none was yet)."""
        moment = max(moment, self.floor)
        chosen = self.versions[0]
        for version in self.versions:
            if version.effective_at <= moment:
                chosen = version
            else:
                break
        return chosen

    @property
    def newest(self) -> ServedPolicy:
        """The most recently trained version known (in effect or not yet)."""
        return self.versions[-1]


def needed(marks: list[tuple[int, datetime]], now: datetime, window_hours: float,
           floor: datetime = EPOCH) -> list[int]:
    """Of the stored versions (``(version, effective_at)``, oldest first), those a member can be
    served now or later: the one in effect when the oldest open window began, and every later one."""
    oldest = max(now - timedelta(hours=window_hours), floor) if window_hours > 0 else now
    in_effect = [v for v, at in marks if at <= oldest]
    later = [v for v, at in marks if at > oldest]
    return in_effect[-1:] + later



def load_timeline(conn: Connection, name: str, snapshot: Snapshot, now: datetime, window_hours: float,
                  floor: datetime = EPOCH, loaded: dict[int, ServedPolicy] | None = None) -> Timeline:
    """The timeline of ``name`` at ``now``: every version a member can be served now or later,
    each loaded once (``loaded``: versions already loaded over this snapshot, by number — reused,
    and added to)."""
    if not registry.check(name).learns:
        return Timeline(name, (untrained(name, snapshot),), floor)
    cache = loaded if loaded is not None else {}
    versions = []
    for number in needed(version_marks(conn, name), now, window_hours, floor):
        if number not in cache:
            try:
                cache[number] = load_version(conn, number, snapshot)
            except NotFoundError:       # superseded and removed since the marks were read: never served
                continue
        if cache[number].trained:     # a version of another taxonomy reads as untrained: left out
            versions.append(cache[number])
    if not versions or versions[0].effective_at > max(now - timedelta(hours=max(window_hours, 0)), floor):
        versions.insert(0, untrained(name, snapshot))
    return Timeline(name, tuple(versions), floor)
