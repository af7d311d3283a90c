"""Running policies online against a simulated population: every policy meets the same
members, titles and random draws (common random numbers) and learns every learning period."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from artdash import stats
from artdash.lab.config import LabConfig
from artdash.policy import registry
from artdash.policy.base import Policy, Rounds
from artdash.simulator.world import LabWorld, group_affinity


def make_policy(name: str, world: LabWorld, exploration: float) -> Policy:
    """A fresh policy ``name`` from the registry, for the lab's world."""
    return registry.make(name, world.features, picks=world.picks, exploration=exploration)


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
        """Every round the policy logged, in order."""
        return Rounds.concat(self.rounds)


@dataclass
class LabResult:
    """A run's outcome: each policy's trace, the curves, whether it was cancelled."""

    config: LabConfig
    traces: dict[str, Trace]
    checkpoints: list[int] = field(default_factory=list)
    curve_rows: list[dict] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0
    catalog_fingerprint: str = ""   # LabWorld.fingerprint() of the catalog it ran on

    @property
    def n_done(self) -> int:
        """Impressions run so far, per policy."""
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
                "policy": name, "impressions": n,
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
    population = config.population(world)
    truth = config.truth(world, population)
    rng = np.random.default_rng([config.seed, 2])
    learners = {name: make_policy(name, world, config.exploration) for name in config.policies}
    contexts = group_affinity(world)
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
            probs = learner.table(world, contexts)[group, title]
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
            learner.partial_fit(world, contexts, new)
        done += n
        result.checkpoints.append(done)
        for name in config.policies:
            plays, quality, expected, best_sum = totals[name]
            result.curve_rows.append({"policy": name, "impressions": done,
                                      "take rate": plays / done, "quality take rate": quality / done,
                                      "regret": best_sum - expected})
        result.seconds = time.perf_counter() - started
        if progress is not None and progress(result) is False:
            result.cancelled = True
            break
    return result

