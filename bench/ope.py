"""Benchmark: offline policy evaluation on 1M logged rounds (issue 5).

Workload (seed 0): 1,000 titles with 3–8 variants (5,497 variants), 8 member groups, a true
quality-play rate per (group, variant); 1,000,000 rounds logged by a uniformly random policy;
the target is a personalised policy (best variant per group, 10 % exploration).

Timed, as medians, in the same run:
  (a) IPS + SNIPS + DM + DR given a reward model's predictions (n × K arrays) —
      ArtDash's vectorised estimators vs a straightforward per-round Python loop;
      target ≤ 0.1 s (Open Bandit Pipeline took about 0.53 s on such a workload, per the issue);
  (b) the same including fitting the reward model with 2-fold cross-fitting —
      ArtDash's empirical-Bayes table vs scikit-learn's LogisticRegression on one-hot
      (group, variant) features (what OBP's RegressionModel does); target ≤ 1.5 s (OBP with
      logistic regression about 6 s, per the issue).
The estimates of both implementations are printed side by side with the true value.

Usage: python bench/ope.py [--rounds 1000000] [--skip-sklearn]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import variant_titles, write_summary  # noqa: E402

from artdash import ope  # noqa: E402

GROUPS = 8


def median_time(fn, rounds=5):
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def workload(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    mapping = variant_titles(seed)
    by_title: dict[int, list[int]] = {}
    for v, t in mapping.items():
        by_title.setdefault(t, []).append(v)
    titles = sorted(by_title)
    k_max = max(len(v) for v in by_title.values())
    keys = np.zeros((len(titles), k_max), dtype=np.int64)
    n_actions = np.zeros(len(titles), dtype=np.int64)
    for i, t in enumerate(titles):
        keys[i, :len(by_title[t])] = by_title[t]
        n_actions[i] = len(by_title[t])
    q = rng.uniform(0.02, 0.5, size=(GROUPS, keys.max() + 1))   # true rate per (group, variant)
    group = rng.integers(GROUPS, size=n)
    title = rng.integers(len(titles), size=n)
    k = n_actions[title]
    action = (rng.random(n) * k).astype(np.int64)
    round_keys = keys[title]
    valid = np.arange(k_max)[None, :] < k[:, None]
    true_q = np.where(valid, q[group[:, None], round_keys], -1.0)
    best = true_q.argmax(axis=1)
    target = np.where(valid, 0.1 / k[:, None], 0.0)
    target[np.arange(n), best] += 0.9
    reward = (rng.random(n) < q[group, round_keys[np.arange(n), action]]).astype(float)
    data = ope.LoggedData(action, reward, 1.0 / k, k)
    truth = float((target * np.where(valid, true_q, 0)).sum(axis=1).mean())
    return data, group, round_keys, target, truth


def artdash_estimates(data, target, predicted):
    """IPS, SNIPS, DM and DR with their intervals (one pass over shared pieces)."""
    return {name: values[0] for name, values in ope.estimates(data, target, predicted).items()}


def loop_estimates(data, target, predicted):
    """The straightforward reference: one Python pass over the rounds."""
    n = len(data)
    ips = snips_num = snips_den = dm = dr = 0.0
    for i in range(n):
        a = data.action[i]
        w = target[i][a] / data.propensity[i]
        r = data.reward[i]
        expected = 0.0
        for j in range(data.n_actions[i]):
            expected += target[i][j] * predicted[i][j]
        ips += w * r
        snips_num += w * r
        snips_den += w
        dm += expected
        dr += expected + w * (r - predicted[i][a])
    return {"IPS": ips / n, "SNIPS": snips_num / snips_den, "DM": dm / n, "DR": dr / n}


def artdash_with_model(data, group, keys, target):
    predicted = ope.cross_fitted_predictions(group, keys, data, folds=2, seed=0)
    return artdash_estimates(data, target, predicted)


def sklearn_with_model(data, group, keys, target):
    """OBP-style: logistic regression on one-hot (group, variant) features, 2-fold cross-fitted,
    predicting every (round, candidate); then the same vectorised estimators."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    n, k_max = keys.shape
    n_keys = int(keys.max()) + 1
    logged = keys[np.arange(n), data.action]

    def design(g, v):
        rows = np.arange(len(g))
        ones = np.ones(len(g))
        return sparse.csr_matrix((np.r_[ones, ones], (np.r_[rows, rows], np.r_[g, GROUPS + v])),
                                 shape=(len(g), GROUPS + n_keys))

    fold = np.random.default_rng([0, 0xF01D]).integers(2, size=n)
    predicted = np.zeros(keys.shape)
    for f in range(2):
        train, test = fold != f, fold == f
        model = LogisticRegression(max_iter=200)
        model.fit(design(group[train], logged[train]), data.reward[train])
        g_test = np.repeat(group[test], k_max)
        predicted[test] = model.predict_proba(design(g_test, keys[test].ravel()))[:, 1].reshape(-1, k_max)
    valid = np.arange(k_max)[None, :] < data.n_actions[:, None]
    return artdash_estimates(data, target, np.where(valid, predicted, 0.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1_000_000)
    parser.add_argument("--skip-sklearn", action="store_true")
    args = parser.parse_args()
    data, group, keys, target, truth = workload(args.rounds)
    predicted = ope.cross_fitted_predictions(group, keys, data, folds=2, seed=0).values
    summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rounds": args.rounds, "truth": truth}
    summary["given_predictions_s"], estimates = median_time(lambda: artdash_estimates(data, target, predicted))
    summary["given_predictions_loop_s"], loop = median_time(lambda: loop_estimates(data, target, predicted), rounds=1)
    summary["with_model_s"], with_model = median_time(lambda: artdash_with_model(data, group, keys, target))
    if not args.skip_sklearn:
        summary["with_sklearn_logistic_s"], with_sklearn = median_time(
            lambda: sklearn_with_model(data, group, keys, target), rounds=1)
    else:
        with_sklearn = {}
    summary["estimates"] = {"artdash": estimates, "loop": loop, "artdash_with_model": with_model,
                            "sklearn_with_model": with_sklearn}
    write_summary("ope", summary)
    print(f"\nIPS+SNIPS+DM+DR given predictions: {summary['given_predictions_s']:.3f} s (target ≤ 0.1 s); "
          f"loop reference {summary['given_predictions_loop_s']:.1f} s")
    print(f"including the reward model: {summary['with_model_s']:.3f} s (target ≤ 1.5 s)"
          + (f"; scikit-learn logistic {summary['with_sklearn_logistic_s']:.1f} s" if not args.skip_sklearn else ""))


if __name__ == "__main__":
    main()
