"""The one ground-truth taste model: how likely a member with given tag affinities is to
press play on an image with given tags, and to keep watching (a quality play).

Every simulation in ArtDash — the Policy lab's hidden truth, the demo results log, the log
Preview trains its policies on — asks this model; the formula lives in
:meth:`TasteModel.play_probability` and :meth:`TasteModel.quality_given_play` only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def _sigmoid(z: np.ndarray | float) -> np.ndarray:
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
        """Each image's fixed appeal (a seeded normal draw per variant id, sd ``appeal_sd``)."""
        out = []
        for vid in variant_ids:
            digest = hashlib.blake2b(f"{self.seed}|appeal|{vid}".encode(), digest_size=8).digest()
            u = (int.from_bytes(digest, "big") + 0.5) / 2**64
            out.append(NormalDist().inv_cdf(u) * self.appeal_sd)
        return np.asarray(out)

    def play_probability(self, match: np.ndarray, appeal: np.ndarray) -> np.ndarray:
        """P(play) from the taste match (affinity · tags) and the image's appeal (broadcast)."""
        return _sigmoid(self.base + self.strength * match + appeal)

    def quality_given_play(self, match: np.ndarray) -> np.ndarray:
        """P(quality play | play): the taste match only, so clickbait earns plays, not quality."""
        return _sigmoid(self.quality_base + self.quality_strength * match)

    def match(self, affinities: np.ndarray, tags: np.ndarray) -> np.ndarray:
        """affinities (M × T), tags (K × T) → M × K taste match."""
        return affinities @ tags.T

    def take_probability(self, affinities: np.ndarray, tags: np.ndarray, variant_ids: Sequence[int]) -> np.ndarray:
        """M × K P(play) for M members' affinities and K images (tags and ids)."""
        return self.play_probability(self.match(affinities, tags), self.appeal(variant_ids)[None, :])

    def quality_probability(self, affinities: np.ndarray, tags: np.ndarray,
                            variant_ids: Sequence[int]) -> np.ndarray:
        """P(quality play) = P(play) · P(quality | play)."""
        match = self.match(affinities, tags)
        return self.play_probability(match, self.appeal(variant_ids)[None, :]) * self.quality_given_play(match)
