"""Non-personalised baselines: uniform random, editor's pick, best single variant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from artdash.errors import ValidationError
from artdash.policy.base import (
    Candidate,
    CandidateTable,
    Context,
    Groups,
    Policy,
    Rounds,
    State,
    explore,
)
from artdash.policy.table import explore_table, uniform_table


def _check_exploration(exploration: float) -> float:
    if not 0 <= exploration <= 1:
        raise ValidationError(f"`exploration` must be between 0 and 1 (got {exploration})")
    return float(exploration)


class UniformPolicy(Policy):
    """Every active variant equally likely: the logging policy that makes replay possible."""

    name, label = "uniform", "Uniform random"
    context_free = True

    def probabilities(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        return np.full(len(candidates), 1.0 / len(candidates))

    def explain(self, context: Context, candidates: Sequence[Candidate], index: int) -> str:
        return f"uniform random: each of {len(candidates)} variants has {1 / len(candidates):.0%}"

    def table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray:
        return uniform_table(candidates, len(affinity))


class EditorsPickPolicy(Policy):
    """The variant an editor chose for the title; uniform where there is no pick."""

    name, label = "editors-pick", "Editor's pick"
    context_free = True
    first_choice = "the editor's pick"

    def __init__(self, picks: Mapping[int, int] | None = None, exploration: float = 0.0):
        self.picks = dict(picks or {})
        self.exploration = _check_exploration(exploration)

    def probabilities(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        pick = self.picks.get(candidates[0].title_id)
        ids = [c.variant_id for c in candidates]
        if pick not in ids:
            return np.full(len(candidates), 1.0 / len(candidates))
        return explore(ids.index(pick), len(candidates), self.exploration)

    def table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray:
        t = np.array(uniform_table(candidates, 1)[0])
        for i, title_id in enumerate(candidates.title_ids.tolist()):
            pick = self.picks.get(int(title_id))
            hits = np.flatnonzero(candidates.variant_ids[i, :candidates.n_actions[i]] == pick) if pick else np.array([], dtype=int)
            if len(hits):
                valid = np.arange(t.shape[1]) < candidates.n_actions[i]
                t[i] = explore_table(np.array(hits[0]), valid, self.exploration)
        return np.broadcast_to(t, (len(affinity), *t.shape))

    def explain(self, context: Context, candidates: Sequence[Candidate], index: int) -> str:
        pick = self.picks.get(candidates[0].title_id)
        if pick is None:
            return "no editor's pick for this title: uniform random"
        if pick not in [c.variant_id for c in candidates]:
            return f"the editor's pick (#{pick}) is not active: uniform random"
        return "the editor's pick" if candidates[index].variant_id == pick else "exploration away from the editor's pick"


class VariantCounts(Policy):
    """A policy that learns quality plays and impressions per variant (the same for everyone)."""

    learns = True
    context_free = True

    def __init__(self, quality_counts: Mapping[int, tuple[int, int]] | None = None, exploration: float = 0.1):
        self.counts = dict(quality_counts or {})
        self.exploration = _check_exploration(exploration)

    def state(self) -> State:
        ids = sorted(self.counts)
        if not ids:
            return {}
        return {"variant": np.array(ids, dtype=np.int64),
                "successes": np.array([self.counts[v][0] for v in ids], dtype=np.int64),
                "trials": np.array([self.counts[v][1] for v in ids], dtype=np.int64)}

    def restore(self, state: State) -> VariantCounts:
        self.counts = ({int(v): (int(s), int(n)) for v, s, n in
                        zip(state["variant"], state["successes"], state["trials"])} if state else {})
        self.changed()
        return self

    @property
    def learnt_rounds(self) -> int:
        return int(sum(t for _, t in self.counts.values()))

    def learn_groups(self, groups: Groups) -> None:
        for v, q, n in zip(groups.variant.tolist(), groups.q.tolist(), groups.n.tolist()):
            s, t = self.counts.get(int(v), (0, 0))
            self.counts[int(v)] = (s + int(q), t + int(n))
        self.changed()

    def reset(self) -> None:
        self.counts = {}
        self.changed()

    def changed(self) -> None:  # noqa: B027  (a hook for policies that cache what they derive)
        """Called whenever the counts change."""

    def predicted_table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray | None:
        """Each variant's posterior mean quality take rate (Beta(1, 1) prior), the same for everyone."""
        rates = np.zeros(candidates.variant_ids.shape)
        for (i, k), variant_id in np.ndenumerate(candidates.variant_ids):
            if candidates.valid[i, k]:
                successes, trials = self.counts.get(int(variant_id), (0, 0))
                rates[i, k] = (successes + 1) / (trials + 2)
        return np.broadcast_to(rates, (len(affinity), *rates.shape))

    def partial_fit(self, candidates: CandidateTable, affinity: np.ndarray, rounds: Rounds) -> VariantCounts:
        """Add the rounds' quality plays and impressions to each shown variant's counts."""
        shown = candidates.variant_ids[rounds.title, rounds.action]
        ids, index = np.unique(shown, return_inverse=True)
        successes = np.bincount(index, weights=rounds.reward, minlength=len(ids))
        trials = np.bincount(index, minlength=len(ids))
        for vid, s, n in zip(ids.tolist(), successes.tolist(), trials.tolist()):
            old_s, old_n = self.counts.get(int(vid), (0, 0))
            self.counts[int(vid)] = (old_s + int(round(s)), old_n + int(n))
        self.changed()
        return self


class BestSingleVariantPolicy(VariantCounts):
    """The variant with the highest quality take rate so far (the same for everyone), with an
    exploration share. Rates use a Beta(1, 1) posterior mean so unseen variants are not zero."""

    name, label = "best-single", "Best single variant"
    first_choice = "best quality take rate so far"

    def rate(self, variant_id: int) -> float:
        """The variant's posterior mean quality take rate (Beta(1, 1) prior)."""
        successes, trials = self.counts.get(variant_id, (0, 0))
        return (successes + 1) / (trials + 2)

    def table(self, candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray:
        valid = candidates.valid
        rate = np.vectorize(self.rate, otypes=[float])(candidates.variant_ids)
        t = explore_table(np.where(valid, rate, -1.0).argmax(axis=1), valid, self.exploration)
        return np.broadcast_to(t, (len(affinity), *t.shape))

    def probabilities(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        rates = [self.rate(c.variant_id) for c in candidates]
        return explore(int(np.argmax(rates)), len(candidates), self.exploration)

    def predicted_take(self, context: Context, candidate: Candidate) -> float:
        return self.rate(candidate.variant_id)

    def explain(self, context: Context, candidates: Sequence[Candidate], index: int) -> str:
        chosen = candidates[index].variant_id
        successes, trials = self.counts.get(chosen, (0, 0))
        best = int(np.argmax([self.rate(c.variant_id) for c in candidates]))
        what = "best quality take rate so far" if index == best else f"exploration ({self.exploration:.0%} share)"
        return f"{what}: {successes}/{trials} quality plays"
