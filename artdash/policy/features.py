"""Features a linear policy sees: persona affinity × variant tag crosses, visual features, bias."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from artdash.catalog.taxonomy import TagView
from artdash.policy.base import Candidate, Context

N_VISUAL = 4
VISUAL_NAMES = ("brightness", "contrast", "colourfulness", "warmth")


class FeatureSpace:
    """Column layout: one cross feature per tag (affinity to the tag × image carries the tag),
    then the image's visual features, then a bias. Crosses go through tags, not variant ids,
    so a new variant is scored from its tags from its first impression (cold start)."""

    def __init__(self, tags: Sequence[TagView]):
        self.tags = tuple(tags)
        self.index = {t.id: j for j, t in enumerate(self.tags)}
        self.n_tags = len(self.tags)
        self.dim = self.n_tags + N_VISUAL + 1

    def affinity_vector(self, context: Context) -> np.ndarray:
        """The context's affinities as a vector over the tag columns."""
        out = np.zeros(self.n_tags)
        for tag_id, weight in context.affinities.items():
            j = self.index.get(tag_id)
            if j is not None:
                out[j] = weight
        return out

    def tag_matrix(self, candidates: Sequence[Candidate]) -> np.ndarray:
        """K × n_tags indicators of the candidates' tags."""
        out = np.zeros((len(candidates), self.n_tags))
        for i, c in enumerate(candidates):
            for tag_id in c.tag_ids:
                j = self.index.get(tag_id)
                if j is not None:
                    out[i, j] = 1.0
        return out

    def encode(self, context: Context, candidates: Sequence[Candidate]) -> np.ndarray:
        """K × dim feature matrix for one context and K candidates."""
        return self.encode_arrays(self.affinity_vector(context)[None, :], self.tag_matrix(candidates),
                                  np.array([c.visual for c in candidates], dtype=float).reshape(-1, N_VISUAL))[0]

    @staticmethod
    def encode_arrays(affinities: np.ndarray, tags: np.ndarray, visual: np.ndarray) -> np.ndarray:
        """Vectorised: affinities (M × T), tags (K × T), visual (K × 4) → M × K × dim."""
        m, k = affinities.shape[0], tags.shape[0]
        cross = affinities[:, None, :] * tags[None, :, :]
        vis = np.broadcast_to(visual[None, :, :], (m, k, visual.shape[1]))
        bias = np.ones((m, k, 1))
        return np.concatenate([cross, vis, bias], axis=2)

    def describe(self, j: int) -> tuple[str, TagView | None]:
        """What column ``j`` is: a taste × tag cross (with its tag), a visual feature, or the bias."""
        if j < self.n_tags:
            return "cross", self.tags[j]
        if j < self.n_tags + N_VISUAL:
            return VISUAL_NAMES[j - self.n_tags], None
        return "bias", None
