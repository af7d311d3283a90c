"""Benchmark: the rollups of a Parquet impression log by the embedded engine (DuckDB) and by
Spark in local mode, on the same log, in the same run, with a check that they agree to the
count (issue 13: "Spark local on 10M: time and equality, no target").

Usage: python bench/spark.py [--rows 10000000] [--master local[2]]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import OUT, log_file, variant_titles  # noqa: E402

from artdash.db.engine import make_engine  # noqa: E402
from artdash.db.results_migrate import upgrade_results  # noqa: E402
from artdash.results.ingest import ingest  # noqa: E402
from artdash.results.log import open_log  # noqa: E402
from artdash.results.log.grouping import CELL_KEYS, SEGMENT_KEYS, VARIANT_KEYS  # noqa: E402
from artdash.results.log.spark import spark_contributions, spark_session  # noqa: E402

KEYS = {"variants": VARIANT_KEYS, "cells": CELL_KEYS, "segments": SEGMENT_KEYS}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    path = log_file(args.rows)
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder}/results.db")
    upgrade_results(engine)
    log = open_log(engine, folder / "log")
    t0 = time.perf_counter()
    ingest(log, path, path.name, "bench", variant_titles(), 300.0)
    built = time.perf_counter() - t0
    print(f"log of {args.rows:,} impressions built in {built:.1f} s", flush=True)
    with engine.connect() as conn:
        committed = log.committed(conn)
        t0 = time.perf_counter()
        embedded = log.contributions(conn, None, 300.0)
        duck = time.perf_counter() - t0
    t0 = time.perf_counter()
    spark = spark_session(args.master)
    started = time.perf_counter() - t0
    t0 = time.perf_counter()
    by_spark = spark_contributions(spark, str(log.folder), committed, 300.0)
    spark_s = time.perf_counter() - t0
    equal = {}
    for grain, keys in KEYS.items():
        a = embedded[grain].sort_values(keys).reset_index(drop=True)
        b = by_spark[grain].sort_values(keys).reset_index(drop=True)
        equal[grain] = bool(len(a) == len(b) and all(
            (a[c].astype("int64") == b[c].astype("int64")).all() for c in ("impressions", "plays", "quality_plays")))
    summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rows": args.rows, "master": args.master,
               "duckdb_rollups_s": duck, "spark_session_start_s": started, "spark_rollups_s": spark_s,
               "rollup_rows": {g: len(f) for g, f in embedded.items()}, "equal_to_the_count": equal}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "spark.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))
    spark.stop()


if __name__ == "__main__":
    main()
