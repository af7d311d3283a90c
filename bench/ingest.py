"""Benchmark: importing an impression log (issue 4).

Same seeded CSV, same run: ArtDash's ingest (validation, idempotency check, rollups, one
transaction) into SQLite and PostgreSQL, against pandas ``to_sql`` of the same rows (no
validation, no rollups) and, on SQLite, raw ``sqlite3.executemany`` of pre-parsed tuples.
Target: ≥ 400k rows/s into SQLite and ≥ 3.5× ``to_sql``.

Usage: python bench/ingest.py [--rows 10000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import OUT, log_file, postgres_schema, variant_titles  # noqa: E402

from artdash.db.engine import make_engine  # noqa: E402
from artdash.db.results_migrate import upgrade_results  # noqa: E402
from artdash.results.ingest import ingest  # noqa: E402


def artdash_ingest(url: str, path: Path, mapping) -> float:
    engine = make_engine(url)
    upgrade_results(engine)
    t0 = time.perf_counter()
    report = ingest(engine, path, path.name, "bench", mapping, 300.0)
    elapsed = time.perf_counter() - t0
    assert report.n_inserted > 0
    engine.dispose()
    return elapsed


def to_sql(url: str, path: Path) -> float:
    engine = create_engine(url)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for chunk in pd.read_csv(path, chunksize=200_000):
            chunk.to_sql("impressions_to_sql", conn, if_exists="append", index=False, chunksize=50_000)
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE impressions_to_sql"))
    engine.dispose()
    return elapsed


def raw_executemany(path: Path) -> float:
    """The floor for SQLite: pre-parsed tuples, one executemany per chunk, no checks."""
    folder = tempfile.mkdtemp()
    conn = sqlite3.connect(os.path.join(folder, "raw.db"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (event_id TEXT PRIMARY KEY, ts TEXT, member_id TEXT, title_id INT, "
                 "variant_id INT, policy TEXT, experiment TEXT, cell TEXT, propensity REAL, played TEXT, "
                 "play_seconds REAL, country TEXT, device TEXT)")
    elapsed = 0.0
    for chunk in pd.read_csv(path, chunksize=200_000):
        rows = list(chunk.itertuples(index=False, name=None))
        t0 = time.perf_counter()
        conn.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        elapsed += time.perf_counter() - t0
    conn.commit()
    conn.close()
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--postgres", default=os.environ.get("ARTDASH_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(f"preparing {args.rows:,} impressions…", flush=True)
    path = log_file(args.rows)
    mapping = variant_titles()
    results = {}
    folder = tempfile.mkdtemp()
    results["sqlite artdash"] = artdash_ingest(f"sqlite:///{folder}/artdash.db", path, mapping)
    print("sqlite artdash", results["sqlite artdash"], flush=True)
    results["sqlite to_sql"] = to_sql(f"sqlite:///{folder}/to_sql.db", path)
    print("sqlite to_sql", results["sqlite to_sql"], flush=True)
    results["sqlite raw executemany (insert only)"] = raw_executemany(path)
    if args.postgres:
        with postgres_schema(args.postgres, "bench_ingest") as url:
            results["postgres artdash"] = artdash_ingest(url, path, mapping)
            print("postgres artdash", results["postgres artdash"], flush=True)
            results["postgres to_sql"] = to_sql(url, path)
    summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rows": args.rows,
               "rows_per_s": {k: args.rows / v for k, v in results.items()}, "seconds": results}
    summary["sqlite_vs_to_sql"] = results["sqlite to_sql"] / results["sqlite artdash"]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest.json").write_text(json.dumps(summary, indent=1))
    print()
    print("| ingest | rows/s | seconds |")
    print("| --- | --- | --- |")
    for name, seconds in results.items():
        print(f"| {name} | {args.rows / seconds:,.0f} | {seconds:.1f} |")
    print(f"\nArtDash vs to_sql on SQLite: {summary['sqlite_vs_to_sql']:.2f}× (target ≥ 3.5×, ≥ 400k rows/s)")


if __name__ == "__main__":
    main()
