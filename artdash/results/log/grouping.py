"""The daily rollups as SQL over any relation of impressions: one text for every engine that
computes them (DuckDB over the Parquet log, PostgreSQL over its table, Spark over the same
Parquet files), so their numbers agree to the count."""

from __future__ import annotations

import math

from artdash.db.results_schema import SEGMENT_KINDS
from artdash.errors import ValidationError
from artdash.results.quality import quality_sql

VARIANT_KEYS = ["day", "variant_id", "experiment"]
CELL_KEYS = ["day", "experiment", "cell"]
SEGMENT_KEYS = ["day", "variant_id", "experiment", "segment_kind", "segment"]
GRAINS = ("variants", "cells", "segments")


def _sums(quality_seconds: float) -> str:
    if not (isinstance(quality_seconds, int | float) and math.isfinite(quality_seconds) and quality_seconds >= 0):
        raise ValidationError("the quality-play threshold must be a number of seconds ≥ 0")
    q = repr(float(quality_seconds))
    return ("CAST(count(*) AS BIGINT) AS impressions, CAST(sum(played) AS BIGINT) AS plays, "
            f"CAST(sum(CASE WHEN {quality_sql(q)} THEN 1 ELSE 0 END) AS BIGINT) AS quality_plays, "
            "sum(play_seconds) AS play_seconds")  # a double in every engine (and no type name they all spell alike)


def rollup_queries(source: str, quality_seconds: float) -> dict[str, str]:
    """SELECT statements for the three rollup grains over ``source`` (a table name, a view or
    a parenthesised sub-query with an alias), counting quality plays at ``quality_seconds``."""
    sums = _sums(quality_seconds)
    segments = " UNION ALL ".join(
        f"SELECT day, variant_id, experiment, '{kind}' AS segment_kind, {kind} AS segment, "
        f"min(title_id) AS title_id, {sums} FROM {source} GROUP BY day, variant_id, experiment, {kind}"
        for kind in SEGMENT_KINDS)
    return {
        "variants": f"SELECT day, variant_id, experiment, min(title_id) AS title_id, {sums} FROM {source} "
                    "GROUP BY day, variant_id, experiment",
        "cells": f"SELECT day, experiment, cell, {sums} FROM {source} GROUP BY day, experiment, cell",
        "segments": segments,
    }
