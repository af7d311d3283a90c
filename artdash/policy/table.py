"""Policies over many (context, title) pairs at once: the vectorised half of the policy API.

A :class:`CandidateTable` is a catalog as arrays — T titles with up to K candidates each, their
tags and visual features. Contexts are rows of an affinity matrix (G × n_tags: archetypes, or
members). Every :class:`artdash.policy.base.Policy` can then

- ``table(candidates, affinity)`` → (G, T, K) probabilities, 0 past each title's candidates;
- ``partial_fit(candidates, affinity, rounds)`` → learn from logged :class:`Rounds` (indices
  into the table and the contexts, with propensities and rewards), keeping what it knew;
- ``fit(...)`` → the same from scratch.

The Policy lab runs every policy through this API; Preview and the decision service ask the
same objects one context at a time (``probabilities``/``decide``).
"""

from __future__ import annotations

import numpy as np

from artdash.policy.base import CandidateTable, Rounds, title_candidates

__all__ = ["CandidateTable", "Rounds", "explore_table", "feature_tensor", "title_candidates", "uniform_table"]

def uniform_table(candidates: CandidateTable, groups: int) -> np.ndarray:
    """(G, T, K): every candidate of a title equally likely."""
    t = np.where(candidates.valid, 1.0 / np.maximum(candidates.n_actions, 1)[:, None], 0.0)
    return np.broadcast_to(t, (groups, *t.shape))


def explore_table(best: np.ndarray, valid: np.ndarray, exploration: float) -> np.ndarray:
    """(…, K) probabilities: 1 − ε on ``best`` (…), ε spread over the valid candidates (the
    table form of :func:`artdash.policy.base.explore`)."""
    n = valid.sum(axis=-1, keepdims=True)
    table = np.where(valid, exploration / n, 0.0)
    np.put_along_axis(table, best[..., None], np.take_along_axis(table, best[..., None], -1) + 1 - exploration, -1)
    return table


def feature_tensor(candidates: CandidateTable, affinity: np.ndarray) -> np.ndarray:
    """(G, T, K, dim): the feature vector of every context × title × candidate, laid out as
    :meth:`FeatureSpace.encode` lays out one (crosses, visual features, bias)."""
    groups = len(affinity)
    t_count, k = candidates.variant_ids.shape
    cross = affinity[:, None, None, :] * candidates.tags[None, :, :, :]
    vis = np.broadcast_to(candidates.visual[None], (groups, t_count, k, candidates.visual.shape[-1]))
    return np.concatenate([cross, vis, np.ones((groups, t_count, k, 1))], axis=3)
