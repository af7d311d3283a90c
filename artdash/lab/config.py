"""A Policy-lab run's configuration: the population, the hidden truth, the length, the
policies and the seed — everything that, with the catalog, decides the run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from artdash.errors import ValidationError
from artdash.policy import registry
from artdash.simulator.population import Population, Truth, draw_population
from artdash.simulator.taste import TasteModel
from artdash.simulator.world import LabWorld

POLICY_LABELS = registry.LABELS   # policy key → label, from the one registry
MAX_IMPRESSIONS = 5_000_000


@dataclass(frozen=True)
class LabConfig:
    """A lab run: population, hidden truth, length, policies, seed."""

    mix: Mapping[int, float] = field(default_factory=dict)   # archetype persona id → weight
    noise_sd: float = 0.3           # how far members' true tastes stray from their archetype
    n_members: int = 5_000
    strength: float = 1.5           # how strongly taste match drives takes
    appeal_sd: float = 0.25         # per-image appeal, the same for everyone
    base: float = -2.2
    impressions: int = 20_000
    batch_size: int = 2_000         # policies learn every this many impressions
    policies: tuple[str, ...] = registry.DEFAULT_LINEUP
    exploration: float = 0.05
    seed: int = 0
    quality_seconds: float = 300.0

    def taste(self) -> TasteModel:
        """The run's ground truth (the one taste model, with this run's parameters)."""
        return TasteModel(base=self.base, strength=self.strength, appeal_sd=self.appeal_sd, seed=self.seed)

    def check(self, world: LabWorld | None = None) -> LabConfig:
        """Refuses a configuration that cannot run, saying what to change."""
        weights = {int(k): float(v) for k, v in self.mix.items() if float(v) > 0}
        if not weights:
            raise ValidationError("the population has no archetypes: give at least one archetype a share above 0")
        if any(v < 0 for v in self.mix.values()):
            raise ValidationError("archetype shares cannot be negative")
        if world is not None:
            unknown = set(weights) - set(world.archetype_ids.tolist())
            if unknown:
                raise ValidationError(f"archetype id(s) {sorted(unknown)} are not personas with tastes in this catalog")
        if not 0 < self.impressions <= MAX_IMPRESSIONS:
            raise ValidationError(f"impressions must be between 1 and {MAX_IMPRESSIONS:,} (got {self.impressions:,})")
        if not 1 <= self.batch_size <= self.impressions:
            raise ValidationError("the learning period must be between 1 and the number of impressions")
        if self.n_members < 1:
            raise ValidationError("the population needs at least one member")
        if self.noise_sd < 0 or self.appeal_sd < 0:
            raise ValidationError("noise and appeal spreads cannot be negative")
        if not self.policies:
            raise ValidationError("pick at least one policy to run")
        for name in self.policies:
            registry.check(name)
        if not 0 <= self.exploration <= 1:
            raise ValidationError("exploration must be between 0 and 1")
        return self

    def to_dict(self) -> dict:
        """JSON-safe form (saved with the run)."""
        out = asdict(self)
        out["mix"] = {str(k): float(v) for k, v in self.mix.items()}
        out["policies"] = list(self.policies)
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> LabConfig:
        """The configuration saved by :meth:`to_dict` (unknown keys ignored)."""
        data = dict(data)
        data["mix"] = {int(k): float(v) for k, v in data.get("mix", {}).items()}
        data["policies"] = tuple(data.get("policies", ()))
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})



    def population(self, world: LabWorld) -> Population:
        """The run's members (the same seed draws the same members)."""
        return draw_population(world, self.mix, self.n_members, self.noise_sd, self.seed)

    def truth(self, world: LabWorld, population: Population | None = None) -> Truth:
        """The hidden take model for the run's population."""
        return Truth(world, self.taste(), population if population is not None else self.population(world))
