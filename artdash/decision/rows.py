"""The rows a decision request logs, as a typed record of columns.

A request's rows travel as columns (one entry per title decided): the decision path builds them
from arrays without a Python object per row, the journal writes them as one JSON line, and only
the store's insert (:meth:`DecisionRows.tuples`, in the journal mover's process) lays them out
as the ``decisions`` table's rows — candidates' JSON text included. Light on purpose: the mover
imports it without numpy or the policies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

# The decisions table's columns, in the order each logged row (a tuple) holds them.
DECISION_COLUMNS = ("event_id", "at_ms", "member_id", "title_id", "variant_id", "propensity", "candidates", "policy",
                    "model_version", "context_hash", "country", "device", "shadow_policy", "shadow_variant_id",
                    "shadow_propensity", "shadow_p_shown")


@dataclass(frozen=True)
class DecisionRows:
    """The rows a request logs, as columns (one entry per title decided; nothing for a title
    that could not be shown): event ids, the shown variants and their propensities, every
    candidate's id and probability (``candidate_ids[i]``, ``candidate_probs[i]``, padded past
    ``candidate_counts[i]`` when given), and what the rows share (when, who, which policy and
    version, the context). :meth:`tuples` gives them in ``DECISION_COLUMNS`` order."""

    event_ids: list[str]
    at_ms: int
    member_id: str
    title_ids: list[int]
    variant_ids: list[int]
    propensities: list[float]
    candidate_ids: list[list[int]]
    candidate_probs: list[list[float]]
    policy: str
    model_version: int
    context_hash: str
    country: str
    device: str
    shadow: tuple[str, list[int], list[float], list[float]] | None = None   # policy, choice, p(choice), p(shown)
    candidate_counts: list[int] | None = None   # each row's candidates; past it, ids and probabilities are padding

    def __len__(self) -> int:
        return len(self.event_ids)

    def candidates(self) -> list[str]:
        """Each row's candidates as the store keeps them: JSON ``[[variant id, probability], …]``."""
        counts = self.candidate_counts or [len(ids) for ids in self.candidate_ids]
        return [orjson.dumps([[v, p] for v, p in zip(ids[:n], probs[:n])]).decode()
                for ids, probs, n in zip(self.candidate_ids, self.candidate_probs, counts)]

    def tuples(self) -> list[tuple]:
        """The rows as tuples in ``DECISION_COLUMNS`` order (for the driver's executemany)."""
        n = len(self.event_ids)
        if self.shadow is None:
            shadowed: Sequence = [(None, None, None, None)] * n
        else:
            name, chosen, p_chosen, p_shown = self.shadow
            shadowed = [(name, c, pc, ps) for c, pc, ps in zip(chosen, p_chosen, p_shown)]
        return [(e, self.at_ms, self.member_id, t, v, p, c, self.policy, self.model_version, self.context_hash,
                 self.country, self.device, *sh)
                for e, t, v, p, c, sh in zip(self.event_ids, self.title_ids, self.variant_ids, self.propensities,
                                             self.candidates(), shadowed)]

    def record(self) -> dict[str, Any]:
        """The columns as one JSON-ready mapping (a journal line; :meth:`of_record` reads it back)."""
        return {"e": self.event_ids, "at": self.at_ms, "m": self.member_id, "t": self.title_ids, "v": self.variant_ids,
                "p": self.propensities, "ci": self.candidate_ids, "cp": self.candidate_probs, "pol": self.policy,
                "mv": self.model_version, "h": self.context_hash, "co": self.country, "dv": self.device,
                "sh": self.shadow, "n": self.candidate_counts}

    @classmethod
    def of_record(cls, r: dict[str, Any]) -> DecisionRows:
        """The rows :meth:`record` wrote."""
        shadow = r.get("sh")
        return cls(r["e"], r["at"], r["m"], r["t"], r["v"], r["p"], r["ci"], r["cp"], r["pol"], r["mv"], r["h"],
                   r["co"], r["dv"], tuple(shadow) if shadow else None, r.get("n"))
