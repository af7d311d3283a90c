"""Benchmark: importing an impression log (issues 4 and 13).

Same seeded CSV, same run: ArtDash's ingest (validation, idempotency check, rollups, one
atomic import) into the columnar log (Parquet by day; columnar rollups in the results
database: SQLite, the default, or DuckDB), into the table log (SQLite: the path before the columnar log; PostgreSQL: COPY),
against a bare DuckDB ``read_csv`` of the same file into a table (no checks, no rollups) and
pandas ``to_sql``. Targets (issue 13): ≥ 0.7× the bare DuckDB read and ≥ 10× the SQLite table
path.

Usage: python bench/ingest.py [--rows 10000000] [--postgres URL] [--skip-slow]
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
from artdash.results.log import open_log  # noqa: E402


def artdash_ingest(url: str, path: Path, mapping, log_folder: Path | None = None) -> float:
    engine = make_engine(url)
    upgrade_results(engine)
    log = open_log(engine, log_folder)
    t0 = time.perf_counter()
    report = ingest(log, path, path.name, "bench", mapping, 300.0)
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


def duckdb_read_csv(path: Path) -> float:
    """The floor the issue names: DuckDB parses the file into a table of its own, no checks."""
    import duckdb

    folder = tempfile.mkdtemp()
    con = duckdb.connect(os.path.join(folder, "bare.duckdb"))
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{path}')")
    elapsed = time.perf_counter() - t0
    con.close()
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
    parser.add_argument("--skip-slow", action="store_true", help="leave out to_sql and raw executemany")
    args = parser.parse_args()
    print(f"preparing {args.rows:,} impressions…", flush=True)
    path = log_file(args.rows)
    mapping = variant_titles()
    results = {}
    folder = Path(tempfile.mkdtemp())
    results["duckdb read_csv (bare, no checks)"] = duckdb_read_csv(path)
    print("duckdb read_csv", results["duckdb read_csv (bare, no checks)"], flush=True)
    results["artdash parquet log, results database sqlite (default)"] = artdash_ingest(
        f"sqlite:///{folder}/artdash.db", path, mapping, folder / "log-sqlite")
    print(results, flush=True)
    results["artdash parquet log, results database duckdb"] = artdash_ingest(
        f"duckdb:///{folder}/results.duckdb", path, mapping, folder / "log-duckdb")
    print(results, flush=True)
    results["artdash table log, sqlite (before)"] = artdash_ingest(f"sqlite:///{folder}/table.db", path, mapping)
    print(results, flush=True)
    if not args.skip_slow:
        results["sqlite to_sql"] = to_sql(f"sqlite:///{folder}/to_sql.db", path)
        results["sqlite raw executemany (insert only)"] = raw_executemany(path)
    if args.postgres:
        with postgres_schema(args.postgres, "bench_ingest") as url:
            results["artdash table log, postgres (COPY)"] = artdash_ingest(url, path, mapping)
            print(results, flush=True)
            if not args.skip_slow:
                results["postgres to_sql"] = to_sql(url, path)
    summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rows": args.rows,
               "rows_per_s": {k: args.rows / v for k, v in results.items()}, "seconds": results}
    bare = results["duckdb read_csv (bare, no checks)"]
    default = results["artdash parquet log, results database sqlite (default)"]
    summary["default_vs_bare_duckdb"] = bare / default
    summary["default_vs_sqlite_table"] = results["artdash table log, sqlite (before)"] / default
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest.json").write_text(json.dumps(summary, indent=1))
    print()
    print("| ingest | rows/s | seconds |")
    print("| --- | --- | --- |")
    for name, seconds in results.items():
        print(f"| {name} | {args.rows / seconds:,.0f} | {seconds:.1f} |")
    print(f"\ndefault vs bare DuckDB read_csv: {summary['default_vs_bare_duckdb']:.2f}× (target ≥ 0.7×); "
          f"vs the SQLite table path: {summary['default_vs_sqlite_table']:.2f}× (target ≥ 10×)")


if __name__ == "__main__":
    main()
