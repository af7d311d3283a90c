"""A simulated population as the service's traffic: members drawn around the persona
archetypes ask the service (in-process or over HTTP) for rows of titles, and press play — or
not — as the one taste model says. What they were shown is scored against the truth: the
quality-play probability of the shown image, of the best image (the oracle) and of a uniform
pick, per decision, so a learning curve and an oracle ratio need no sampling noise.

    >>> report = drive(HttpClient(url, key), world, population, LabConfig().taste(), 100_000)
    >>> report.oracle_ratio(last=10_000)      # how close the served images came to the best ones
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from artdash.simulator.logs import one_play_seconds
from artdash.simulator.population import Population, Truth
from artdash.simulator.taste import TasteModel
from artdash.simulator.world import LabWorld


@dataclass(frozen=True)
class TrafficReport:
    """Per decision, in the order answers came back: the true P(quality play) of the image
    shown, the best image's and the uniform average; the model version that decided; who and
    which title (indices into the population and the world)."""

    served: np.ndarray
    oracle: np.ndarray
    uniform: np.ndarray
    model_version: np.ndarray
    member: np.ndarray
    title: np.ndarray
    variant: np.ndarray
    propensity: np.ndarray
    quality: np.ndarray

    def __len__(self) -> int:
        return len(self.served)

    def oracle_ratio(self, last: int | None = None) -> float:
        """Mean true quality take rate of what was shown over the oracle's (the last ``last`` decisions)."""
        sl = slice(-last, None) if last else slice(None)
        return float(self.served[sl].mean() / self.oracle[sl].mean())

    def uniform_ratio(self, last: int | None = None) -> float:
        """The same for a uniform pick: the floor a learning policy should rise from."""
        sl = slice(-last, None) if last else slice(None)
        return float(self.uniform[sl].mean() / self.oracle[sl].mean())


def tastes_of(world: LabWorld, affinity: np.ndarray) -> dict[str, float]:
    """A member's affinities as the API's tastes (``facet:name`` → weight)."""
    return {f"{tag.facet}:{tag.name}": round(float(w), 3)
            for tag, w in zip(world.features.tags, affinity) if round(float(w), 3) != 0}


def drive(client, world: LabWorld, population: Population, taste: TasteModel, n_decisions: int,
          row_size: int = 10, seed: int = 0, threads: int = 4, quality_seconds: float = 300.0,
          progress: Callable[[int], None] | None = None) -> TrafficReport:
    """Send rows of ``row_size`` titles for random members until ``n_decisions`` decisions were
    answered; report every outcome back (played or not, with play seconds)."""
    truth = Truth(world, taste, population)
    slot_of = {int(v): (i, k) for i, row in enumerate(world.variant_ids) for k, v in enumerate(row[:world.n_actions[i]])}
    tastes = [tastes_of(world, a) for a in population.affinity]
    row_size = min(row_size, len(world.title_ids))
    per_thread = -(-n_decisions // row_size) // threads + 1
    parts: list[list[tuple]] = [[] for _ in range(threads)]   # (sequence, …) per thread
    done = [0]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        rng = np.random.default_rng([seed, w])
        for _ in range(per_thread):
            with lock:
                if done[0] >= n_decisions:
                    return
            member = int(rng.integers(len(population.archetype)))
            titles = rng.choice(world.title_ids, row_size, replace=False)
            answer = client.decide({"id": f"sim-{member}", "tastes": tastes[member]}, titles.tolist())
            outcomes, rows = [], []
            for d in answer["decisions"]:
                if d["variant_id"] is None:
                    continue
                i, k = slot_of[d["variant_id"]]
                play, quality = truth.probabilities(np.array([member]), np.array([i]))
                p, q = play[0], quality[0]
                n = int(world.n_actions[i])
                played = rng.random() < p[k]
                good = played and rng.random() < q[k] / p[k]
                seconds = one_play_seconds(rng, played, good, quality_seconds)
                outcomes.append({"event_id": d["event_id"], "played": bool(played), "play_seconds": round(seconds, 1)})
                rows.append((q[k], q[:n].max(), q[:n].mean(), answer["model_version"], member, i, k,
                             d["propensity"], int(good)))
            if outcomes:
                client.outcomes(outcomes)
            with lock:   # in the order answers came back (threads interleave)
                parts[w].extend((done[0] + j, *r) for j, r in enumerate(rows))
                done[0] += len(rows)
                if progress:
                    progress(done[0])

    def guarded(w: int) -> None:
        try:
            worker(w)
        except BaseException as e:  # noqa: BLE001 - raised in the caller below
            errors.append(e)

    pool = [threading.Thread(target=guarded, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    rows = sorted(r for part in parts for r in part)
    cols = list(zip(*rows))[1:] if rows else [()] * 9
    arrays = [np.asarray(c, dtype=float) for c in cols]
    return TrafficReport(arrays[0], arrays[1], arrays[2], arrays[3].astype(int), arrays[4].astype(int),
                         arrays[5].astype(int), arrays[6].astype(int), arrays[7], arrays[8])
