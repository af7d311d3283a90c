"""Benchmark: the policy lab's online simulation with learning (issue 5).

World: the demo catalog (14 titles, 55 active variants, 8 persona archetypes; built once in a
temporary workspace, not timed), 5,000 members, the default hidden taste model.

Timed, in the same run:
  (a) ArtDash's simulator: 1,000,000 impressions of the built-in bandit (LinUCB), learning every
      10,000 impressions — target ≤ 10 s; and the same with the lab's four default policies
      side by side (4M decisions);
  (b) a straightforward reference: one impression at a time through the Policy interface
      (``LinearBanditPolicy.probabilities`` per impression, a fresh ``fit`` on everything every
      10,000 impressions), on fewer impressions and extrapolated to 1M.
Both report the bandit's quality take rate, so the speed is not bought with a worse policy.

Usage: python bench/simulate.py [--impressions 1000000] [--reference 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import write_summary  # noqa: E402

from artdash import lab  # noqa: E402
from artdash.config import Settings  # noqa: E402
from artdash.demo import load_demo  # noqa: E402
from artdash.policy.base import Candidate, Context  # noqa: E402
from artdash.policy.linear import LinearBanditPolicy  # noqa: E402
from artdash.workspace import Workspace  # noqa: E402

BATCH = 10_000


def demo_world() -> lab.LabWorld:
    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": tempfile.mkdtemp(prefix="artdash-bench-")}))
    load_demo(ws)
    with ws.session() as s:
        world = lab.load_world(s)
    ws.close()
    return world


def reference(world: lab.LabWorld, config: lab.LabConfig, n: int) -> tuple[float, float]:
    """One impression at a time: decide through the Policy interface, refit every BATCH."""
    population = config.population(world)
    truth = config.truth(world, population)
    rng = np.random.default_rng([config.seed, 2])
    policy = LinearBanditPolicy(world.features, exploration=config.exploration)
    candidates = []
    for i, title_id in enumerate(world.title_ids.tolist()):
        candidates.append([Candidate(int(world.variant_ids[i, k]), title_id,
                                     frozenset(world.features.tags[j].id for j in np.flatnonzero(world.tags[i, k])),
                                     tuple(world.visual[i, k])) for k in range(world.n_actions[i])])
    contexts = [Context(f"a{g}", {world.features.tags[j].id: float(world.archetype_affinity[g, j])
                                  for j in np.flatnonzero(world.archetype_affinity[g])})
                for g in range(len(world.archetype_ids))]
    xs, rewards, props = [], [], []
    quality_total = 0
    t0 = time.perf_counter()
    for i in range(n):
        member = int(rng.integers(config.n_members))
        title = int(rng.integers(len(world.title_ids)))
        u = rng.random(3)
        group = int(population.archetype[member])
        probs = policy.probabilities(contexts[group], candidates[title])
        k = int(min(np.searchsorted(np.cumsum(probs), u[0] * probs.sum(), side="right"), len(probs) - 1))
        p_play, p_quality = truth.probabilities(np.array([member]), np.array([title]))
        played = u[1] < p_play[0, k]
        quality = played and u[2] < p_quality[0, k] / max(p_play[0, k], 1e-12)
        quality_total += quality
        xs.append(world.features.encode(contexts[group], [candidates[title][k]])[0])
        rewards.append(float(quality))
        props.append(float(probs[k]))
        if (i + 1) % BATCH == 0:
            policy.fit_features(np.array(xs), np.array(rewards), np.array(props))
    return time.perf_counter() - t0, quality_total / n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impressions", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=20_000)
    args = parser.parse_args()
    print("building the demo world…", flush=True)
    world = demo_world()
    mix = {pid: 1.0 for pid, _ in world.archetypes}
    bandit_only = lab.LabConfig(mix=mix, impressions=args.impressions, batch_size=BATCH, policies=("linucb",))
    t0 = time.perf_counter()
    result = lab.run_online(world, bandit_only)
    bandit_s = time.perf_counter() - t0
    four = lab.LabConfig(mix=mix, impressions=args.impressions, batch_size=BATCH)
    t0 = time.perf_counter()
    result4 = lab.run_online(world, four)
    four_s = time.perf_counter() - t0
    ref_s, ref_quality = reference(world, bandit_only, args.reference)
    ref_per_million = ref_s * 1_000_000 / args.reference
    summary = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "impressions": args.impressions,
        "bandit_s": bandit_s, "four_policies_s": four_s,
        "bandit_quality_rate": float(result.summary()["quality take rate"].iloc[0]),
        "four_policies": result4.summary()[["policy", "quality take rate", "oracle fraction"]].to_dict("records"),
        "reference_impressions": args.reference, "reference_s": ref_s,
        "reference_s_per_million_extrapolated": ref_per_million, "reference_quality_rate": ref_quality,
        "speedup_vs_reference": ref_per_million / bandit_s * args.impressions / 1_000_000,
    }
    write_summary("simulate", summary)
    print(f"\n{args.impressions:,} impressions with learning: {bandit_s:.1f} s for the bandit (target ≤ 10 s), "
          f"{four_s:.1f} s for four policies; reference ≈ {ref_per_million:.0f} s per million")


if __name__ == "__main__":
    main()
