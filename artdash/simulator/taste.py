"""A seeded ground-truth taste model and logged-impression generator.

Stands in for real logs until the results database exists (and powers the policy lab later):
how likely a member with given tag affinities is to press play on an image with given tags.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from artdash.policy.base import Candidate, Context, Policy
from artdash.policy.baselines import UniformPolicy
from artdash.policy.features import FeatureSpace


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class TasteModel:
    """P(play) = σ(base + strength · affinity·tags + appeal_v); P(quality | play) = σ(q0 + q1 · match).

    ``appeal_v`` is a fixed per-image draw (some images are simply more clickable); quality
    plays depend on the taste match only, so a clickbait image earns plays but not quality plays.
    """

    base: float = -2.2
    strength: float = 1.2
    appeal_sd: float = 0.25
    quality_base: float = 0.0
    quality_strength: float = 1.0
    seed: int = 0

    def appeal(self, variant_ids: Sequence[int]) -> np.ndarray:
        out = []
        for vid in variant_ids:
            digest = hashlib.blake2b(f"{self.seed}|appeal|{vid}".encode(), digest_size=8).digest()
            u = (int.from_bytes(digest, "big") + 0.5) / 2**64
            out.append(NormalDist().inv_cdf(u) * self.appeal_sd)
        return np.asarray(out)

    def match(self, affinities: np.ndarray, tags: np.ndarray) -> np.ndarray:
        """affinities (M × T), tags (K × T) → M × K taste match."""
        return affinities @ tags.T

    def take_probability(self, affinities: np.ndarray, tags: np.ndarray, variant_ids: Sequence[int]) -> np.ndarray:
        return _sigmoid(self.base + self.strength * self.match(affinities, tags) + self.appeal(variant_ids)[None, :])

    def quality_probability(self, affinities, tags, variant_ids) -> np.ndarray:
        """P(quality play) = P(play) · P(quality | play)."""
        play = self.take_probability(affinities, tags, variant_ids)
        return play * _sigmoid(self.quality_base + self.quality_strength * self.match(affinities, tags))


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
                 candidates_by_title: dict[int, Sequence[Candidate]], n: int, seed: int = 0,
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
        p_play = _sigmoid(taste.base + taste.strength * match + taste.appeal(ids.tolist())[k])
        did_play = draws[rows, 1] < p_play
        played[rows] = did_play
        quality[rows] = did_play & (draws[rows, 2] < _sigmoid(taste.quality_base + taste.quality_strength * match))
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
