"""Benchmark: one decision path (issue 33) — Preview through the service's decide function,
switching model versions, and Thompson sampling's table — in process, bounded.

Setup (not timed): the benchmark catalog of 1,000 titles with 3–8 active variants each
(bench/load.py, three random tags per variant), a 200,000-row decision log with outcomes, and
six LinUCB versions trained from it by the service's learner (one per 20,000 new decisions).

Timed, each beside a baseline measured in the same run:
- Preview of a homepage — one member × 40 titles — through ``artdash.preview.served`` (the
  service's ``decide`` with reasons and explanations, plus each tile's predicted take), from a
  loaded timeline; baseline: the bare ``decide`` call for the same rows. Target p99 ≤ 5 ms.
- Switching model version: loading a version not loaded yet (``load_version``) and the whole
  timeline cold vs warm (each version loaded once). Target ≤ 100 ms.
- Thompson sampling: propensities and sticky picks for 1,000,000 (member, title) pairs —
  each title's propensities computed once per version by quadrature, then gathered and raced
  for every pair — cold (propensities computed in the run) and warm; the propensities' error
  against a 400,000-draw Monte Carlo (as Open Bandit Pipeline's BernoulliTS computes them) on
  20 titles. Target ≥ 1M decisions/s, error ≤ 0.01.

Usage: python bench/decision.py [--members 2000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import write_summary  # noqa: E402
from load import catalog_for_the_log  # noqa: E402
from serve import T0_MS, append_log, fill_log, percentiles, tag_variants  # noqa: E402


def bench_preview(ws, service, members: int, rng) -> dict:
    from artdash.decision.catalog import load_preview_catalog
    from artdash.decision.decide import Member, decide
    from artdash.preview import served

    with ws.session() as s:
        catalog = [t for t in load_preview_catalog(s) if t.candidates]
    snapshot, timeline = service.snapshot, service.timeline
    tag_ids = [t.id for t in snapshot.features.tags]
    when = datetime.fromtimestamp(T0_MS / 1000, UTC) + timedelta(days=3)
    rows = []
    for i in range(members):
        tastes = {int(t): round(float(w), 2) for t, w in zip(rng.choice(tag_ids, 5, replace=False), rng.uniform(-1, 1, 5))}
        picked = rng.choice(len(catalog), 40, replace=False)
        rows.append((Member(f"preview-{i}", tastes), [catalog[j] for j in picked]))
    for member, titles in rows[:100]:
        served(snapshot, timeline, member, titles, when, 24.0)
    bare, page = [], []
    for member, titles in rows:
        ids = [t.id for t in titles]
        t0 = time.perf_counter()
        decide(snapshot, timeline, member, ids, when, 24.0)
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        served(snapshot, timeline, member, titles, when, 24.0)
        page.append(time.perf_counter() - t0)
    out = {"preview_homepage_40_titles": percentiles(page), "bare_decide_40_titles": percentiles(bare),
           "target_p99_ms": 5.0}
    out["ratio_p50"] = round(out["preview_homepage_40_titles"]["p50_ms"] / out["bare_decide_40_titles"]["p50_ms"], 2)
    return out


def bench_switch(ws, service) -> dict:
    from artdash.decision.models import load_version
    from artdash.decision.timeline import load_timeline

    snapshot, name = service.snapshot, service.timeline.name
    now = datetime.fromtimestamp(T0_MS / 1000, UTC) + timedelta(days=3)
    versions = [v.version for v in service.timeline.versions if v.trained]
    one = []
    with ws.results_engine.connect() as conn:
        for version in versions * 3:
            t0 = time.perf_counter()
            load_version(conn, version, snapshot)
            one.append(time.perf_counter() - t0)
        cold, warm = [], []
        for _ in range(5):
            cache: dict = {}
            t0 = time.perf_counter()
            load_timeline(conn, name, snapshot, now, 24 * 7, loaded=cache)
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            load_timeline(conn, name, snapshot, now, 24 * 7, loaded=cache)
            warm.append(time.perf_counter() - t0)
    return {"load_one_version": percentiles(one), "timeline_cold": percentiles(cold),
            "timeline_warm_each_version_loaded_once": percentiles(warm), "versions": len(versions),
            "target_ms": 100}


def bench_thompson(rng, pairs: int = 1_000_000) -> dict:
    from artdash.policy.assign import Window, draws, race
    from artdash.policy.thompson import ThompsonSamplingPolicy

    n_titles, k = 1000, 8
    variant_ids = np.arange(1, n_titles * k + 1).reshape(n_titles, k)
    n_actions = rng.integers(3, k + 1, n_titles)
    valid = np.arange(k)[None, :] < n_actions[:, None]
    trials = rng.integers(50, 5000, (n_titles, k))
    rates = rng.uniform(0.02, 0.2, (n_titles, k))
    counts = {int(v): (int(rng.binomial(n, r)), int(n)) for v, n, r, ok in
              zip(variant_ids.ravel(), trials.ravel(), rates.ravel(), valid.ravel()) if ok}
    member = rng.integers(0, 200_000, pairs)
    title = rng.integers(0, n_titles, pairs)

    def run(policy: ThompsonSamplingPolicy) -> float:
        t0 = time.perf_counter()
        table = np.zeros((n_titles, k))
        for i in range(n_titles):
            n = int(n_actions[i])
            table[i, :n] = policy._row(tuple(int(v) for v in variant_ids[i, :n]))
        probs = table[title]
        window = Window(20_000, None, 12345)
        # one draw per pair and candidate, keyed by (member, title): the member's seed stands in the title slot
        u = draws(window, member * n_titles + title, variant_ids[title])
        picks = race(probs, valid[title], u)
        propensity = probs[np.arange(pairs), picks]
        assert (propensity > 0).all()
        return time.perf_counter() - t0

    cold = [run(ThompsonSamplingPolicy(counts, exploration=0.05)) for _ in range(3)]
    warm_policy = ThompsonSamplingPolicy(counts, exploration=0.05)
    run(warm_policy)
    warm = [run(warm_policy) for _ in range(5)]
    errors = []
    mc_rng = np.random.default_rng(1)
    for i in range(20):
        n = int(n_actions[i])
        ids = [int(v) for v in variant_ids[i, :n]]
        exact = ThompsonSamplingPolicy(counts, exploration=0.0)._row(tuple(ids))
        draws_ = np.column_stack([mc_rng.beta(1 + counts[v][0], 1 + counts[v][1] - counts[v][0], 400_000) for v in ids])
        mc = np.bincount(draws_.argmax(axis=1), minlength=n) / 400_000
        errors.append(float(np.abs(exact - mc).max()))
    return {"pairs": pairs, "cold_decisions_per_s": round(pairs / float(np.median(cold))),
            "warm_decisions_per_s": round(pairs / float(np.median(warm))),
            "max_propensity_error_vs_monte_carlo": round(max(errors), 5), "target_decisions_per_s": 1_000_000,
            "target_error": 0.01}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000)
    args = parser.parse_args()
    from artdash.config import Settings
    from artdash.serve import DecisionService, ServiceSettings
    from artdash.workspace import Workspace

    rng = np.random.default_rng(33)
    folder = Path(tempfile.mkdtemp(prefix="artdash-bench-decision-"))
    data = folder / "data"
    summary: dict = {}
    try:
        print("setting up the catalog, the log and six model versions …", flush=True)
        catalog_for_the_log(data)
        ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(data)}))
        tag_variants(ws, rng)
        fill_log(ws, 100_000, rng, keep_open=0)
        service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False, sticky_hours=24 * 7),
                                  background=False)
        start = T0_MS
        for step in range(6):
            if step:
                append_log(ws, rng, 100_000 + step * 20_000, 20_000, 20_000)
            now = datetime.fromtimestamp(start / 1000, UTC) + timedelta(hours=2 + 4 * step)
            service.learn_now(now=now)
        service.refresh()
        print("preview …", flush=True)
        summary["preview"] = bench_preview(ws, service, args.members, rng)
        print("switching versions …", flush=True)
        summary["switch"] = bench_switch(ws, service)
        service.close()
        ws.close()
        print("thompson sampling …", flush=True)
        summary["thompson"] = bench_thompson(rng)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary["date"] = time.strftime("%Y-%m-%d")
    write_summary("decision", summary)


if __name__ == "__main__":
    main()
