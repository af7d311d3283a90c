"""One decision request: which variant of each title to show a member, with its propensity —
the one function the decision service, Preview and ``artdash preview`` call.

The version served is the one in effect when the member's sticky window began
(:mod:`artdash.decision.timeline`); its probabilities for every requested title come from one
vectorised call (``Policy.table``), and the sticky assignment (:mod:`artdash.policy.assign`)
picks from them, so a member sees the same image of a title for the whole window, across
retrains, and every choice has a known, non-zero propensity. Nothing here writes:
:func:`decide` returns the rows to log beside the answer.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from artdash import numbers
from artdash.decision.models import ServedPolicy
from artdash.decision.snapshot import RowTable, Snapshot
from artdash.decision.timeline import Timeline
from artdash.policy.assign import DEFAULT_WINDOW_HOURS, draws, race, window_of
from artdash.policy.base import Context

# The decisions table's columns, in the order each logged row (a tuple) holds them.
DECISION_COLUMNS = ("event_id", "at_ms", "member_id", "title_id", "variant_id", "propensity", "candidates", "policy",
                    "model_version", "context_hash", "country", "device", "shadow_policy", "shadow_variant_id",
                    "shadow_propensity", "shadow_p_shown")

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
    probabilities: tuple[tuple[int, float], ...] = ()    # every candidate's (explain only: Preview's win matrix)
    predicted_take: float | None = None                  # the version's own prediction for it (explain only)

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
    rows: tuple[tuple, ...]          # DECISION_COLUMNS
    context: dict


def context_hash(tastes: Mapping[int, float], country: str, device: str) -> str:
    """A short stable hash of what the policy sees of a member (their tastes, country, device)."""
    key = json.dumps([sorted((int(k), round(float(v), 4)) for k, v in tastes.items()), country, device])
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def _reason(p: list[float], index: int, policy: ServedPolicy, fallback: str) -> str:
    n = len(p)
    if n == 1:
        return "the only active variant of this title"
    top = max(p)
    if top - min(p) < 1e-12:
        if fallback:
            return fallback
        base = f"uniform random over {n} variants"
    elif p[index] == top:
        base = policy.policy.first_choice
    else:
        base = f"exploration ({numbers.rate(float(p[index]))} chance)"
    return f"{fallback}; {base}" if fallback else base


def _eligible(snapshot: Snapshot, sub: RowTable, rows: np.ndarray, member: Member,
              when: datetime) -> tuple[RowTable, np.ndarray, list[str]]:
    """``sub`` with only the candidates ``member`` may be shown now (compacted to the front of
    each row, in variant order), the mask of those kept (in the original slots) and, per row,
    why the first refused one was refused. Unlimited variants cost nothing here."""
    allowed = sub.valid.copy()
    refused = [""] * len(rows)
    if snapshot.restricted is None or not snapshot.restricted[rows].any():
        return sub, allowed, refused
    for j, k in np.argwhere(snapshot.restricted[rows]):
        rule = snapshot.rules[int(sub.variant_ids[j, k])]
        why = rule.refusal(member.country, member.locale, member.maturity, when)
        if why:
            allowed[j, k] = False
            refused[j] = refused[j] or why
    if (allowed == sub.valid).all():
        return sub, allowed, refused
    order = np.argsort(~allowed, axis=1, kind="stable")
    n_actions = allowed.sum(axis=1)
    valid = np.arange(allowed.shape[1])[None, :] < n_actions[:, None]
    variant_ids = np.where(valid, np.take_along_axis(sub.variant_ids, order, 1), 0)
    tags = np.take_along_axis(sub.tags, order[:, :, None], 1) * valid[:, :, None]
    visual = np.take_along_axis(sub.visual, order[:, :, None], 1) * valid[:, :, None]
    return RowTable(sub.title_ids, variant_ids, n_actions, tags, visual, sub.features, valid), allowed, refused


def decide(snapshot: Snapshot, timeline: Timeline | ServedPolicy, member: Member, title_ids: Sequence[int],
           when: datetime, window_hours: float = DEFAULT_WINDOW_HOURS, explain: bool = False,
           shadow: ServedPolicy | None = None) -> Decided:
    """The served policy's decision for each of ``title_ids`` (in order) for ``member``, over
    the variants the member may be shown now (``artdash.catalog.eligibility``), with the
    version in effect when the member's window began (or the one version given). With a
    ``shadow`` policy, its choice (from the same draws) and its probabilities of its choice and
    of the shown variant are logged beside each decision; the member never sees it."""
    member_key = f"member:{member.id}"
    window = window_of(member_key, when, window_hours)
    if isinstance(timeline, Timeline):
        served = timeline.at(window.start if window.start is not None else when)
    else:
        served = timeline
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
    log: list[tuple] = []
    c_hash = context_hash(member.tastes, member.country, member.device)
    at_ms = int(when.timestamp() * 1000)
    if usable:
        sub = snapshot.table.take(np.array([rows[i] for i in usable]))
        sub, allowed, refused = _eligible(snapshot, sub, np.array([rows[i] for i in usable]), member, when)
        affinity = snapshot.features.affinity_vector(context)[None, :]
        probs = np.asarray(served.policy.table(sub, affinity))[0]
        predicted = served.policy.predicted_table(sub, affinity) if explain else None
        fallback = served.policy.fallback_reason(context)
        # the sticky draws of every candidate, and the race of every row at once
        u = draws(window, sub.title_ids, sub.variant_ids)
        picks = race(probs, sub.valid, u)
        details = served.policy.explain_table(sub, affinity, context, picks) if explain else None
        if shadow is not None:
            shadow_probs = np.asarray(shadow.policy.table(sub, affinity))[0]
            shadow_picks = race(shadow_probs, sub.valid, u)
        base = uuid.uuid4().hex[:28]           # one random id per request, one suffix per title
        for j, i in enumerate(usable):
            n = int(sub.n_actions[j])
            title_id = int(sub.title_ids[j])
            if n == 0:
                out[i] = TitleDecision(title_id, None, None, None, f"nothing may be shown: {refused[j]}")
                continue
            p = probs[j, :n].tolist()
            index = int(picks[j])
            if p[index] <= 0:           # never show what the policy gave no chance: no propensity
                index = int(np.argmax(p))
            ids = sub.variant_ids[j, :n].tolist()
            variant_id = ids[index]
            event_id = f"{base}{j:04x}"
            reason = _reason(p, index, served, fallback)
            if explain and n > 1:
                if details is None:
                    shown = [c for c, ok in zip(snapshot.candidates[title_id], allowed[j]) if ok]
                    detail = served.policy.explain(context, shown, index)
                else:
                    detail = details[j]
                reason = f"{reason}: {detail}" if detail else reason
            out[i] = TitleDecision(title_id, variant_id, p[index], event_id, reason,
                                   tuple(zip(ids, p)) if explain else (),
                                   float(predicted[0, j, index]) if predicted is not None else None)
            shadowed: tuple = (None, None, None, None)
            if shadow is not None:
                mine = int(shadow_picks[j])
                if shadow_probs[j, mine] <= 0:
                    mine = int(np.argmax(shadow_probs[j, :n]))
                shadowed = (shadow.name, ids[mine], float(shadow_probs[j, mine]), float(shadow_probs[j, index]))
            # every candidate's probability, as JSON (repr of a list of [int, float] is JSON, in C)
            log.append((event_id, at_ms, member.id, title_id, variant_id, p[index], repr([list(c) for c in zip(ids, p)]),
                        served.name, served.version, c_hash, member.country, member.device, *shadowed))
    context_row = {"context_hash": c_hash, "affinities": json.dumps({str(k): v for k, v in sorted(member.tastes.items())}),
                   "country": member.country, "device": member.device}
    return Decided(tuple(d for d in out if d is not None), served.name, served.version, when, tuple(log), context_row)
