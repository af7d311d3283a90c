"""Spark (local mode) computes the same rollups as the embedded engine over the same
Parquet log, to the count; `artdash results rollup --engine spark` writes them back."""

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from results.test_log import all_rollups
from results.test_results import HEADER, QUALITY, VARIANTS, rows

from artdash.db.engine import make_engine
from artdash.db.results_migrate import upgrade_results
from artdash.results import rollup_store
from artdash.results.ingest import delete_import, ingest
from artdash.results.log import open_log
from artdash.results.log.grouping import CELL_KEYS, SEGMENT_KEYS, VARIANT_KEYS

if os.environ.get("CI") == "true":  # CI must run them: .ci/run installs Java, make installs pyspark
    assert shutil.which("java"), "Java not found; CI must install it (see .ci/run)"
    import pyspark  # noqa: F401
else:
    pytest.importorskip("pyspark")
    if not shutil.which("java"):
        pytest.skip("Spark needs Java on the PATH (.ci/run installs it)", allow_module_level=True)

KEYS = {"variants": VARIANT_KEYS, "cells": CELL_KEYS, "segments": SEGMENT_KEYS}


@pytest.fixture(scope="session")
def spark():
    """One local Spark for the worker's whole session: the tests of this module share one xdist
    worker (group "spark") but may run between other modules' tests, and a module-scoped
    session would start a JVM again (~20 s) each time."""
    from artdash.results.log.spark import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


def a_log(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'results.db'}")
    upgrade_results(eng)
    log = open_log(eng, tmp_path / "log")
    rng = np.random.default_rng(7)
    for k in range(3):
        text = HEADER + "".join(
            rows(int(rng.integers(20, 60)), start=10_000 * j + 1000 * k + 100 * d, day=f"2026-11-0{d + 1}",
                 variant=v, title=VARIANTS[v], cell=c, country=country, device=device,
                 seconds=int(rng.integers(0, 900)))
            for d in range(3) for j, (v, c, country, device) in enumerate([(11, "A", "fr", "tv"), (12, "B", "de", "web"),
                                                                          (21, "A", "us", "mobile")]))
        ingest(log, text.encode(), f"log{k}.csv", "t", VARIANTS, QUALITY)
    delete_import(log, 2)  # a removed import's files must not count
    return log


def same_type(column: pd.Series) -> pd.Series:
    return column.astype(np.int64) if pd.api.types.is_numeric_dtype(column) else column.astype(str)


def test_spark_rollups_equal_the_embedded_engines_to_the_count(spark, tmp_path):
    from artdash.results.log.spark import spark_contributions

    log = a_log(tmp_path)
    with log.engine.connect() as conn:
        committed = log.committed(conn)
        embedded = log.contributions(conn, None, QUALITY)
    by_spark = spark_contributions(spark, str(log.folder), committed, QUALITY)
    for grain, keys in KEYS.items():
        a = embedded[grain].sort_values(keys).reset_index(drop=True)
        b = by_spark[grain].sort_values(keys).reset_index(drop=True)
        assert len(a) == len(b) > 0
        for column in [*keys, "impressions", "plays", "quality_plays", *(["title_id"] if "title_id" in a else [])]:
            assert same_type(a[column]).tolist() == same_type(b[column]).tolist(), (grain, column)
        assert np.allclose(a["play_seconds"], b["play_seconds"])
    assert int(by_spark["variants"]["impressions"].sum()) == int(embedded["variants"]["impressions"].sum())


def test_rollup_with_spark_replaces_the_stored_rollups_with_equal_ones(spark, tmp_path):
    from artdash.results.rollups import rollup_with_spark

    log = a_log(tmp_path)
    before = all_rollups(log.engine)
    with log.engine.begin() as conn:  # spoil them: Spark must put every number back
        spoiled = rollup_store.merged(conn, "variants").assign(impressions=5, plays=0, quality_plays=0,
                                                                play_seconds=0.0)
        rollup_store.add(conn, {"variants": spoiled})
    assert all_rollups(log.engine)["rollup_variants"] != before["rollup_variants"]
    count = rollup_with_spark(log, QUALITY, spark=spark)
    after = all_rollups(log.engine)
    assert count == sum(r[4] for r in before["rollup_variants"])
    for table in before:
        assert [r[:-1] for r in after[table]] == [r[:-1] for r in before[table]]
        assert np.allclose([r[-1] for r in after[table]], [r[-1] for r in before[table]])
    assert isinstance(pd.DataFrame(after["rollup_segments"]), pd.DataFrame)


def test_the_rollup_command_with_spark_keeps_what_the_results_page_reads(spark, tmp_path):
    from click.testing import CliRunner

    from artdash.cli import main
    from artdash.config import Settings
    from artdash.demo import DEMO_TITLES, load_demo
    from artdash.demo.results import load_demo_results
    from artdash.results import queries
    from artdash.workspace import Workspace

    env = {"ARTDASH_DATA_DIR": str(tmp_path / "data"), "ARTDASH_DATABASE_URL": "", "ARTDASH_MEDIA_DIR": "",
           "ARTDASH_USER": "cli-tester"}
    ws = Workspace.open(Settings.from_env(env))
    load_demo(ws, titles=DEMO_TITLES[:2])
    load_demo_results(ws, n=3_000)

    def page_numbers():
        with ws.results_engine.connect() as conn:
            return queries.variant_totals(conn, queries.Selection()).to_dict("records")

    before = page_numbers()
    runner = CliRunner()
    result = runner.invoke(main, ["results", "rollup", "--engine", "spark"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "rolled up 3,000 impressions with spark" in result.output
    after = page_numbers()
    # Counts to the unit; play seconds to 12 significant digits (doubles summed in another
    # order differ in their last bits — no page shows that many digits).
    assert [{k: v for k, v in r.items() if k != "play_seconds"} for r in after] == \
        [{k: v for k, v in r.items() if k != "play_seconds"} for r in before]
    assert np.allclose([r["play_seconds"] for r in after], [r["play_seconds"] for r in before], rtol=1e-12, atol=0)
    refused = runner.invoke(main, ["results", "rollup", "--log", "/elsewhere"], env=env)
    assert refused.exit_code != 0 and "--log is for --engine spark" in refused.output
    ws.close()


def test_a_log_spark_cannot_read_is_refused_in_one_sentence(spark, tmp_path):
    from artdash.errors import ValidationError
    from artdash.results.log.spark import spark_contributions

    with pytest.raises(ValidationError, match="Spark could not read the impression log at"):
        spark_contributions(spark, str(tmp_path / "nowhere"), [1], QUALITY)
