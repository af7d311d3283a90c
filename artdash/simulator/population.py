"""A simulated population and its hidden truth: members drawn around the persona
archetypes, each with tastes of their own, and the taste model's P(play) and P(quality play)
for every member × candidate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from artdash.errors import ValidationError
from artdash.simulator.taste import TasteModel
from artdash.simulator.world import LabWorld


@dataclass(frozen=True)
class Population:
    """Simulated members: which archetype each came from and their true tastes."""

    archetype: np.ndarray   # (M,) index into world archetypes
    affinity: np.ndarray    # (M, n_tags) true tastes


def draw_population(world: LabWorld, mix: Mapping[int, float], n_members: int, noise_sd: float,
                    seed: int) -> Population:
    """``n_members`` members: each from an archetype with probability proportional to its
    share in ``mix`` (persona id → weight), with the archetype's tastes plus noise."""
    rng = np.random.default_rng([seed, 1])
    ids = world.archetype_ids.tolist()
    shares = np.array([max(0.0, float(mix.get(i, 0.0))) for i in ids])
    if shares.sum() <= 0:
        raise ValidationError("the population has no archetypes: give at least one archetype a share above 0")
    archetype = rng.choice(len(ids), size=n_members, p=shares / shares.sum())
    base = world.archetype_affinity[archetype]
    noise = rng.normal(0.0, noise_sd, size=base.shape)
    # Noise moves tastes the archetype has and gives small new ones (people are not stereotypes).
    affinity = np.clip(base + noise * np.where(base != 0, 1.0, 0.3), -1, 1)
    return Population(archetype, affinity)


class Truth:
    """The hidden take model for one population: P(play) and P(quality play) per impression."""

    PRECOMPUTE_LIMIT = 20_000_000  # members × candidates up to which all probabilities are tabled once

    def __init__(self, world: LabWorld, taste: TasteModel, population: Population):
        self.world, self.population, self.taste = world, population, taste
        flat_ids = world.variant_ids.ravel()
        self.appeal = self.taste.appeal(flat_ids.tolist()).reshape(world.variant_ids.shape)
        self._table = None
        members, cells = len(population.archetype), world.variant_ids.size
        if members * cells <= self.PRECOMPUTE_LIMIT:
            match = population.affinity @ world.tags.reshape(cells, -1).T           # (M, T·K)
            play = self.taste.play_probability(match, self.appeal.ravel()[None, :])
            quality = play * self.taste.quality_given_play(match)
            valid = world.valid.ravel()[None, :]
            self._table = (np.where(valid, play, 0.0), np.where(valid, quality, 0.0))

    def probabilities(self, member: np.ndarray, title: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, K) P(play) and P(quality play); 0 past each title's candidates."""
        k = self.world.variant_ids.shape[1]
        if self._table is not None:
            columns = title[:, None] * k + np.arange(k)[None, :]
            rows = member[:, None]
            return self._table[0][rows, columns], self._table[1][rows, columns]
        match = np.einsum("nj,nkj->nk", self.population.affinity[member], self.world.tags[title])
        play = self.taste.play_probability(match, self.appeal[title])
        quality = play * self.taste.quality_given_play(match)
        valid = self.world.valid[title]
        return np.where(valid, play, 0.0), np.where(valid, quality, 0.0)

