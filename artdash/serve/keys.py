"""The decision service's API keys as it holds them between refreshes: checked on every
request (scope, rate limit), and when each was last used written back at the next refresh."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import Engine, update

from artdash import clock
from artdash.access.api_keys import ApiKeyView, digest, prefix_of
from artdash.db.models import ApiKey
from artdash.serve.ratelimit import RateLimiter
from artdash.serve.settings import ServiceError


class KeyRing:
    """The active keys (by prefix: their digest and view), the rate limiter, and when each
    key was last used since the last refresh."""

    def __init__(self, required: bool = True):
        self.required = required
        self.limiter = RateLimiter()
        self._keys: dict[str, tuple[str, ApiKeyView]] = {}
        self._used: dict[int, datetime] = {}   # key id → last request, written at each refresh

    def reload(self, keys: dict[str, tuple[str, ApiKeyView]]) -> None:
        """Swap in the keys read at a refresh (a revoked key is refused from now on)."""
        self._keys = keys

    def write_used(self, engine: Engine) -> None:
        """Write when each key was last used (bookkeeping, not an edit: no audit entry)."""
        used, self._used = self._used, {}
        if used:
            with engine.begin() as conn:
                for key_id, at in used.items():
                    conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))

    def authenticate(self, presented: str | None, scope: str) -> ApiKeyView | None:
        """The key's view if ``presented`` is an active key with ``scope`` and within its rate
        limit; raises :class:`ServiceError` (401, 403, 429) otherwise. None when keys are not
        required."""
        if not self.required:
            return None
        if not presented:
            raise ServiceError(401, "missing_key", "no API key: send it as 'Authorization: Bearer <key>' "
                                                   "(an admin creates keys with `artdash keys create`)")
        prefix = prefix_of(presented)
        found = self._keys.get(prefix) if prefix else None
        if found is None or not hmac.compare_digest(found[0], digest(presented)):
            raise ServiceError(401, "invalid_key", "this API key is not valid (mistyped, or revoked); "
                                                   "ask an admin for a key")
        key = found[1]
        if scope not in key.scopes:
            raise ServiceError(403, "wrong_scope", f"the key {key.name!r} may not call {scope}: its scopes are "
                                                   f"{', '.join(key.scopes)}")
        self._used[key.id] = clock.now()
        allowed, wait = self.limiter.allow(key.prefix, key.rate_per_second)
        if not allowed:
            raise ServiceError(429, "rate_limited", f"the key {key.name!r} is over its limit of "
                                                    f"{key.rate_per_second:,} requests per second; retry shortly",
                               retry_after=max(wait, 0.001))
        return key
