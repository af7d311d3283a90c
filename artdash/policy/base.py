"""The policy interface and the objects it speaks in (sticky assignment: :mod:`artdash.policy.assign`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from artdash import clock
from artdash.policy.assign import DEFAULT_WINDOW_HOURS, pick


@dataclass(frozen=True)
class Candidate:
    """One active variant of a title, as a policy sees it."""

    variant_id: int
    title_id: int
    tag_ids: frozenset[int]
    visual: tuple[float, float, float, float]  # brightness, contrast, colourfulness / 100, warmth
    label: str = ""


@dataclass(frozen=True)
class Context:
    """Who is asking: a stable key (persona or member id) for stickiness, and their tastes."""

    member_key: str
    affinities: Mapping[int, float] = field(default_factory=dict)
    country: str = ""
    device: str = "tv"

    @property
    def is_blank(self) -> bool:
        """Whether the context has no tastes at all (nothing to personalise on)."""
        return not any(self.affinities.values())


@dataclass(frozen=True)
class Decision:
    """The variant shown, the probability it had (its propensity), and why."""

    title_id: int
    variant_id: int | None
    propensity: float
    probabilities: Mapping[int, float]
    explanation: str
    policy: str
    fallback: bool = False
    predicted_take: float | None = None


ROUND_FIELDS = ("group", "title", "action", "propensity", "played", "quality")


class CandidateTable(Protocol):
    """The catalog as arrays (``artdash.simulator.world.LabWorld`` is one): T titles with up
    to K candidates each. ``title_ids`` (T,); ``variant_ids`` (T, K), 0 past a title's last
    candidate; ``n_actions`` (T,); ``tags`` (T, K, n_tags) indicators; ``visual`` (T, K, 4);
    ``features`` the FeatureSpace whose ``tags`` name each tag column; ``valid`` (T, K) mask."""

    @property
    def title_ids(self) -> np.ndarray: ...

    @property
    def variant_ids(self) -> np.ndarray: ...

    @property
    def n_actions(self) -> np.ndarray: ...

    @property
    def tags(self) -> np.ndarray: ...

    @property
    def visual(self) -> np.ndarray: ...

    @property
    def features(self) -> Any: ...

    @property
    def valid(self) -> np.ndarray: ...


@dataclass
class Rounds:
    """Logged rounds: indices into the contexts (``group``), the titles and their candidates
    (``action``), with the propensity the logging policy gave the shown candidate and what
    happened. The reward policies learn is the quality play."""

    group: np.ndarray       # context row (archetype index; the last row is "unknown taste")
    title: np.ndarray       # title index
    action: np.ndarray      # candidate index
    propensity: np.ndarray
    played: np.ndarray
    quality: np.ndarray

    def __len__(self) -> int:
        return len(self.action)

    @property
    def reward(self) -> np.ndarray:
        """The reward policies learn from: 1 for a quality play, else 0."""
        return np.asarray(self.quality, dtype=float)

    def take(self, index: slice | np.ndarray) -> Rounds:
        """The rounds at ``index`` (a slice, a mask or positions)."""
        return Rounds(*(getattr(self, f)[index] for f in ROUND_FIELDS))

    @staticmethod
    def concat(parts: Sequence[Rounds]) -> Rounds:
        """All rounds of ``parts``, in order."""
        return Rounds(*(np.concatenate([getattr(p, f) for p in parts]) for f in ROUND_FIELDS))


def title_candidates(candidates: CandidateTable) -> dict[int, list[Candidate]]:
    """Title id → its candidates as :class:`Candidate` objects (for policies that speak them)."""
    tags = candidates.features.tags
    out: dict[int, list[Candidate]] = {}
    for i, title_id in enumerate(candidates.title_ids.tolist()):
        out[int(title_id)] = [
            Candidate(int(candidates.variant_ids[i, k]), int(title_id),
                      frozenset(tags[j].id for j in np.flatnonzero(candidates.tags[i, k])),
                      tuple(float(v) for v in candidates.visual[i, k]))  # type: ignore[arg-type]
            for k in range(int(candidates.n_actions[i]))]
    return out


@dataclass(frozen=True)
class Groups:
    """Logged decisions summed per (context, variant) — what a served policy learns from:
    each group's variant, rounds, Σ 1/propensity, Σ reward/propensity and quality plays, and
    (for policies that personalise) the feature rows of a slice of groups, built on demand."""

    variant: np.ndarray
    n: np.ndarray
    w: np.ndarray
    wr: np.ndarray
    q: np.ndarray
    features: Callable[[slice], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.n)


State = dict[str, np.ndarray]


class Policy(ABC):
    """Probabilities over a title's active variants for a context, and decisions from them.

    A policy that ``learns`` keeps what it learnt as additive sums: :meth:`state` returns them
    (arrays: a stored model version is just these), :meth:`restore` starts from them and
    :meth:`learn_groups` adds logged decisions — so a version trained on two logs is the one
    trained on their union, and training continues from the last version."""

    name: str = "policy"
    label: str = "Policy"
    learns: bool = False
    first_choice: str = "the policy's first choice"     # why a decision went to its most likely variant
    context_free: bool = False      # True: the probabilities of a title's candidates are the same for every member

    def state(self) -> State:
        """What the policy has learnt, as arrays ({} for a policy that learns nothing)."""
        return {}

    def restore(self, state: State) -> Policy:
        """Continue from ``state`` (of :meth:`state`)."""
        return self

    def learn_groups(self, groups: Groups) -> None:  # noqa: B027  (a no-op for policies that learn nothing)
        """Add summed logged decisions to what the policy has learnt."""

    @property
    def learnt_rounds(self) -> int:
        """How many logged decisions it has learnt from (0 for a policy that learns nothing)."""
        return 0

    @abstractmethod
    def probabilities(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        """One probability per candidate (same order), summing to 1."""

    def explain(self, context: Context, candidates: Sequence[Candidate], index: int) -> str:
        """Why candidate ``index`` was chosen, in a sentence ('' when there is nothing to say)."""
        return ""

    def predicted_take(self, context: Context, candidate: Candidate) -> float | None:
        """The policy's own predicted quality take rate for the candidate, if it has one."""
        return None

    def explain_table(self, candidates: CandidateTable, affinity: np.ndarray, context: Context,
                      picks: np.ndarray) -> list[str] | None:
        """:meth:`explain` for the pick of every title of ``candidates`` at once, for one
        context (the row of ``affinity``); None: ask :meth:`explain` title by title."""
        return None

    def predicted_table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray | None:
        """(G, T, K) the policy's own predicted quality take rate of every candidate, or None
        when it predicts none (the vectorised :meth:`predicted_take`)."""
        return None

    def fallback_reason(self, context: Context) -> str:
        """Non-empty when this policy cannot personalise for ``context`` and says why."""
        return ""

    # -- the vectorised half: many contexts × titles at once (see artdash.policy.table) --------
    def table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray:
        """(G, T, K) probabilities for the G contexts (rows of ``affinity``) on every title of
        ``candidates``; 0 past each title's candidates. This default asks :meth:`probabilities`
        once per (context, title); policies override it with array arithmetic."""
        tags = candidates.features.tags
        out = np.zeros((len(affinity), *candidates.variant_ids.shape))
        by_title = title_candidates(candidates)
        for g, row in enumerate(np.asarray(affinity)):
            context = Context(member_key=f"group:{g}",
                              affinities={tags[j].id: float(row[j]) for j in np.flatnonzero(row)})
            for i, title_id in enumerate(candidates.title_ids.tolist()):
                out[g, i, :candidates.n_actions[i]] = self.probabilities(context, by_title[int(title_id)])
        return out

    def partial_fit(self, candidates: CandidateTable, affinity: np.ndarray, rounds: Rounds) -> Policy:
        """Learn from newly logged ``rounds`` (indices into ``candidates`` and the contexts of
        ``affinity``), keeping what was learnt before. Policies that learn nothing ignore it."""
        return self

    def reset(self) -> None:  # noqa: B027  (a no-op is right for policies that learn nothing)
        """Forget everything learnt (policies that learn override it)."""

    def fit(self, candidates: CandidateTable, affinity: np.ndarray, rounds: Rounds) -> Policy:
        """Learn from ``rounds`` from scratch."""
        self.reset()
        return self.partial_fit(candidates, affinity, rounds)

    def decide(self, context: Context, candidates: Sequence[Candidate], when: datetime | None = None,
               window_hours: float = DEFAULT_WINDOW_HOURS) -> Decision:
        """Pick one candidate, stickily. A title with no active variant gets no decision."""
        if not candidates:
            return Decision(title_id=-1, variant_id=None, propensity=0.0, probabilities={},
                            explanation="no active variant: nothing to show", policy=self.name, fallback=True)
        ordered = sorted(candidates, key=lambda c: c.variant_id)
        probs = self.probabilities(context, ordered)
        index = pick(context.member_key, ordered[0].title_id, np.array([c.variant_id for c in ordered]), probs,
                     when or clock.now(), window_hours)
        reason = self.fallback_reason(context)
        explanation = self.explain(context, ordered, index)
        if len(ordered) == 1:
            explanation = "the only active variant of this title"
        elif reason:
            explanation = f"{reason}; {explanation}" if explanation else reason
        return Decision(title_id=ordered[0].title_id, variant_id=ordered[index].variant_id,
                        propensity=float(probs[index]),
                        probabilities={c.variant_id: float(p) for c, p in zip(ordered, probs)},
                        explanation=explanation, policy=self.name, fallback=bool(reason),
                        predicted_take=self.predicted_take(context, ordered[index]))


def explore(best: int, n: int, exploration: float) -> np.ndarray:
    """(1 − ε) on the best candidate and ε spread evenly over all of them."""
    probs = np.full(n, exploration / n)
    probs[best] += 1.0 - exploration
    return probs
