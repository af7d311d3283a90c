"""Per-key rate limits: a token bucket per API key (its rate per second, a one-second burst)."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """``allow(key, rate)`` is True while the key stays within ``rate`` requests per second
    on average (bursts up to ``rate`` at once); otherwise False and the seconds to wait."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}   # key → (tokens, last refill)
        self._lock = threading.Lock()

    def allow(self, key: str, rate: float, cost: float = 1.0) -> tuple[bool, float]:
        """Take ``cost`` tokens from ``key``'s bucket if it has them."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (rate, now))
            tokens = min(rate, tokens + (now - last) * rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return True, 0.0
            self._buckets[key] = (tokens, now)
            return False, (cost - tokens) / rate
