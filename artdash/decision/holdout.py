"""The holdout: a fixed share of members the decision service serves a comparison policy
(uniform random, or the editor's pick) instead of the promoted one, so that what
personalisation earns is measured live — served against holdout, on the same days, titles and
traffic — and the holdout's log, with its exact propensities, is the best data offline
evaluation has.

Who is held out is decided by the member id alone (a hash: the same answer on every worker and
replica, at every request, under every model version), so a member stays in their arm while
the share stays the same; raising the share only adds members. The setting is stored (an
append-only history, like promotions): the service, every replica and Preview read the same.
Decisions made for held-out members are logged under the policy name ``holdout-<policy>``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from artdash.access.auth import authorize
from artdash.db.models import ServiceHoldout
from artdash.errors import ValidationError
from artdash.policy import registry

POLICIES = tuple(registry.fixed_rules())    # nothing to train, exact propensities: uniform, editor's pick
PREFIX = "holdout-"                          # the policy name a held-out decision is logged under
MAX_SHARE = 0.5
_SALT = b"artdash-holdout:"


@dataclass(frozen=True)
class Holdout:
    """The holdout in force: ``share`` of members (0 … 0.5) get ``policy``; since when, set by whom."""

    share: float
    policy: str
    since: datetime | None = None
    by: str = ""

    @property
    def logged_as(self) -> str:
        """The policy name held-out decisions are logged under."""
        return PREFIX + self.policy

    def holds(self, member_id: str) -> bool:
        """Whether ``member_id`` is held out (the same answer everywhere, every time)."""
        return self.share > 0 and member_draw(member_id) < self.share

    def describe(self) -> str:
        """One line: '5 % of members are served uniform random'."""
        if self.share <= 0:
            return "no holdout: every member is served the promoted policy"
        return f"{self.share:.0%} of members are held out and served {registry.LABELS.get(self.policy, self.policy)}"


NO_HOLDOUT = Holdout(0.0, "uniform")


def member_draw(member_id: str) -> float:
    """A member's fixed place in [0, 1): the first 8 bytes of a salted BLAKE2b of the id."""
    digest = hashlib.blake2b(_SALT + member_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def is_holdout_policy(name: str) -> bool:
    """Whether a logged policy name is a holdout's."""
    return name.startswith(PREFIX)


def check(share: float, policy: str) -> tuple[float, str]:
    """The setting as it may be stored; refuses a share outside 0 … 0.5 or another policy."""
    try:
        value = float(share)
    except (TypeError, ValueError):
        raise ValidationError(f"the holdout share is a number from 0 to {MAX_SHARE} (e.g. 0.05)") from None
    if not math.isfinite(value) or not 0 <= value <= MAX_SHARE:
        raise ValidationError(f"the holdout share {share!r} must be from 0 (no holdout) to {MAX_SHARE} "
                              "(half the members); 0.05 holds out 5 %")
    name = (policy or "").strip().lower()
    if name not in POLICIES:
        raise ValidationError(f"the holdout policy is one of {', '.join(POLICIES)} (a fixed rule with exact "
                              f"propensities), not {policy!r}")
    return value, name


def current_holdout(session: Session) -> Holdout:
    """The holdout in force (NO_HOLDOUT when none was ever set)."""
    row = session.scalars(select(ServiceHoldout).order_by(ServiceHoldout.id.desc()).limit(1)).first()
    return Holdout(row.share, row.policy, row.at, row.by) if row is not None else NO_HOLDOUT


def set_holdout(session: Session, share: float, policy: str, actor: str) -> Holdout:
    """Record a new holdout setting (admins); a setting equal to the one in force is not
    recorded again."""
    authorize(session, actor, "admin")
    value, name = check(share, policy)
    now = current_holdout(session)
    if (now.share, now.policy) == (value, name) and now.since is not None:
        return now
    row = ServiceHoldout(share=value, policy=name, by=actor)
    session.add(row)
    session.flush()
    return Holdout(row.share, row.policy, row.at, row.by)


__all__ = ["MAX_SHARE", "NO_HOLDOUT", "POLICIES", "PREFIX", "Holdout", "check", "current_holdout",
           "is_holdout_policy", "member_draw", "set_holdout"]
