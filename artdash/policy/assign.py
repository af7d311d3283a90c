"""Sticky assignment: which of a title's candidates a member is shown, given the policy's
probabilities — the same few lines for the decision service, Preview and the lab.

**The draw.** Every (member, window, title, variant) has a fixed number ``U`` in (0, 1), from a
hash (splitmix64 over a 64-bit member seed, the window's index, the title and the variant id:
array arithmetic, no per-title Python). No global random state: any worker, replica or
preview computes the same numbers.

**The pick** is an exponential race: candidate ``k`` finishes at ``−log(U_k) / p_k`` and the
first to finish is shown. ``P(k shown) = p_k / Σp``, so the propensity logged is the policy's
probability exactly; and since only the ratios of probabilities matter, a candidate added to a
title takes a member's slot only if it wins that member's race.

**The window.** A member's window is ``window_hours`` long and its phase is fixed per member
(from the member seed), so a member's titles all change together at the member's boundary
and members' boundaries spread over the day. The decision service serves each member the
model version that was in effect when the member's window began (``artdash.decision``), so a
retrain never moves an image within a window. ``window_hours`` 0 turns stickiness off: a fresh
draw every time.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

DEFAULT_WINDOW_HOURS = 24.0
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def member_seed(member_key: str) -> int:
    """A 64-bit number fixed by the member (the seed of every draw of theirs)."""
    return int.from_bytes(hashlib.blake2b(member_key.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Window:
    """A member's current sticky window: its index (part of every draw) and when it began
    (None: stickiness is off — every request draws afresh)."""

    index: int
    start: datetime | None
    seed: int

    @property
    def sticky(self) -> bool:
        """Whether draws are fixed for the window (False: ``window_hours`` was 0)."""
        return self.start is not None


def window_of(member_key: str, when: datetime, window_hours: float = DEFAULT_WINDOW_HOURS,
              fresh: random.Random | None = None) -> Window:
    """The window ``member_key`` is in at ``when``. Without stickiness every decision is a window
    of its own, numbered at random (from ``fresh`` when given: a seeded simulation's draws follow
    its requests' order)."""
    seed = member_seed(member_key)
    if window_hours <= 0:
        return Window(fresh.getrandbits(62) if fresh is not None else secrets.randbits(62), None, seed)
    length_ms = int(window_hours * 3_600_000)
    phase = seed % length_ms
    at_ms = int(when.timestamp() * 1000)
    index = (at_ms - phase) // length_ms
    start = datetime.fromtimestamp(0, UTC) + timedelta(milliseconds=index * length_ms + phase)
    return Window(int(index), start, seed)


def _mix(x: Any) -> Any:
    """splitmix64's finaliser: a 64-bit avalanche (uint64 arithmetic wraps)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def draws(window: Window, title_ids: np.ndarray, variant_ids: np.ndarray) -> np.ndarray:
    """(T, K) numbers in (0, 1), one per candidate: fixed by (member, window, title, variant)."""
    with np.errstate(over="ignore"):
        base = _mix(np.uint64(window.seed) ^ (np.uint64(window.index & 0xFFFFFFFFFFFFFFFF) * _GOLDEN))
        per_title = _mix(base ^ (np.asarray(title_ids, dtype=np.uint64) * _GOLDEN))
        x = _mix(per_title[:, None] ^ _mix(np.asarray(variant_ids, dtype=np.uint64) + _GOLDEN))
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


def race(probabilities: np.ndarray, valid: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The (T,) position of the candidate shown in each row: the exponential race of ``u``
    weighted by ``probabilities`` (a candidate with probability 0 never wins; a row where all
    are 0 shows its first valid candidate)."""
    p = np.where(valid, probabilities, 0.0)
    with np.errstate(divide="ignore"):
        finish = np.where(p > 0, -np.log(u) / np.where(p > 0, p, 1.0), np.inf)
    picks = finish.argmin(axis=1)
    stuck = ~np.isfinite(finish[np.arange(len(picks)), picks])
    if stuck.any():
        picks[stuck] = valid[stuck].argmax(axis=1)
    return picks


def pick(member_key: str, title_id: int, variant_ids: np.ndarray, probabilities: np.ndarray, when: datetime,
         window_hours: float = DEFAULT_WINDOW_HOURS) -> int:
    """The position shown of one title's candidates (:func:`race` for a single row)."""
    window = window_of(member_key, when, window_hours)
    ids = np.asarray(variant_ids)[None, :]
    u = draws(window, np.array([title_id]), ids)
    return int(race(np.asarray(probabilities, dtype=float)[None, :], np.ones_like(ids, dtype=bool), u)[0])
