"""Benchmark: 100M impressions on one machine (issue 13), reported once.

Generates (cached in bench/out) a seeded log of N impressions as one Parquet file (typed
columns: a zoned timestamp, booleans, integers — as a warehouse export has them; generating a
CSV of this size would take longer than the import), imports it through ArtDash's ingest into
the default embedded layout (the Parquet log by day, columnar rollups in the SQLite results
database; validation, idempotency by event id, rollups, one atomic import), then times the Results queries on it. Peak memory is
the importing process's VmHWM. Targets: ingest ≤ 4 min, one title ≤ 20 ms, per day all titles
≤ 0.5 s, peak memory < 2 GB.

Usage: python bench/scale.py [--rows 100000000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import DAYS, OUT, median_time, variant_titles  # noqa: E402

from artdash.db.engine import make_engine  # noqa: E402
from artdash.db.results_migrate import upgrade_results  # noqa: E402
from artdash.results import queries  # noqa: E402
from artdash.results.ingest import ingest  # noqa: E402
from artdash.results.log import open_log  # noqa: E402

CHUNK = 2_000_000


def parquet_log(n_rows: int, seed: int = 0) -> Path:
    path = OUT / f"impressions-{n_rows}-{seed}.parquet"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    mapping = variant_titles(seed)
    variants = np.array(list(mapping))
    titles = np.array([mapping[v] for v in variants])
    rng = np.random.default_rng(seed + 1)
    start = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
    tmp = path.with_suffix(".tmp")
    writer = None
    for offset in range(0, n_rows, CHUNK):
        n = min(CHUNK, n_rows - offset)
        pick = rng.integers(len(variants), size=n)
        played = rng.random(n) < 0.2
        ids = np.char.add(f"ev-{seed}-", np.arange(offset, offset + n).astype(str))
        table = pa.table({
            "event_id": pa.array(ids),
            "timestamp": pa.array((start + rng.integers(0, DAYS * 86400, size=n)).astype("int64") * 1_000_000,
                                  pa.timestamp("us", tz="UTC")),
            "member_id": pa.array(np.char.add("m", rng.integers(2_000_000, size=n).astype(str))),
            "title_id": pa.array(titles[pick]), "variant_id": pa.array(variants[pick]),
            "policy": pa.array(np.array(["uniform", "linucb", "editors-pick"])[rng.integers(3, size=n)]),
            "experiment": pa.array(np.full(n, "bench")),
            "cell": pa.array(np.array(["A", "B"])[rng.integers(2, size=n)]),
            "propensity": pa.array(rng.uniform(0.05, 1, n).round(4)), "played": pa.array(played),
            "play_seconds": pa.array(np.where(played, rng.uniform(5, 5400, n).round(1), 0.0)),
            "country": pa.array(np.array(["US", "FR", "DE", "GB", "JP", "BR", "IN", "SE"])[rng.integers(8, size=n)]),
            "device": pa.array(np.array(["tv", "mobile", "tablet", "web"])[rng.integers(4, size=n)]),
        })
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=1_000_000)
        print(f"  generated {offset + n:,} rows", flush=True)
    assert writer is not None
    writer.close()
    tmp.rename(path)
    return path


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child:   # generate here, measure in a fresh process (its peak memory is the import's)
        t0 = time.perf_counter()
        path = parquet_log(args.rows)
        print(f"log ready ({path.stat().st_size / 2**30:.1f} GiB) in {time.perf_counter() - t0:.0f} s", flush=True)
        import subprocess

        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--child"], check=True)
        return
    path = parquet_log(args.rows)
    db = OUT / f"scale-{args.rows}.db"
    for stale in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    folder = db.with_suffix(".log")
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    engine = make_engine(f"sqlite:///{db}")
    upgrade_results(engine)
    before = peak_mb()
    t0 = time.perf_counter()
    report = ingest(open_log(engine, folder), path, path.name, "bench", variant_titles(), 300.0)
    seconds = time.perf_counter() - t0
    summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rows": args.rows, "inserted": report.n_inserted,
               "ingest_s": round(seconds, 1), "ingest_rows_per_s": round(report.n_inserted / seconds),
               "peak_mb": round(peak_mb(), 0), "peak_mb_before_ingest": round(before, 0)}
    with engine.connect() as conn:
        summary["one_title_s"] = median_time(lambda: queries.variant_totals(conn, queries.Selection(title_id=500)))
        summary["per_day_all_titles_s"] = median_time(lambda: queries.daily_totals(conn, queries.Selection()), 5)
    engine.dispose()
    (OUT / "scale.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
