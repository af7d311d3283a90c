"""The catalog as the simulator and the policies' vectorised API see it: arrays of titles,
candidates, tags and visual features, and the persona archetypes members are drawn from."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from artdash.catalog.personas import PersonaView
from artdash.errors import ValidationError
from artdash.policy.context import context_for
from artdash.policy.features import FeatureSpace


@dataclass(frozen=True)
class LabWorld:
    """The catalog as arrays: T titles with up to K active variants, A archetypes."""

    title_ids: np.ndarray          # (T,)
    title_names: tuple[str, ...]
    variant_ids: np.ndarray        # (T, K), 0 past a title's last variant
    n_actions: np.ndarray          # (T,)
    tags: np.ndarray               # (T, K, n_tags)
    visual: np.ndarray             # (T, K, 4)
    archetype_ids: np.ndarray      # (A,) persona ids
    archetype_names: tuple[str, ...]
    archetype_affinity: np.ndarray  # (A, n_tags)
    archetype_country: tuple[str, ...]
    archetype_device: tuple[str, ...]
    features: FeatureSpace
    picks: Mapping[int, int]       # title id → editor's pick variant id

    @property
    def valid(self) -> np.ndarray:
        """(T, K) mask of real candidates."""
        return np.arange(self.variant_ids.shape[1])[None, :] < self.n_actions[:, None]

    @property
    def archetypes(self) -> list[tuple[int, str]]:
        """(persona id, name) of each archetype."""
        return list(zip(self.archetype_ids.tolist(), self.archetype_names))

    def fingerprint(self) -> str:
        """A short hash of everything a run's numbers depend on besides its configuration:
        titles, candidates and their tags and visual features, archetype tastes, editor's
        picks. Same fingerprint and same seed → the same run."""
        digest = hashlib.sha256()
        for array in (self.title_ids, self.variant_ids, self.n_actions, self.tags, self.visual,
                      self.archetype_ids, self.archetype_affinity):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
            digest.update(b"|")
        digest.update(repr((self.archetype_country, self.archetype_device, sorted(self.picks.items()),
                            tuple(self.features.index))).encode())
        return digest.hexdigest()[:16]


def build_world(titles: Sequence[Any], archetypes: Sequence[PersonaView], features: FeatureSpace,
                picks: Mapping[int, int] | None = None) -> LabWorld:
    """From preview titles (with candidates) and personas."""
    titles = [t for t in titles if t.candidates]
    archetypes = [p for p in archetypes if not p.is_blank]
    if not titles:
        raise ValidationError("the lab needs at least one title with an active variant; activate some artwork first")
    if not archetypes:
        raise ValidationError("the lab needs at least one persona with tastes set to draw a population from")
    k = max(len(t.candidates) for t in titles)
    t_count = len(titles)
    variant_ids = np.zeros((t_count, k), dtype=np.int64)
    tags = np.zeros((t_count, k, features.n_tags))
    visual = np.zeros((t_count, k, 4))
    n_actions = np.zeros(t_count, dtype=np.int64)
    for i, title in enumerate(titles):
        cands = sorted(title.candidates, key=lambda c: c.variant_id)
        n_actions[i] = len(cands)
        variant_ids[i, :len(cands)] = [c.variant_id for c in cands]
        tags[i, :len(cands)] = features.tag_matrix(cands)
        visual[i, :len(cands)] = [c.visual for c in cands]
    affinity = np.stack([features.affinity_vector(context_for(p)) for p in archetypes])
    return LabWorld(np.array([t.id for t in titles]), tuple(getattr(t, "display_name", str(t.id)) for t in titles),
                    variant_ids, n_actions, tags, visual, np.array([p.id for p in archetypes]),
                    tuple(p.name for p in archetypes), affinity, tuple(p.country or "US" for p in archetypes),
                    tuple(p.device for p in archetypes), features, dict(picks or {}))



def group_affinity(world: LabWorld) -> np.ndarray:
    """The contexts policies see in a simulation: each archetype's affinities, plus a last,
    blank row for members of unknown taste."""
    return np.vstack([world.archetype_affinity, np.zeros((1, world.features.n_tags))])
