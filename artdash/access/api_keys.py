"""API keys for the decision service: created and revoked by admins, hashed at rest, scoped.

A key looks like ``adk_<prefix>_<secret>``. It is shown once, when created; ArtDash keeps
only its prefix (to find it and to show it in lists) and the SHA-256 of the whole key. A slow
password hash is not needed here: the key is 256 random bits, not something a person chose,
so it cannot be guessed from its hash, and checking it must cost microseconds per request.

Scopes: ``decide`` (ask which image to show) and ``outcomes`` (report what the member did).
Each key has its own rate limit (requests per second, enforced by the service).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from artdash import clock
from artdash.access.auth import authorize
from artdash.db.models import ApiKey
from artdash.errors import NotFoundError, ValidationError

SCOPES = ("decide", "outcomes")
DEFAULT_RATE = 1000
MAX_RATE = 100_000
_KEY = re.compile(r"^adk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{2,120}$")


@dataclass(frozen=True)
class ApiKeyView:
    """A key as lists show it (never its secret)."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    rate_per_second: int
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether the service accepts it."""
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """Whether the key may make calls of ``scope``."""
        return self.active and scope in self.scopes


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: its view and the secret, which is never shown again."""

    key: ApiKeyView
    secret: str


def _view(k: ApiKey) -> ApiKeyView:
    return ApiKeyView(k.id, k.name, k.prefix, tuple(s for s in k.scopes.split(",") if s), k.rate_per_second,
                      k.created_at, k.created_by, k.revoked_at, k.last_used_at)


def digest(secret: str) -> str:
    """The SHA-256 (hex) a key is kept as."""
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_scopes(scopes: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The scopes in canonical order; refuses unknown ones and an empty list."""
    items = [s.strip().lower() for s in (scopes.split(",") if isinstance(scopes, str) else scopes) if s.strip()]
    unknown = sorted(set(items) - set(SCOPES))
    if unknown:
        raise ValidationError(f"unknown scope {', '.join(map(repr, unknown))}; choose from {', '.join(SCOPES)}")
    if not items:
        raise ValidationError(f"a key needs at least one scope: {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in items)


def create_key(session: Session, actor: str, name: str, scopes: str | tuple[str, ...] | list[str] = SCOPES,
               rate_per_second: int = DEFAULT_RATE) -> NewKey:
    """A new key (admins). The returned secret is the only copy: show it once."""
    authorize(session, actor, "admin")
    text = " ".join((name or "").split())
    if not _NAME.match(text):
        raise ValidationError("a key name must be 2 to 120 characters (say who uses it, e.g. 'web homepage')")
    if session.scalar(select(ApiKey.id).where(ApiKey.name == text)) is not None:
        raise ValidationError(f"there is already a key named {text!r}; choose another name or revoke that one")
    try:
        rate = int(rate_per_second)
    except (TypeError, ValueError):
        raise ValidationError(f"the rate limit must be a whole number of requests per second (got {rate_per_second!r})") from None
    if not 1 <= rate <= MAX_RATE:
        raise ValidationError(f"the rate limit must be from 1 to {MAX_RATE:,} requests per second (got {rate:,})")
    prefix = secrets.token_hex(6)
    secret = f"adk_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=text, prefix=prefix, secret_hash=digest(secret), scopes=",".join(clean_scopes(scopes)),
                 rate_per_second=rate, created_by=actor, created_at=clock.now())
    session.add(key)
    session.flush()
    return NewKey(_view(key), secret)


def list_keys(session: Session) -> list[ApiKeyView]:
    """Every key, active first, newest first."""
    keys = session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())).all()
    return [_view(k) for k in keys]


def revoke_key(session: Session, actor: str, key: int | str) -> ApiKeyView:
    """Revoke a key by id, name or prefix (admins). The service refuses it from its next
    key refresh (within seconds, see ``artdash.serve``)."""
    authorize(session, actor, "admin")
    query = select(ApiKey)
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        query = query.where(ApiKey.id == int(key))
    else:
        query = query.where((ApiKey.name == key) | (ApiKey.prefix == key))
    found = session.scalars(query).first()
    if found is None:
        raise NotFoundError(f"there is no API key {key!r}; `artdash keys list` shows them")
    if found.revoked_at is not None:
        raise ValidationError(f"the key {found.name!r} was already revoked on {found.revoked_at:%Y-%m-%d %H:%M}")
    found.revoked_at, found.revoked_by = clock.now(), actor
    session.flush()
    return _view(found)


def prefix_of(presented: str) -> str | None:
    """The prefix of a well-formed key, or None for anything else."""
    match = _KEY.match(presented or "")
    return match.group(1) if match else None


def verify(session: Session, presented: str) -> ApiKeyView | None:
    """The active key ``presented`` is, or None (malformed, unknown, wrong secret or revoked)."""
    prefix = prefix_of(presented)
    if prefix is None:
        return None
    found = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if found is None or not hmac.compare_digest(found.secret_hash, digest(presented)) or found.revoked_at:
        return None
    return _view(found)


def key_table(session: Session) -> dict[str, tuple[str, ApiKeyView]]:
    """prefix → (hash, view) of every active key: what the service checks requests against
    (refreshed every few seconds, so a revocation takes effect without a restart)."""
    keys = session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None))).all()
    return {k.prefix: (k.secret_hash, _view(k)) for k in keys}
