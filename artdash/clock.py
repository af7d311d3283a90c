"""The one source of "now".

Everything in ArtDash that asks what time it is — the Results date window, the demo and
Policy-lab logs, sticky assignment windows, sign-in expiry, the audit trail, row timestamps —
asks :func:`now`. Tests freeze it (:func:`frozen`), and a server can be started at a fixed
moment with ``ARTDASH_NOW`` (an ISO-8601 time, e.g. ``2026-11-21T12:00:00Z``), so a page or a
log built today looks the same next month.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from artdash.errors import ConfigError

ENV = "ARTDASH_NOW"

_frozen: datetime | None = None


def parse_moment(text: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime (a time without a zone is read as UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{ENV} must be an ISO-8601 time such as 2026-11-21T12:00:00Z, not {text!r}; "
                          "unset it to use the real clock") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def now() -> datetime:
    """The current time, aware, in UTC (frozen in tests; ``ARTDASH_NOW`` when set)."""
    if _frozen is not None:
        return _frozen
    fixed = os.environ.get(ENV, "").strip()
    if fixed:
        return parse_moment(fixed)
    return datetime.now(UTC)


def epoch_ms(when: datetime) -> int:
    """Milliseconds since the epoch of an aware moment (a naive one is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def today() -> date:
    """The current UTC date."""
    return now().date()


def freeze(at: datetime | None) -> None:
    """Make :func:`now` return ``at`` from here on (``None`` lets the real clock run again)."""
    global _frozen
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    _frozen = at.astimezone(UTC) if at is not None else None


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Within the block, :func:`now` is ``at``."""
    before = _frozen
    freeze(at)
    try:
        yield now()
    finally:
        freeze(before)
