"""Policy lab: run policies against a simulated population, and evaluate them offline.

    >>> world = lab.load_world(session)                          # the catalog, as policies see it
    >>> config = lab.LabConfig(mix={a.id: 1.0 for a in world.archetypes}, impressions=20_000)
    >>> result = lab.run_online(world, config)                   # every policy on the same stream
    >>> result.summary()                                         # take rates with intervals, regret
    >>> lab.offline_table(world, config, result.traces["uniform"])   # OPE on the uniform log

The hidden truth is :class:`artdash.simulator.taste.TasteModel`: members are drawn from the persona
archetypes in the configured mix, each with their own tastes (the archetype's affinities
plus noise); policies see the member's archetype, not the member's true tastes. Every policy
meets the same members, titles and random draws (common random numbers), so differences
between policies are differences between policies, not luck. Policies learn every
``batch_size`` impressions from what they have logged so far.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from artdash import clock, ope, stats
from artdash.catalog.personas import PersonaView, list_personas
from artdash.catalog.taxonomy import list_tags
from artdash.errors import ValidationError
from artdash.policy.features import FeatureSpace
from artdash.policy.linear import LinearBanditPolicy
from artdash.simulator.taste import SIMULATED_MEMBER, TasteModel, _sigmoid, simulated_member_id

POLICY_LABELS = {
    "uniform": "Uniform random",
    "editors-pick": "Editor's pick",
    "best-single": "Best single variant",
    "linucb": "Contextual bandit (LinUCB)",
    "vw": "Contextual bandit (Vowpal Wabbit)",
}
MAX_IMPRESSIONS = 5_000_000


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


def build_world(titles: Sequence, archetypes: Sequence[PersonaView], features: FeatureSpace,
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
    affinity = np.stack([features.affinity_vector(_context(p)) for p in archetypes])
    return LabWorld(np.array([t.id for t in titles]), tuple(getattr(t, "display_name", str(t.id)) for t in titles),
                    variant_ids, n_actions, tags, visual, np.array([p.id for p in archetypes]),
                    tuple(p.name for p in archetypes), affinity, tuple(p.country or "US" for p in archetypes),
                    tuple(p.device for p in archetypes), features, dict(picks or {}))


def _context(persona: PersonaView):
    from artdash.preview import context_for

    return context_for(persona)


def load_world(session: Session) -> LabWorld:
    """The catalog's titles with active artwork and its synthetic personas as archetypes."""
    from artdash.preview import editors_picks, load_preview_catalog

    archetypes = [p for p in list_personas(session) if p.kind == "synthetic" and not p.is_blank]
    return build_world(load_preview_catalog(session), archetypes, FeatureSpace(list_tags(session)),
                       editors_picks(session))


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
    policies: tuple[str, ...] = ("uniform", "editors-pick", "best-single", "linucb")
    exploration: float = 0.05
    seed: int = 0
    quality_seconds: float = 300.0

    def taste(self) -> TasteModel:
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
        unknown_policies = [p for p in self.policies if p not in POLICY_LABELS]
        if unknown_policies:
            raise ValidationError(f"unknown policy {unknown_policies[0]!r}; choose from {', '.join(POLICY_LABELS)}")
        if not 0 <= self.exploration <= 1:
            raise ValidationError("exploration must be between 0 and 1")
        return self

    def to_dict(self) -> dict:
        out = asdict(self)
        out["mix"] = {str(k): float(v) for k, v in self.mix.items()}
        out["policies"] = list(self.policies)
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> LabConfig:
        data = dict(data)
        data["mix"] = {int(k): float(v) for k, v in data.get("mix", {}).items()}
        data["policies"] = tuple(data.get("policies", ()))
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Population:
    archetype: np.ndarray   # (M,) index into world archetypes
    affinity: np.ndarray    # (M, n_tags) true tastes


def draw_population(world: LabWorld, config: LabConfig) -> Population:
    rng = np.random.default_rng([config.seed, 1])
    ids = world.archetype_ids.tolist()
    shares = np.array([max(0.0, float(config.mix.get(i, 0.0))) for i in ids])
    if shares.sum() <= 0:
        raise ValidationError("the population has no archetypes: give at least one archetype a share above 0")
    archetype = rng.choice(len(ids), size=config.n_members, p=shares / shares.sum())
    base = world.archetype_affinity[archetype]
    noise = rng.normal(0.0, config.noise_sd, size=base.shape)
    # Noise moves tastes the archetype has and gives small new ones (people are not stereotypes).
    affinity = np.clip(base + noise * np.where(base != 0, 1.0, 0.3), -1, 1)
    return Population(archetype, affinity)


class Truth:
    """The hidden take model for one population: P(play) and P(quality play) per impression."""

    PRECOMPUTE_LIMIT = 20_000_000  # members × candidates up to which all probabilities are tabled once

    def __init__(self, world: LabWorld, config: LabConfig, population: Population):
        self.world, self.population, self.taste = world, population, config.taste()
        flat_ids = world.variant_ids.ravel()
        self.appeal = self.taste.appeal(flat_ids.tolist()).reshape(world.variant_ids.shape)
        self._table = None
        members, cells = len(population.archetype), world.variant_ids.size
        if members * cells <= self.PRECOMPUTE_LIMIT:
            match = population.affinity @ world.tags.reshape(cells, -1).T           # (M, T·K)
            play = _sigmoid(self.taste.base + self.taste.strength * match + self.appeal.ravel()[None, :])
            quality = play * _sigmoid(self.taste.quality_base + self.taste.quality_strength * match)
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
        play = _sigmoid(self.taste.base + self.taste.strength * match + self.appeal[title])
        quality = play * _sigmoid(self.taste.quality_base + self.taste.quality_strength * match)
        valid = self.world.valid[title]
        return np.where(valid, play, 0.0), np.where(valid, quality, 0.0)


# --- learners: a policy as a table of probabilities over (archetype, title, candidate) --------

@dataclass
class Rounds:
    """Logged rounds of one policy (indices into the world)."""

    group: np.ndarray       # archetype index (A = unknown member)
    title: np.ndarray       # title index
    action: np.ndarray      # candidate index
    propensity: np.ndarray
    played: np.ndarray
    quality: np.ndarray

    def __len__(self) -> int:
        return len(self.action)

    def take(self, index) -> Rounds:
        return Rounds(*(getattr(self, f)[index] for f in ("group", "title", "action", "propensity", "played",
                                                           "quality")))

    @staticmethod
    def concat(parts: Sequence[Rounds]) -> Rounds:
        return Rounds(*(np.concatenate([getattr(p, f) for p in parts])
                        for f in ("group", "title", "action", "propensity", "played", "quality")))


def _group_affinity(world: LabWorld) -> np.ndarray:
    """Archetype affinities plus a last, blank row for members of unknown taste."""
    return np.vstack([world.archetype_affinity, np.zeros((1, world.features.n_tags))])


def _explore_table(best: np.ndarray, valid: np.ndarray, exploration: float) -> np.ndarray:
    """(…, K) probabilities: 1 − ε on ``best`` (…), ε spread over the valid candidates."""
    n = valid.sum(axis=-1, keepdims=True)
    table = np.where(valid, exploration / n, 0.0)
    np.put_along_axis(table, best[..., None], np.take_along_axis(table, best[..., None], -1) + 1 - exploration, -1)
    return table


class Learner:
    name = "policy"

    def __init__(self, world: LabWorld, exploration: float):
        self.world, self.exploration = world, exploration
        self.groups = len(world.archetype_ids) + 1

    def table(self) -> np.ndarray:
        """(A + 1, T, K) probabilities."""
        raise NotImplementedError

    def learn(self, new: Rounds) -> None:
        """Update from newly logged rounds (learners keep what they learnt before)."""


class UniformLearner(Learner):
    name = "uniform"

    def table(self):
        valid = self.world.valid
        t = np.where(valid, 1.0 / self.world.n_actions[:, None], 0.0)
        return np.broadcast_to(t, (self.groups, *t.shape))


class EditorsPickLearner(Learner):
    """The editor's pick for every member (no exploration); uniform where there is no pick."""

    name = "editors-pick"

    def table(self):
        w = self.world
        t = np.where(w.valid, 1.0 / w.n_actions[:, None], 0.0)
        for i, title_id in enumerate(w.title_ids.tolist()):
            pick = w.picks.get(title_id)
            hits = np.flatnonzero(w.variant_ids[i, :w.n_actions[i]] == pick) if pick else []
            if len(hits):
                t[i] = 0.0
                t[i, hits[0]] = 1.0
        return np.broadcast_to(t, (self.groups, *t.shape))


class BestSingleLearner(Learner):
    """The variant with the best quality take rate so far (Beta(1, 1) posterior mean), for
    everyone, with an exploration share."""

    name = "best-single"

    def __init__(self, world, exploration):
        super().__init__(world, max(exploration, 0.1))
        self.successes = np.zeros(world.variant_ids.shape)
        self.trials = np.zeros(world.variant_ids.shape)

    def learn(self, new):
        np.add.at(self.successes, (new.title, new.action), new.quality)
        np.add.at(self.trials, (new.title, new.action), 1)

    def table(self):
        rate = np.where(self.world.valid, (self.successes + 1) / (self.trials + 2), -1.0)
        t = _explore_table(rate.argmax(axis=1), self.world.valid, self.exploration)
        return np.broadcast_to(t, (self.groups, *t.shape))


class LinUCBLearner(Learner):
    """The built-in bandit (:class:`LinearBanditPolicy`), updated with each batch (the same model
    as refitting on everything logged so far)."""

    name = "linucb"

    def __init__(self, world, exploration):
        super().__init__(world, exploration)
        self.policy = LinearBanditPolicy(world.features, exploration=exploration)
        g = _group_affinity(world)
        t_count, k = world.variant_ids.shape
        # (G, T, K, D): every group × title × candidate feature vector, built once.
        cross = g[:, None, None, :] * world.tags[None, :, :, :]
        vis = np.broadcast_to(world.visual[None], (self.groups, t_count, k, 4))
        self.x = np.concatenate([cross, vis, np.ones((self.groups, t_count, k, 1))], axis=3)

    def learn(self, new):
        # Rounds sharing (group, title, candidate) share a feature vector: sum their weights per
        # cell and update once per distinct vector (the same model as refitting on everything).
        shape = self.x.shape[:3]
        cell = np.ravel_multi_index((new.group, new.title, new.action), shape)
        weights = 1.0 / new.propensity
        size = int(np.prod(shape))
        weight_sums = np.bincount(cell, weights=weights, minlength=size)
        reward_sums = np.bincount(cell, weights=weights * new.quality, minlength=size)
        used = np.flatnonzero(weight_sums)
        self.policy.update_grouped(self.x.reshape(size, -1)[used], weight_sums[used], reward_sums[used], len(new))

    def table(self):
        valid = np.broadcast_to(self.world.valid, self.x.shape[:3])
        if not self.policy.trained:
            return np.where(valid, 1.0 / self.world.n_actions[None, :, None], 0.0)
        flat = self.x.reshape(-1, self.x.shape[-1])
        mean = flat @ self.policy.theta
        bonus = np.sqrt(np.einsum("nd,de,ne->n", flat, self.policy.a_inv, flat).clip(min=0))
        scores = (mean + self.policy.alpha * bonus).reshape(self.x.shape[:3])
        scores = np.where(valid, scores, -np.inf)
        return _explore_table(scores.argmax(axis=2), valid, self.exploration)


class VWLearner(Learner):
    """Vowpal Wabbit's ``--cb_explore_adf``, learning online from each new batch."""

    name = "vw"

    def __init__(self, world, exploration):
        super().__init__(world, exploration)
        from artdash.policy.base import Candidate
        from artdash.policy.vw import VowpalWabbitPolicy

        self.policy = VowpalWabbitPolicy(world.features, epsilon=exploration)
        self.candidates = {}
        for i, title_id in enumerate(world.title_ids.tolist()):
            self.candidates[title_id] = [
                Candidate(int(world.variant_ids[i, k]), title_id,
                          frozenset(world.features.tags[j].id for j in np.flatnonzero(world.tags[i, k])),
                          tuple(world.visual[i, k])) for k in range(world.n_actions[i])]
        self.affinity = _group_affinity(world)

    def learn(self, new):
        w = self.world
        self.policy.fit_rounds(self.affinity[new.group], w.title_ids[new.title],
                               w.variant_ids[new.title, new.action], new.quality.astype(float), new.propensity,
                               self.candidates)

    def table(self):
        from artdash.policy.base import Context

        w = self.world
        out = np.zeros((self.groups, *w.variant_ids.shape))
        for g in range(self.groups):
            affinities = {w.features.tags[j].id: float(self.affinity[g, j]) for j in np.flatnonzero(self.affinity[g])}
            context = Context(member_key=f"group:{g}", affinities=affinities)
            for i, title_id in enumerate(w.title_ids.tolist()):
                out[g, i, :w.n_actions[i]] = self.policy.probabilities(context, self.candidates[title_id])
        return out


LEARNERS = {c.name: c for c in (UniformLearner, EditorsPickLearner, BestSingleLearner, LinUCBLearner, VWLearner)}


def make_learner(name: str, world: LabWorld, exploration: float) -> Learner:
    if name == "vw":
        from artdash.policy.vw import available

        if not available():
            raise ValidationError("Vowpal Wabbit is not installed (pip install 'artdash[vw]'); leave it out")
    return LEARNERS[name](world, exploration)


# --- online simulation -----------------------------------------------------------------------

@dataclass
class Trace:
    """What one policy did over the run."""

    name: str
    rounds: list[Rounds] = field(default_factory=list)
    expected: list[np.ndarray] = field(default_factory=list)   # true P(quality) of the shown image
    best: list[np.ndarray] = field(default_factory=list)       # true P(quality) of the member's best image
    support: list[np.ndarray] = field(default_factory=list)    # (n, K) logging probabilities > 0
    members: list[np.ndarray] = field(default_factory=list)

    def all_rounds(self) -> Rounds:
        return Rounds.concat(self.rounds)


@dataclass
class LabResult:
    config: LabConfig
    traces: dict[str, Trace]
    checkpoints: list[int] = field(default_factory=list)
    curve_rows: list[dict] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0
    catalog_fingerprint: str = ""   # LabWorld.fingerprint() of the catalog it ran on

    @property
    def n_done(self) -> int:
        return self.checkpoints[-1] if self.checkpoints else 0

    def curves(self) -> pd.DataFrame:
        """Long table: policy, impressions so far, cumulative take rates, cumulative regret."""
        return pd.DataFrame(self.curve_rows)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """One row per policy: take rate and quality take rate with Wilson intervals, regret."""
        rows = []
        for name, trace in self.traces.items():
            if not trace.rounds:
                continue
            r = trace.all_rounds()
            n = len(r)
            take = stats.rate_estimate(int(r.played.sum()), n, confidence, min_trials=1)
            quality = stats.rate_estimate(int(r.quality.sum()), n, confidence, min_trials=1)
            expected, best = np.concatenate(trace.expected), np.concatenate(trace.best)
            rows.append({
                "policy": name, "label": POLICY_LABELS[name], "impressions": n,
                "take rate": take.rate, "take low": take.interval.low, "take high": take.interval.high,
                "quality take rate": quality.rate, "quality low": quality.interval.low,
                "quality high": quality.interval.high,
                "expected quality rate": float(expected.mean()),
                "regret per 1k": float((best - expected).mean() * 1000),
                "oracle fraction": float(expected.sum() / best.sum()) if best.sum() else float("nan"),
            })
        return pd.DataFrame(rows)


def run_online(world: LabWorld, config: LabConfig,
               progress: Callable[[LabResult], bool | None] | None = None) -> LabResult:
    """Run every configured policy for ``config.impressions`` impressions on the same stream.
    ``progress`` is called after each learning period with the result so far; returning
    False cancels the run (what was done is kept, marked cancelled)."""
    config.check(world)
    started = time.perf_counter()
    population = draw_population(world, config)
    truth = Truth(world, config, population)
    rng = np.random.default_rng([config.seed, 2])
    learners = {name: make_learner(name, world, config.exploration) for name in config.policies}
    result = LabResult(config, {name: Trace(name) for name in config.policies},
                       catalog_fingerprint=world.fingerprint())
    totals = {name: np.zeros(4) for name in config.policies}  # plays, quality, expected, best
    done = 0
    while done < config.impressions:
        n = min(config.batch_size, config.impressions - done)
        member = rng.integers(config.n_members, size=n)
        title = rng.integers(len(world.title_ids), size=n)
        draws = rng.random((n, 3))
        p_play, p_quality = truth.probabilities(member, title)
        best = p_quality.max(axis=1)
        group = population.archetype[member]
        for name, learner in learners.items():
            probs = learner.table()[group, title]
            cumulative = np.cumsum(probs, axis=1)
            action = (draws[:, :1] * cumulative[:, -1:] < cumulative).argmax(axis=1)
            rows = np.arange(n)
            played = draws[:, 1] < p_play[rows, action]
            # Quality given play, with the play draw reused: P(quality) = P(play)·P(quality | play).
            quality = played & (draws[:, 2] < p_quality[rows, action] / np.maximum(p_play[rows, action], 1e-12))
            new = Rounds(group, title, action, probs[rows, action], played, quality)
            trace = result.traces[name]
            trace.rounds.append(new)
            trace.expected.append(p_quality[rows, action])
            trace.best.append(best)
            trace.support.append(probs > 0)
            trace.members.append(member)
            totals[name] += [played.sum(), quality.sum(), p_quality[rows, action].sum(), best.sum()]
            learner.learn(new)
        done += n
        result.checkpoints.append(done)
        for name in config.policies:
            plays, quality, expected, best_sum = totals[name]
            result.curve_rows.append({"policy": name, "label": POLICY_LABELS[name], "impressions": done,
                                      "take rate": plays / done, "quality take rate": quality / done,
                                      "regret": best_sum - expected})
        result.seconds = time.perf_counter() - started
        if progress is not None and progress(result) is False:
            result.cancelled = True
            break
    return result


# --- logging a run into the results database ---------------------------------------------------

def run_log(world: LabWorld, result: LabResult, run_key: str, end: pd.Timestamp | None = None,
            days: int = 14) -> pd.DataFrame:
    """The run's impressions as a log file would have them: one row per impression, every
    policy's stream as a cell of the experiment ``lab-<run_key>``; member ids carry the
    archetype (``lab<run>-a<persona id>-m<n>``) so offline evaluation can find it again."""
    config = result.config
    rng = np.random.default_rng([config.seed, 3])
    end = end if end is not None else pd.Timestamp(clock.now()).floor("h")
    frames = []
    for name, trace in result.traces.items():
        if not trace.rounds:
            continue
        r = trace.all_rounds()
        members = np.concatenate(trace.members)
        n = len(r)
        seconds = np.where(r.quality, rng.uniform(config.quality_seconds, 5400, n),
                           np.where(r.played, rng.uniform(5, max(config.quality_seconds - 1, 6), n), 0.0))
        offsets = np.sort(rng.uniform(0, days * 86400, n))[::-1]
        when = (end - pd.to_timedelta(offsets, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
        archetype_ids = world.archetype_ids[r.group]
        frames.append(pd.DataFrame({
            "event_id": [f"lab{run_key}-{name}-{i}" for i in range(n)],
            "timestamp": when,
            "member_id": [simulated_member_id(f"lab{run_key}", a, m)
                          for a, m in zip(archetype_ids.tolist(), members.tolist())],
            "title_id": world.title_ids[r.title], "variant_id": world.variant_ids[r.title, r.action],
            "policy": name, "experiment": f"lab-{run_key}", "cell": name,
            "propensity": np.round(r.propensity, 9), "played": r.played, "play_seconds": seconds.round(1),
            "country": np.array(world.archetype_country)[r.group],
            "device": np.array(world.archetype_device)[r.group],
        }))
    return pd.concat(frames, ignore_index=True)


# --- offline evaluation ----------------------------------------------------------------------

def rounds_from_results(conn, world: LabWorld, experiment: str, cell: str | None = None,
                        limit: int = 2_000_000) -> tuple[Rounds, dict]:
    """Logged rounds from the results database (one experiment, optionally one cell), mapped
    onto the world. Simulated members (lab runs, the demo log) are matched to their archetype
    through their id (:func:`simulated_member_id`); others count as members of unknown taste.
    Rows of variants no longer active are left out (and counted)."""
    from sqlalchemy import select

    from artdash.db.results_schema import imports
    from artdash.db.results_schema import impressions as imp

    query = (select(imp.c.member_id, imp.c.title_id, imp.c.variant_id, imp.c.propensity, imp.c.played,
                    imp.c.play_seconds, imports.c.quality_seconds)
             .join(imports, imports.c.id == imp.c.import_id)
             .where(imp.c.experiment == experiment).order_by(imp.c.ts, imp.c.id).limit(limit))
    if cell:
        query = query.where(imp.c.cell == cell)
    frame = pd.DataFrame(conn.execute(query).all(), columns=["member_id", "title_id", "variant_id", "propensity",
                                                             "played", "play_seconds", "quality_seconds"])
    if frame.empty:
        raise ValidationError(f"no logged impressions for experiment {experiment!r}"
                              + (f", cell {cell!r}" if cell else "") + ": nothing to evaluate")
    title_index = pd.Series(np.arange(len(world.title_ids)), index=world.title_ids)
    t = frame["title_id"].map(title_index)
    keep = t.notna().to_numpy().copy()
    t = t.fillna(0).astype(np.int64).to_numpy()
    match = world.variant_ids[t] == frame["variant_id"].to_numpy()[:, None]
    keep &= match.any(axis=1)
    action = match.argmax(axis=1)
    archetype_index = {f"a{pid}": i for i, pid in enumerate(world.archetype_ids.tolist())}
    tokens = frame["member_id"].str.extract(SIMULATED_MEMBER)[0]
    group = tokens.map(archetype_index).fillna(len(world.archetype_ids)).astype(np.int64).to_numpy()
    played = frame["played"].to_numpy().astype(bool)
    quality = played & (frame["play_seconds"].to_numpy(float) >= frame["quality_seconds"].to_numpy(float))
    rounds = Rounds(group[keep], t[keep], action[keep], frame["propensity"].to_numpy(float)[keep], played[keep],
                    quality[keep])
    info = {"rows": len(frame), "used": int(keep.sum()), "left_out": int((~keep).sum()),
            "unknown_members": int((group[keep] == len(world.archetype_ids)).sum())}
    return rounds, info


def offline_table(world: LabWorld, config: LabConfig, logged: Rounds, policies: Sequence[str] | None = None,
                  support: np.ndarray | None = None, truth: Truth | None = None, members: np.ndarray | None = None,
                  confidence: float = 0.95, train_share: float = 0.5) -> pd.DataFrame:
    """Train each candidate policy on the first part of the log and estimate its value on the
    rest with every estimator. With ``truth`` (simulated data) the true value is given too."""
    if len(logged) == 0:
        raise ValidationError("the log has no impressions: there is nothing to evaluate a policy on")
    policies = list(policies or config.policies)
    cut = int(len(logged) * train_share)
    train, test = logged.take(slice(0, cut)), logged.take(slice(cut, None))
    if len(test) == 0 or len(train) == 0:
        raise ValidationError("the log is too short to split into a training and an evaluation part")
    data = ope.LoggedData(test.action, test.quality.astype(float), test.propensity, world.n_actions[test.title],
                          support[cut:] if support is not None else _observed_support(world, logged, test))
    ope.check_logged(data)
    keys = world.variant_ids[test.title]
    predicted = ope.cross_fitted_predictions(test.group, keys, data, seed=config.seed)
    true_quality = None
    if truth is not None and members is not None:
        true_quality = truth.probabilities(members[cut:], test.title)[1]
    rows = []
    for name in policies:
        learner = make_learner(name, world, config.exploration)
        learner.learn(train)
        target = learner.table()[test.group, test.title]
        true_value = float((target * true_quality).sum(axis=1).mean()) if true_quality is not None else None
        for est in ope.evaluate(data, target, predicted, confidence, seed=config.seed):
            rows.append({"policy": name, "label": POLICY_LABELS[name], "estimator": est.estimator,
                         "value": est.value, "low": est.low, "high": est.high,
                         "effective sample": est.effective_sample, "matched": est.matched,
                         "truth": true_value, "note": est.note})
    return pd.DataFrame(rows)


def offline_on_run(world: LabWorld, result: LabResult, logger: str = "uniform",
                   policies: Sequence[str] | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`offline_table` on one policy's log of a simulated run: the logger's own
    probabilities give the support, and the hidden truth gives each policy's true value."""
    if logger not in result.traces or not result.traces[logger].rounds:
        raise ValidationError(f"the run has no log of {logger!r}; it ran {', '.join(result.traces)}")
    config, trace = result.config, result.traces[logger]
    truth = Truth(world, config, draw_population(world, config))
    return offline_table(world, config, trace.all_rounds(), policies, support=np.concatenate(trace.support),
                         truth=truth, members=np.concatenate(trace.members), confidence=confidence)


def _observed_support(world: LabWorld, logged: Rounds, test: Rounds) -> np.ndarray:
    """Without the logger's probabilities: an image counts as loggable for a title if the log
    ever shows it for that title."""
    seen = np.zeros(world.variant_ids.shape, dtype=bool)
    seen[logged.title, logged.action] = True
    return seen[test.title]


# --- tables as people read them (the page and the CLI show the same) ---------------------------

def _pct(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


def summary_for_display(summary: pd.DataFrame) -> pd.DataFrame:
    """Online results: one row per policy, rates with their 95 % intervals."""
    if summary.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "policy": summary["label"],
        "impressions": summary["impressions"].map("{:,}".format),
        "take rate": [f"{_pct(r)} [{_pct(lo)}, {_pct(hi)}]"
                      for r, lo, hi in zip(summary["take rate"], summary["take low"], summary["take high"])],
        "quality take rate": [f"{_pct(r)} [{_pct(lo)}, {_pct(hi)}]" for r, lo, hi in
                              zip(summary["quality take rate"], summary["quality low"], summary["quality high"])],
        "regret per 1k": summary["regret per 1k"].map("{:.1f}".format),
        "of the oracle": summary["oracle fraction"].map(_pct),
    })


def offline_for_display(table: pd.DataFrame) -> pd.DataFrame:
    """Offline estimates: one row per (policy, estimator), value with interval, ESS, caveats."""
    if table.empty:
        return pd.DataFrame()
    out = pd.DataFrame({
        "policy": table["label"], "estimator": table["estimator"],
        "estimate": [("withheld" if pd.isna(v) else f"{_pct(v)} [{_pct(lo)}, {_pct(hi)}]")
                     for v, lo, hi in zip(table["value"], table["low"], table["high"])],
        "effective sample": table["effective sample"].map(lambda x: "—" if pd.isna(x) else f"{x:,.0f}"),
    })
    if "truth" in table and table["truth"].notna().any():
        out["true value"] = table["truth"].map(_pct)
    out["note"] = table["note"].fillna("")
    return out


def ranking(table: pd.DataFrame, estimator: str = "DR") -> pd.DataFrame:
    """Policies ranked by one estimator (withheld estimates last)."""
    rows = table[table["estimator"] == estimator]
    return rows.sort_values("value", ascending=False, na_position="last")
