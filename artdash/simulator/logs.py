"""Simulated logs: impressions as a logging policy would have logged them, outcomes drawn
from the taste model, vectorised (no per-row Python)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from artdash.policy.base import Candidate, Context, Policy
from artdash.policy.baselines import UniformPolicy
from artdash.policy.features import FeatureSpace
from artdash.simulator.taste import TasteModel

MIN_PLAY_SECONDS = 5.0
MAX_PLAY_SECONDS = 5400.0      # a feature's length: the longest a simulated play lasts


def play_seconds(rng: np.random.Generator, played: np.ndarray, quality: np.ndarray, threshold: float) -> np.ndarray:
    """Simulated play durations, the one rule every simulated log uses (the lab's, the demo's,
    the load driver's): a quality play lasts from the quality threshold to 90 minutes, any other
    play from 5 s to just under the threshold, no play 0 — uniformly, for the same draws in the
    same order everywhere."""
    n = np.shape(played)
    long = rng.uniform(threshold, MAX_PLAY_SECONDS, n)
    short = rng.uniform(MIN_PLAY_SECONDS, max(threshold - 1.0, MIN_PLAY_SECONDS + 1.0), n)
    return np.where(np.asarray(quality, bool), long, np.where(np.asarray(played, bool), short, 0.0))


def one_play_seconds(rng: np.random.Generator, played: bool, quality: bool, threshold: float) -> float:
    """:func:`play_seconds` for one outcome as it happens (one draw, only when played)."""
    if quality:
        return float(rng.uniform(threshold, MAX_PLAY_SECONDS))
    if played:
        return float(rng.uniform(MIN_PLAY_SECONDS, max(threshold - 1.0, MIN_PLAY_SECONDS + 1.0)))
    return 0.0


@dataclass(frozen=True)
class LoggedRounds:
    """Logged impressions: features of the shown variant, its propensity and outcomes."""

    x: np.ndarray
    propensity: np.ndarray
    played: np.ndarray
    quality: np.ndarray
    context_index: np.ndarray
    title_id: np.ndarray
    variant_id: np.ndarray
    affinity: np.ndarray  # the (jittered) member's affinities, for learners that want the whole context

    def __len__(self) -> int:
        return len(self.propensity)


def simulate_log(taste: TasteModel, features: FeatureSpace, contexts: Sequence[Context],
                 candidates_by_title: Mapping[int, Sequence[Candidate]], n: int, seed: int = 0,
                 logging_policy: Policy | None = None, noise_sd: float = 0.2) -> LoggedRounds:
    """``n`` impressions: a random context (its affinities jittered by ``noise_sd``, as real
    members differ from their archetype), a random title, a variant drawn from the logging
    policy (uniform by default) with its propensity, and outcomes from the taste model.
    Vectorised per title; the same seed gives the same log."""
    rng = np.random.default_rng(seed)
    logging_policy = logging_policy or UniformPolicy()
    titles = sorted(t for t, c in candidates_by_title.items() if c)
    if not titles or not contexts:
        raise ValueError("need at least one context and one title with active variants")
    base_affinity = np.stack([features.affinity_vector(c) for c in contexts])
    ctx = rng.integers(len(contexts), size=n)
    title_pick = rng.integers(len(titles), size=n)
    noise = rng.normal(0.0, noise_sd, size=(n, features.n_tags))
    affinity = np.clip(base_affinity[ctx] + noise * (base_affinity[ctx] != 0), -1, 1)
    draws = rng.random((n, 3))  # variant choice, play, quality
    x = np.empty((n, features.dim))
    propensity, played, quality = np.empty(n), np.zeros(n, bool), np.zeros(n, bool)
    variant_id = np.empty(n, dtype=np.int64)
    for t_index, title_id in enumerate(titles):
        rows = np.flatnonzero(title_pick == t_index)
        if not len(rows):
            continue
        cands = sorted(candidates_by_title[title_id], key=lambda c: c.variant_id)
        tags = features.tag_matrix(cands)
        visual = np.array([c.visual for c in cands], dtype=float)
        ids = np.array([c.variant_id for c in cands])
        # The logging policy sees the archetype, not the jittered member.
        probs_by_context = np.stack([logging_policy.probabilities(c, cands) for c in contexts])
        probs = probs_by_context[ctx[rows]]
        k = (draws[rows, 0:1] < np.cumsum(probs, axis=1)).argmax(axis=1)
        aff = affinity[rows]
        match = (aff * tags[k]).sum(axis=1)
        p_play = taste.play_probability(match, taste.appeal(ids.tolist())[k])
        did_play = draws[rows, 1] < p_play
        played[rows] = did_play
        quality[rows] = did_play & (draws[rows, 2] < taste.quality_given_play(match))
        propensity[rows] = probs[np.arange(len(rows)), k]
        x[rows, :features.n_tags] = aff * tags[k]
        x[rows, features.n_tags:features.n_tags + visual.shape[1]] = visual[k]
        x[rows, -1] = 1.0
        variant_id[rows] = ids[k]
    return LoggedRounds(x, propensity, played, quality, ctx, np.array(titles)[title_pick], variant_id, affinity)


SIMULATED_MEMBER = r"^[A-Za-z0-9]+-(a\d+)-m\d+$"


def simulated_member_id(source: str, archetype_id: int, member: int) -> str:
    """The id of a simulated member, ``<source>-a<persona id>-m<n>``: it carries the archetype
    the member was drawn from, so offline evaluation on a simulated log can find it again."""
    return f"{source}-a{int(archetype_id)}-m{int(member)}"


def simulated_member_ids(source: str, archetype_ids: np.ndarray, members: np.ndarray) -> np.ndarray:
    """:func:`simulated_member_id` for many members at once (vectorised string building)."""
    return (pd.Series(np.asarray(archetype_ids).astype(np.int64)).astype(str).radd(f"{source}-a")
            .str.cat(pd.Series(np.asarray(members).astype(np.int64)).astype(str), sep="-m").to_numpy())


def numbered_ids(prefix: str, n: int) -> np.ndarray:
    """``prefix0``, ``prefix1``, … (event ids of a simulated log), vectorised."""
    return pd.Series(np.arange(n)).astype(str).radd(prefix).to_numpy()
