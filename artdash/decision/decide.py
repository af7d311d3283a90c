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
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np

from artdash import numbers
from artdash.decision.event_ids import SUFFIXES, THROWAWAY, EventSigner
from artdash.decision.holdout import Holdout
from artdash.decision.models import ServedPolicy, untrained
from artdash.decision.rows import DecisionRows
from artdash.decision.snapshot import RowTable, Snapshot
from artdash.decision.tables import catalog_table
from artdash.decision.timeline import Timeline
from artdash.policy.assign import DEFAULT_WINDOW_HOURS, draws, race, window_of
from artdash.policy.base import Context

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


class TitleDecision(NamedTuple):
    """The answer for one title: the variant to show (None: nothing can be shown), the
    probability it had, the event id to report the outcome under, and why. (A named tuple:
    a request makes one per title, and a frozen dataclass cost ten times as much to build.)"""

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
    rows: DecisionRows
    context: dict


def context_hash(tastes: Mapping[int, float], country: str, device: str) -> str:
    """A short stable hash of what the policy sees of a member (their tastes, country, device)."""
    key = json.dumps([sorted((int(k), round(float(v), 4)) for k, v in tastes.items()), country, device])
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


_CONTEXTS: dict[tuple, dict] = {}
MAX_CONTEXTS = 50_000


def context_row(tastes: Mapping[int, float], country: str, device: str) -> dict:
    """The decision_contexts row of a member's context (its hash, tastes as JSON, country,
    device), kept for the next request with the same context (bounded: emptied when full)."""
    key = (tuple(sorted(tastes.items())), country, device)
    found = _CONTEXTS.get(key)
    if found is None:
        if len(_CONTEXTS) >= MAX_CONTEXTS:
            _CONTEXTS.clear()
        found = _CONTEXTS[key] = {"context_hash": context_hash(tastes, country, device),
                                  "affinities": json.dumps({str(k): v for k, v in key[0]}),
                                  "country": country, "device": device}
    return found


def _shown(probabilities: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """The race's picks, but never a candidate the policy gave no chance (it would have no
    propensity): such a row shows its most likely candidate instead."""
    picked = probabilities[np.arange(len(picks)), picks]
    if (picked > 0).all():
        return picks
    return np.where(picked > 0, picks, probabilities.argmax(axis=1))


def _reasons(probabilities: np.ndarray, valid: np.ndarray, index: np.ndarray, shown: np.ndarray,
             n_actions: list[int], policy: ServedPolicy, fallback: str) -> list[str]:
    """Why each row's variant was shown, from a few kinds of answer (computed for all rows at once)."""
    top = np.where(valid, probabilities, -np.inf).max(axis=1, initial=-np.inf)
    low = np.where(valid, probabilities, np.inf).min(axis=1, initial=np.inf)
    tie = (top - low) < 1e-12
    first = shown == top
    prefix = f"{fallback}; " if fallback else ""
    out = []
    for n, is_tie, is_first, p in zip(n_actions, tie.tolist(), first.tolist(), shown.tolist()):
        if n <= 1:
            out.append("the only active variant of this title")
        elif is_tie:
            out.append(fallback or f"uniform random over {n} variants")
        elif is_first:
            out.append(prefix + policy.policy.first_choice)
        else:
            out.append(f"{prefix}exploration ({numbers.rate(float(p))} chance)")
    return out


def _eligible(snapshot: Snapshot, sub: RowTable, rows: np.ndarray, member: Member,
              when: datetime) -> tuple[RowTable, np.ndarray, list[str]]:
    """``sub`` with only the candidates ``member`` may be shown now (compacted to the front of
    each row, in variant order), the mask of those kept (in the original slots) and, per row,
    why the first refused one was refused, for a row left with nothing to show. Unlimited
    variants cost nothing here; limited ones are checked all at once (:class:`RuleTable`)."""
    allowed = sub.valid.copy()
    refused = [""] * len(rows)
    limits = snapshot.limits
    if snapshot.restricted is None or limits is None or not snapshot.restricted[rows].any():
        return sub, allowed, refused
    cells = np.argwhere(snapshot.restricted[rows])
    at = limits.positions(sub.variant_ids[cells[:, 0], cells[:, 1]])
    ok = limits.allowed(member.country, member.locale, member.maturity, when, at)
    allowed[cells[~ok, 0], cells[~ok, 1]] = False
    if (allowed == sub.valid).all():
        return sub, allowed, refused
    for j in np.flatnonzero(~allowed.any(axis=1) & sub.valid.any(axis=1)).tolist():
        first = int(np.flatnonzero(cells[:, 0] == j)[0])     # the row's first limited variant, in slot order
        refused[j] = limits.refusal(int(at[first]), member.country, member.locale, member.maturity, when)
    order = np.argsort(~allowed, axis=1, kind="stable")
    n_actions = allowed.sum(axis=1)
    valid = np.arange(allowed.shape[1])[None, :] < n_actions[:, None]
    variant_ids = np.where(valid, np.take_along_axis(sub.variant_ids, order, 1), 0)
    tags = np.take_along_axis(sub.tags, order[:, :, None], 1) * valid[:, :, None]
    visual = np.take_along_axis(sub.visual, order[:, :, None], 1) * valid[:, :, None]
    return RowTable(sub.title_ids, variant_ids, n_actions, tags, visual, sub.features, valid), allowed, refused


def _probabilities(served: ServedPolicy, snapshot: Snapshot, sub: RowTable, at_rows: np.ndarray,
                   affinity: np.ndarray, narrowed: bool) -> np.ndarray:
    """(T, K) probabilities of ``served`` on ``sub`` (the snapshot's rows ``at_rows``, unless
    eligibility ``narrowed`` them): a context-free version's rows of its catalog table."""
    table = None if narrowed else catalog_table(served, snapshot)
    if table is not None:
        return table[at_rows]
    return np.asarray(served.policy.table(sub, affinity))[0]


@dataclass(frozen=True)
class HeldOut:
    """The holdout as decide() applies it: who (``holdout.holds``) gets ``policy`` instead."""

    holdout: Holdout
    policy: ServedPolicy

    @classmethod
    def of(cls, holdout: Holdout, snapshot: Snapshot) -> HeldOut | None:
        """The holdout over ``snapshot`` (None when no member is held out)."""
        if holdout.share <= 0:
            return None
        fixed = untrained(holdout.policy, snapshot)
        return cls(holdout, ServedPolicy(holdout.logged_as, 0, fixed.policy,
                                         note=f"held out: {holdout.describe()}"))


def decide(snapshot: Snapshot, timeline: Timeline | ServedPolicy, member: Member, title_ids: Sequence[int],
           when: datetime, window_hours: float = DEFAULT_WINDOW_HOURS, explain: bool = False,
           shadow: ServedPolicy | None = None, signer: EventSigner = THROWAWAY,
           held_out: HeldOut | None = None, fresh: random.Random | None = None) -> Decided:
    """The served policy's decision for each of ``title_ids`` (in order) for ``member``, over
    the variants the member may be shown now (``artdash.catalog.eligibility``), with the
    version in effect when the member's window began (or the one version given) — or, for a
    member ``held_out`` holds, the holdout's fixed policy (logged as ``holdout-<policy>``). With
    a ``shadow`` policy, its choice (from the same draws) and its probabilities of its choice
    and of the shown variant are logged beside each decision; the member never sees it. Event
    ids are made by ``signer`` (the service's, so any worker can check an outcome's id);
    ``fresh`` numbers the windows when stickiness is off (:func:`artdash.policy.assign.window_of`)."""
    member_key = f"member:{member.id}"
    window = window_of(member_key, when, window_hours, fresh)
    if held_out is not None and held_out.holdout.holds(member.id):
        served = held_out.policy
    elif isinstance(timeline, Timeline):
        served = timeline.at(window.start if window.start is not None else when)
    else:
        served = timeline
    context = Context(member_key=member_key, affinities=member.tastes, country=member.country,
                      device=member.device or "tv")
    row_of, active = snapshot.row_of, snapshot.active
    rows = [row_of.get(int(t)) for t in title_ids]
    usable = [i for i, r in enumerate(rows) if r is not None and active[r]]
    out: list[TitleDecision | None] = [None] * len(title_ids)
    if len(usable) < len(rows):
        for i, r in enumerate(rows):
            if r is None:
                out[i] = TitleDecision(int(title_ids[i]), None, None, None, "unknown title: nothing to show")
            elif not active[r]:
                out[i] = TitleDecision(int(title_ids[i]), None, None, None, "no active variant: nothing to show")
    context_of = context_row(member.tastes, member.country, member.device)
    c_hash = context_of["context_hash"]
    at_ms = int(when.timestamp() * 1000)
    rows_out = DecisionRows([], at_ms, member.id, [], [], [], [], [], served.name, served.version, c_hash, member.country,
                            member.device)
    if usable:
        at_rows = np.array([rows[i] for i in usable])
        features = explain or not all(p is None or p.policy.context_free for p in (served, shadow))
        whole = snapshot.table.take(at_rows, features)
        sub, allowed, refused = _eligible(snapshot, whole, at_rows, member, when)
        affinity = snapshot.features.affinity_vector(context)[None, :]
        probs = _probabilities(served, snapshot, sub, at_rows, affinity, narrowed=sub is not whole)
        fallback = served.policy.fallback_reason(context)
        # the sticky draws of every candidate, and the race of every row at once
        u = draws(window, sub.title_ids, sub.variant_ids)
        index = _shown(probs, race(probs, sub.valid, u))
        shown = sub.n_actions > 0
        out_rows = np.flatnonzero(shown)
        p_all = probs[np.arange(len(index)), index]
        title_list = sub.title_ids.tolist()
        variant_list = sub.variant_ids[np.arange(len(index)), index].tolist()
        p_list = p_all.tolist()
        n_list = sub.n_actions.tolist()
        reasons = _reasons(probs, sub.valid, index, p_all, n_list, served, fallback)
        if held_out is not None and served is held_out.policy:
            reasons = [f"held out ({held_out.holdout.share:.0%} of members get {held_out.holdout.policy}): {r}"
                       for r in reasons]
        base = signer.base(at_ms, len(usable))   # one signed id per request, one suffix per title
        ids_list, probs_list = sub.variant_ids.tolist(), probs.tolist()     # padded past each row's n_list[j]
        if explain:
            predicted = served.policy.predicted_table(sub, affinity)
            details = served.policy.explain_table(sub, affinity, context, index)
        for j, i in enumerate(usable):
            if not n_list[j]:
                out[i] = TitleDecision(title_list[j], None, None, None, f"nothing may be shown: {refused[j]}")
        event_ids = [base + SUFFIXES[j] for j in out_rows.tolist()]
        for j, event_id in zip(out_rows.tolist(), event_ids):
            reason = reasons[j]
            if explain and n_list[j] > 1:
                if details is None:
                    candidates = [c for c, ok in zip(snapshot.candidates[title_list[j]], allowed[j]) if ok]
                    detail = served.policy.explain(context, candidates, int(index[j]))
                else:
                    detail = details[j]
                reason = f"{reason}: {detail}" if detail else reason
            n = n_list[j]
            out[usable[j]] = TitleDecision(
                title_list[j], variant_list[j], p_list[j], event_id, reason,
                tuple(zip(ids_list[j][:n], probs_list[j][:n])) if explain else (),
                float(predicted[0, j, index[j]]) if explain and predicted is not None else None)
        kept = out_rows.tolist()
        shadow_cols = None
        if shadow is not None:
            shadow_probs = _probabilities(shadow, snapshot, sub, at_rows, affinity, narrowed=sub is not whole)
            mine = _shown(shadow_probs, race(shadow_probs, sub.valid, u))[out_rows]
            shadow_cols = (shadow.name, sub.variant_ids[out_rows, mine].tolist(),
                           shadow_probs[out_rows, mine].tolist(), shadow_probs[out_rows, index[out_rows]].tolist())
        if len(kept) < len(title_list):
            title_list, variant_list, p_list, n_list, ids_list, probs_list = (
                [c[j] for j in kept] for c in (title_list, variant_list, p_list, n_list, ids_list, probs_list))
        rows_out = DecisionRows(event_ids, at_ms, member.id, title_list, variant_list, p_list, ids_list, probs_list,
                                served.name, served.version, c_hash, member.country, member.device, shadow_cols,
                                n_list)
    return Decided(tuple(d for d in out if d is not None), served.name, served.version, when, rows_out, context_of)
