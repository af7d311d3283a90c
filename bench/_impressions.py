"""Seeded impression logs for the ingest and results benchmarks (shared helper, not a benchmark)."""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out"
N_TITLES = 1000
DAYS = 30


def variant_titles(seed: int = 0) -> dict[int, int]:
    """1,000 titles with 3–8 variants each: variant id → title id."""
    rng = np.random.default_rng(seed)
    mapping, next_id = {}, 1
    for title in range(1, N_TITLES + 1):
        for _ in range(int(rng.integers(3, 9))):
            mapping[next_id] = title
            next_id += 1
    return mapping


def log_file(n_rows: int, seed: int = 0) -> Path:
    """A CSV of ``n_rows`` impressions over 30 days (cached under bench/out)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"impressions-{n_rows}-{seed}.csv"
    if path.exists():
        return path
    mapping = variant_titles(seed)
    variants = np.array(list(mapping))
    titles = np.array([mapping[v] for v in variants])
    rng = np.random.default_rng(seed + 1)
    start = pd.Timestamp("2026-10-01T00:00:00Z").value // 10**9
    chunk = 1_000_000
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        for offset in range(0, n_rows, chunk):
            n = min(chunk, n_rows - offset)
            pick = rng.integers(len(variants), size=n)
            played = rng.random(n) < 0.2
            seconds = np.where(played, rng.uniform(5, 5400, n).round(1), 0.0)
            ts = pd.to_datetime(start + rng.integers(0, DAYS * 86400, size=n), unit="s", utc=True)
            frame = pd.DataFrame({
                "event_id": [f"ev-{seed}-{i}" for i in range(offset, offset + n)],
                "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "member_id": [f"m{m}" for m in rng.integers(200_000, size=n)],
                "title_id": titles[pick], "variant_id": variants[pick],
                "policy": np.array(["uniform", "linucb", "editors-pick"])[rng.integers(3, size=n)],
                "experiment": "bench", "cell": np.array(["A", "B"])[rng.integers(2, size=n)],
                "propensity": rng.uniform(0.05, 1, n).round(4), "played": np.where(played, "true", "false"),
                "play_seconds": seconds,
                "country": np.array(["US", "FR", "DE", "GB", "JP", "BR", "IN", "SE"])[rng.integers(8, size=n)],
                "device": np.array(["tv", "mobile", "tablet", "web"])[rng.integers(4, size=n)],
            })
            frame.to_csv(f, index=False, header=offset == 0)
    tmp.rename(path)
    return path


@contextmanager
def postgres_schema(base_url: str, prefix: str):
    """A URL for a fresh schema in ``base_url``'s database, dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"{prefix}_{int(time.time())}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def write_summary(name: str, summary: dict) -> None:
    """bench/out/<name>.json, and the same on stdout."""
    import json

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


def median_time(fn, rounds: int = 7) -> float:
    """The median wall time of ``rounds`` calls of ``fn``."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
