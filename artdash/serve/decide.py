"""One decision request: which variant of each title to show a member, with its propensity.

The served policy's probabilities for every requested title come from one vectorised call
(``Policy.table``); a sticky draw of (member, title, time window) picks from them, so a member
sees the same image of a title for the whole window and every choice has a known, non-zero
propensity. Nothing here writes: :func:`decide` returns the rows to log beside the answer.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from artdash.policy.base import DEFAULT_WINDOW_HOURS, Context, choose_index, sticky_draw
from artdash.serve.model import ServedPolicy
from artdash.serve.snapshot import Snapshot

MAX_TITLES = 200


@dataclass(frozen=True)
class Member:
    """Who is asking: a stable id, tastes (tag id → weight in −1 … 1) and context."""

    id: str
    tastes: Mapping[int, float] = field(default_factory=dict)
    country: str = ""
    device: str = ""
    locale: str = ""
    maturity: str = ""


@dataclass(frozen=True)
class TitleDecision:
    """The answer for one title: the variant to show (None: nothing can be shown), the
    probability it had, the event id to report the outcome under, and why."""

    title_id: int
    variant_id: int | None
    propensity: float | None
    event_id: str | None
    reason: str

    def as_json(self) -> dict:
        """The JSON object the API returns for it."""
        return {"title_id": self.title_id, "variant_id": self.variant_id, "propensity": self.propensity,
                "event_id": self.event_id, "reason": self.reason}


@dataclass(frozen=True)
class Decided:
    """A request's answers, and the rows the log must hold before they are sent."""

    decisions: tuple[TitleDecision, ...]
    policy: str
    model_version: int
    at: datetime
    rows: tuple[dict, ...]
    context: dict


def context_hash(tastes: Mapping[int, float], country: str, device: str) -> str:
    """A short stable hash of what the policy sees of a member (their tastes, country, device)."""
    key = json.dumps([sorted((int(k), round(float(v), 4)) for k, v in tastes.items()), country, device])
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _reason(probs: np.ndarray, index: int, policy: ServedPolicy, fallback: str) -> str:
    n = len(probs)
    if n == 1:
        return "the only active variant of this title"
    if np.allclose(probs, probs[0]):
        if fallback:
            return fallback
        base = f"uniform random over {n} variants"
    elif index == int(np.argmax(probs)):
        base = {"linucb": "top-scored for this member's tastes", "best-single": "best quality take rate so far",
                "editors-pick": "the editor's pick"}.get(policy.name, "the policy's first choice")
    else:
        base = f"exploration ({probs[index]:.1%} chance)"
    return f"{fallback}; {base}" if fallback else base


def decide(snapshot: Snapshot, served: ServedPolicy, member: Member, title_ids: Sequence[int], when: datetime,
           window_hours: float = DEFAULT_WINDOW_HOURS, explain: bool = False) -> Decided:
    """The served policy's decision for each of ``title_ids`` (in order) for ``member``."""
    member_key = f"member:{member.id}"
    context = Context(member_key=member_key, affinities=member.tastes, country=member.country,
                      device=member.device or "tv")
    rows = [snapshot.row_of.get(int(t)) for t in title_ids]
    usable = [i for i, r in enumerate(rows) if r is not None and snapshot.table.n_actions[r] > 0]
    out: list[TitleDecision | None] = [None] * len(title_ids)
    for i, r in enumerate(rows):
        if r is None:
            out[i] = TitleDecision(int(title_ids[i]), None, None, None, "unknown title: nothing to show")
        elif snapshot.table.n_actions[r] == 0:
            out[i] = TitleDecision(int(title_ids[i]), None, None, None, "no active variant: nothing to show")
    log: list[dict] = []
    c_hash = context_hash(member.tastes, member.country, member.device)
    at_ms = int(when.timestamp() * 1000)
    if usable:
        sub = snapshot.table.take(np.array([rows[i] for i in usable]))
        affinity = snapshot.features.affinity_vector(context)[None, :]
        probs = np.asarray(served.policy.table(sub, affinity))[0]
        fallback = served.policy.fallback_reason(context)
        for j, i in enumerate(usable):
            n = int(sub.n_actions[j])
            p = probs[j, :n]
            title_id = int(sub.title_ids[j])
            index = choose_index(p, sticky_draw(member_key, title_id, when, window_hours))
            if p[index] <= 0:           # never show what the policy gave no chance: no propensity
                index = int(np.argmax(p))
            variant_id = int(sub.variant_ids[j, index])
            event_id = uuid.uuid4().hex
            reason = _reason(p, index, served, fallback)
            if explain and n > 1:
                detail = served.policy.explain(context, snapshot.candidates[title_id], index)
                reason = f"{reason}: {detail}" if detail else reason
            out[i] = TitleDecision(title_id, variant_id, float(p[index]), event_id, reason)
            log.append({"event_id": event_id, "at_ms": at_ms, "member_id": member.id, "title_id": title_id,
                        "variant_id": variant_id, "propensity": float(p[index]),
                        "candidates": json.dumps([[int(v), float(q)] for v, q in
                                                  zip(sub.variant_ids[j, :n].tolist(), p.tolist())]),
                        "policy": served.name, "model_version": served.version, "context_hash": c_hash,
                        "country": member.country, "device": member.device})
    context_row = {"context_hash": c_hash, "affinities": json.dumps({str(k): v for k, v in sorted(member.tastes.items())}),
                   "country": member.country, "device": member.device}
    return Decided(tuple(d for d in out if d is not None), served.name, served.version, when, tuple(log), context_row)
