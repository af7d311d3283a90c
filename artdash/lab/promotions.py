"""Which policy the decision service serves: the promotion history's newest entry (a policy
promoted, or the promotion withdrawn). Promoting — with the lab run and estimates it was
promoted on — is :func:`artdash.lab.store.promote`; this module is what serving reads, without
the lab's tables and frames."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from artdash.access.auth import authorize
from artdash.db.models import PolicyPromotion
from artdash.errors import ValidationError
from artdash.policy.registry import DEFAULT_POLICY


@dataclass(frozen=True)
class PromotionView:
    """One entry of the promotion history: a policy promoted or demoted, by whom, why."""
    id: int
    policy: str
    action: str
    at: datetime
    by: str
    run_id: int | None
    note: str


def _promotion_view(p: PolicyPromotion) -> PromotionView:
    return PromotionView(p.id, p.policy, p.action, p.at, p.by, p.run_id, p.note)


def demote(session: Session, actor: str, note: str = "") -> PromotionView:
    """Withdraw the current promotion: Preview goes back to the built-in default."""
    authorize(session, actor, "admin")
    current, _ = current_policy(session)
    if current is None:
        raise ValidationError(f"no policy is promoted; Preview already serves the default ({DEFAULT_POLICY})")
    entry = PolicyPromotion(policy=current, action="demote", by=actor, note=(note or "").strip()[:2000])
    session.add(entry)
    session.flush()
    return _promotion_view(entry)


def current_policy(session: Session) -> tuple[str | None, PromotionView | None]:
    """The promoted policy (None when nothing is promoted) and the entry that promoted it."""
    latest = session.scalars(select(PolicyPromotion).order_by(PolicyPromotion.id.desc()).limit(1)).first()
    if latest is None or latest.action == "demote":
        return None, None
    return latest.policy, _promotion_view(latest)
