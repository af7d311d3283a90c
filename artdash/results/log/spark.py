"""The rollups computed by Apache Spark, for a log larger than one machine.

Spark reads the same Parquet log the embedded engine writes — a local folder, or the same
layout in HDFS or object storage (``hdfs://…``, ``s3a://…``: any path Spark reads) — runs the
same GROUP BY text (:mod:`artdash.results.log.grouping`) over the committed imports, and the
result replaces the small rollup tables the pages read. Local mode (``local[2]``) needs only
Java 17 and ``pip install pyspark``; a cluster is a ``--master`` away.

    >>> spark_contributions(spark_session(), "data/impression-log", import_ids, 300.0)

(:func:`artdash.results.rollups.rollup_with_spark` writes them back.)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from typing import Any

import pandas as pd

from artdash.errors import ValidationError
from artdash.results.log.grouping import rollup_queries

DEFAULT_MASTER = "local[2]"


def spark_session(master: str = DEFAULT_MASTER) -> Any:
    """A Spark session (the running one if there is one), quiet and without its web UI."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ValidationError("Spark is not installed: `pip install pyspark` (it needs Java 17 or newer)") from None

    if master.startswith("local") and not shutil.which("java"):
        raise ValidationError("Spark needs Java 17 or newer on the PATH (e.g. `apt-get install openjdk-17-jre`)")
    session = (SparkSession.builder.master(master).appName("artdash-rollups")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_contributions(spark: Any, path: str, import_ids: Iterable[int],
                        quality_seconds: float) -> dict[str, pd.DataFrame]:
    """The rollup rows of the log at ``path`` (imports ``import_ids`` only), by grain."""
    ids = sorted(int(i) for i in import_ids)
    if not ids:
        return {}
    try:
        frame = spark.read.parquet(path)  # ``day`` from the folders; _staging and _removed are skipped
        frame.where(frame["import_id"].isin(ids)).createOrReplaceTempView("artdash_log")
        return {grain: spark.sql(sql).toPandas()
                for grain, sql in rollup_queries("artdash_log", quality_seconds).items()}
    except Exception as exc:
        if type(exc).__module__.startswith(("pyspark", "py4j")):  # Spark's own refusal: say it in one line
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise ValidationError(f"Spark could not read the impression log at {path}: {first}") from None
        raise
