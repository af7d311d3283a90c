"""Event ids the decision service can check without looking them up: each carries when its
decision was made and a keyed hash (BLAKE2b, 48 bits) of it under the results store's secret,
so an outcome can be accepted — or refused as unknown, or flagged late — by any worker or
replica the moment it arrives, before its decision has reached the results store.

    <when: 11 hex ms since the epoch><random: 8 hex><titles: 2 hex><mac: 12 hex><title: 2 hex>

(35 characters; the title's number is below the request's count of titles, which the hash
covers). Ids made before this format (32 characters) are looked up in the store instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

LENGTH = 35
_HEAD = 21           # when + random + titles
_MAC = 12


class EventSigner:
    """Makes and checks event ids under one secret (every worker and replica of a results
    store shares it: see :func:`artdash.serve.journal.service_secret`)."""

    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise ValueError("the secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, head: str) -> str:
        return hashlib.blake2b(head.encode(), key=self._secret, digest_size=_MAC // 2).hexdigest()

    def base(self, at_ms: int, n_titles: int) -> str:
        """The shared part of a request's ids (add :func:`suffix` of each title's position)."""
        if not 0 < n_titles <= 255:
            raise ValueError("a request decides 1 to 255 titles")
        head = f"{at_ms:011x}{secrets.randbits(32):08x}{n_titles:02x}"
        return head + self._mac(head)

    def check(self, event_id: str) -> int | None:
        """When the decision of ``event_id`` was made (ms since the epoch) if this signer's
        secret made it, else None."""
        if len(event_id) != LENGTH:
            return None
        head, mac, position = event_id[:_HEAD], event_id[_HEAD:_HEAD + _MAC], event_id[_HEAD + _MAC:]
        try:
            at_ms, n_titles, j = int(head[:11], 16), int(head[19:21], 16), int(position, 16)
        except ValueError:
            return None
        if not (event_id.isascii() and event_id == event_id.lower()) or j >= n_titles:
            return None
        if not hmac.compare_digest(mac, self._mac(head)):
            return None
        return at_ms


SUFFIXES = [f"{j:02x}" for j in range(256)]
THROWAWAY = EventSigner(secrets.token_bytes(32))   # for decisions nobody logs (Preview)
