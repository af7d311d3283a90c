"""Benchmark: the Results page's queries over a large impression log (issue 4).

Builds (once, cached in bench/out) a SQLite results database from the seeded log through
ArtDash's ingest, then times, as medians: "take rate per variant, one title" and "take rate
per variant per day, all titles" — both read the daily rollups — against a DuckDB GROUP BY over
the raw rows (the baseline, same run). Also the peak memory of a process that loads what the
Results page loads for one title. With --postgres, the same queries on PostgreSQL.
Targets (issue 13): one title ≤ 5 ms; per-day all titles ≤ 0.1 s and ≤ 0.15× the DuckDB raw
GROUP BY; page data load < 300 MB. The rollups are columnar generations read by DuckDB: the
medians are of a process that has decoded them (as the app keeps them); the first query of a
fresh process, decoding included, is reported beside them.

Usage: python bench/results.py [--rows 10000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import OUT, log_file, median_time, postgres_schema, variant_titles  # noqa: E402

from artdash.db.engine import make_engine  # noqa: E402
from artdash.db.results_migrate import upgrade_results  # noqa: E402
from artdash.results import queries  # noqa: E402
from artdash.results.ingest import ingest  # noqa: E402
from artdash.results.log import open_log  # noqa: E402


def built_database(url: str, path: Path, fresh: bool) -> None:
    engine = make_engine(url)
    upgrade_results(engine)
    with engine.connect() as conn:
        empty = queries.count_impressions(conn) == 0
    if empty or fresh:
        folder = None if engine.dialect.name == "postgresql" else Path(str(engine.url.database)).with_suffix(".log")
        ingest(open_log(engine, folder), path, path.name, "bench", variant_titles(), 300.0)
    engine.dispose()


def time_queries(url: str) -> dict:
    """Medians in this process (the rollups decoded once, as a running app keeps them), and the
    first query of a fresh process (reading and decoding them from the database included)."""
    cold = [json.loads(subprocess.run([sys.executable, __file__, "--cold", url], capture_output=True, text=True,
                                      check=True).stdout.strip().splitlines()[-1]) for _ in range(3)]
    engine = make_engine(url)
    with engine.connect() as conn:
        one = median_time(lambda: queries.variant_totals(conn, queries.Selection(title_id=500)))
        per_day = median_time(lambda: queries.daily_totals(conn, queries.Selection()), rounds=5)
    engine.dispose()
    return {"one_title_s": one, "per_day_all_titles_s": per_day,
            "first_query_fresh_process_s": sorted(c["first_s"] for c in cold)[1],
            "per_day_fresh_process_s": sorted(c["per_day_s"] for c in cold)[1]}


def cold_child(url: str) -> None:
    """A fresh process: the first query (one title), then per day all titles, each timed once."""
    import time

    engine = make_engine(url)
    with engine.connect() as conn:
        start = time.perf_counter()
        queries.variant_totals(conn, queries.Selection(title_id=500))
        first = time.perf_counter() - start
        start = time.perf_counter()
        queries.daily_totals(conn, queries.Selection())
        per_day = time.perf_counter() - start
    print(json.dumps({"first_s": first, "per_day_s": per_day}))


def duckdb_baseline(path: Path) -> float:
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv_auto('{path}')")
    query = ("SELECT CAST(timestamp AS DATE) AS day, variant_id, count(*), sum(CASE WHEN played THEN 1 ELSE 0 END), "
             "sum(CASE WHEN played AND play_seconds >= 300 THEN 1 ELSE 0 END) FROM raw GROUP BY 1, 2")
    elapsed = median_time(lambda: con.execute(query).fetchall(), rounds=5)
    con.close()
    return elapsed


def page_load_child(url: str) -> None:
    """What Results loads for one title (all tabs), then peak RSS in MB."""
    from artdash.results import report

    engine = make_engine(url)
    with engine.connect() as conn:
        low, high = queries.day_range(conn)
        sel = queries.Selection(500, queries.to_day(low), queries.to_day(high))
        totals = queries.variant_totals(conn, sel)
        report.variant_report(totals, int(totals["variant_id"].iloc[0]))
        report.daily_bands(queries.daily_totals(conn, sel))
        for kind in ("country", "device", "policy"):
            queries.segment_totals(conn, sel, kind)
        queries.cell_totals(conn, "bench")
        queries.variant_totals(conn, queries.Selection(day_from=sel.day_from, day_to=sel.day_to))
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(json.dumps({"peak_mb": int(line.split()[1]) / 1024}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--postgres", default=os.environ.get("ARTDASH_TEST_POSTGRES_URL"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cold", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        page_load_child(args.child)
        return
    if args.cold:
        cold_child(args.cold)
        return
    path = log_file(args.rows)
    sqlite_url = f"sqlite:///{OUT / f'results-{args.rows}.db'}"
    print("building the SQLite results database (cached)…", flush=True)
    built_database(sqlite_url, path, fresh=False)
    summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rows": args.rows}
    summary["sqlite"] = time_queries(sqlite_url)
    summary["duckdb_raw_group_by_s"] = duckdb_baseline(path)
    child = subprocess.run([sys.executable, __file__, "--child", sqlite_url], capture_output=True, text=True,
                           check=True)
    summary["page_load_peak_mb"] = json.loads(child.stdout.strip().splitlines()[-1])["peak_mb"]
    if args.postgres:
        with postgres_schema(args.postgres, "bench_results") as url:
            built_database(url, path, fresh=True)
            summary["postgres"] = time_queries(url)
    summary["per_day_vs_duckdb"] = summary["sqlite"]["per_day_all_titles_s"] / summary["duckdb_raw_group_by_s"]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
