"""What a training's feature rows are made of: each distinct context's tastes and each distinct
variant's tags and visual features, read once per training (not once per logged decision).

Two things make a retrain cheap. A context is stored under the hash of what it holds
(:func:`artdash.decision.decide.context_hash`), so its parsed tastes never go stale and are kept
between trainings (:data:`CONTEXTS`, bounded). And the service's snapshot already holds every
active variant's tags and visual features as arrays; only variants it no longer shows (retired,
or off the schedule) are read from the catalog.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
from sqlalchemy import Engine, select

from artdash.db.models import Variant, VariantTag
from artdash.db.results_schema import decision_contexts
from artdash.decision.snapshot import Snapshot
from artdash.policy.features import N_VISUAL, FeatureSpace


class ContextCache:
    """Parsed tastes by context hash (tag ids and weights, as arrays), the least recently used
    dropped past ``limit``. A hash names its content, so an entry is never stale, whichever store
    it came from."""

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._tastes: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tastes)

    def tastes(self, results: Engine, hashes: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The tastes of each of ``hashes`` (tag ids, weights; an unknown hash: none), reading
        only those not kept yet."""
        wanted = [h for h in hashes if h not in self._tastes]
        with results.connect() as conn:
            for start in range(0, len(wanted), 900):
                for h, text in conn.execute(select(decision_contexts.c.context_hash, decision_contexts.c.affinities)
                                            .where(decision_contexts.c.context_hash.in_(wanted[start:start + 900]))):
                    parsed = json.loads(text)
                    self._tastes[h] = (np.array([int(t) for t in parsed], dtype=np.int64),
                                       np.array(list(parsed.values()), dtype=float))
        none = (np.zeros(0, dtype=np.int64), np.zeros(0))
        found = [self._tastes.get(h, none) for h in hashes]
        for h in hashes:
            if h in self._tastes:
                self._tastes.move_to_end(h)
        while len(self._tastes) > self.limit:
            self._tastes.popitem(last=False)
        return found


CONTEXTS = ContextCache()


def context_affinities(results: Engine, features: FeatureSpace, hashes: list[str],
                       cache: ContextCache = CONTEXTS) -> np.ndarray:
    """The tastes of each context of ``hashes`` as a row (contexts × tags). A hash with no
    stored context, and a tag the taxonomy no longer has, count for nothing."""
    tastes = cache.tastes(results, hashes)
    affinity = np.zeros((len(tastes), features.n_tags))
    if not tastes:
        return affinity
    tag_ids = np.concatenate([ids for ids, _ in tastes])
    weights = np.concatenate([w for _, w in tastes])
    rows = np.repeat(np.arange(len(tastes)), [len(ids) for ids, _ in tastes])
    known = np.array(list(features.index), dtype=np.int64)
    column_of = np.full(int(max(known.max(initial=0), tag_ids.max(initial=0))) + 1, -1, dtype=np.int64)
    column_of[known] = [features.index[int(t)] for t in known]
    columns = column_of[tag_ids]
    kept = columns >= 0
    affinity[rows[kept], columns[kept]] = weights[kept]
    return affinity


def variant_features(catalog_session, features: FeatureSpace, variant: np.ndarray,
                     snapshot: Snapshot | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each distinct variant's tags (as they are now: a retired variant keeps its tags) and
    visual features, and where each of ``variant`` is among them — from ``snapshot`` for the
    variants it shows (over the same taxonomy), from the catalog for the rest."""
    unique_variants, variant_index = np.unique(np.asarray(variant, dtype=np.int64), return_inverse=True)
    tags = np.zeros((len(unique_variants), features.n_tags))
    visual = np.zeros((len(unique_variants), N_VISUAL))
    missing = np.ones(len(unique_variants), dtype=bool)
    if snapshot is not None and snapshot.features.index == features.index and len(unique_variants):
        table = snapshot.table
        shown = table.variant_ids[table.valid]
        order = np.argsort(shown, kind="stable")
        at = np.searchsorted(shown, unique_variants, sorter=order).clip(max=max(len(shown) - 1, 0))
        if len(shown):
            found = shown[order[at]] == unique_variants
            tags[found] = table.tags[table.valid][order[at[found]]]
            visual[found] = table.visual[table.valid][order[at[found]]]
            missing = ~found
    position = {int(v): i for i, v in enumerate(unique_variants.tolist())}
    wanted = unique_variants[missing].tolist()
    for start in range(0, len(wanted), 900):
        part = wanted[start:start + 900]
        for vid, tag_id in catalog_session.execute(select(VariantTag.variant_id, VariantTag.tag_id)
                                                   .where(VariantTag.variant_id.in_(part))):
            j = features.index.get(tag_id)
            if j is not None:
                tags[position[vid], j] = 1.0
        for vid, b, c, col, warm in catalog_session.execute(
                select(Variant.id, Variant.brightness, Variant.contrast, Variant.colourfulness, Variant.warmth)
                .where(Variant.id.in_(part))):
            visual[position[vid]] = (b, c, col / 100, warm)
    return tags, visual, variant_index
