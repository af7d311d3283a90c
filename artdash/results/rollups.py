"""Daily sufficient statistics per variant, cell and segment: computed by the engine that
holds the impressions (GROUP BY: DuckDB over the Parquet log, the database over its table, or
Spark), then added to — or taken from — the small rollup tables the pages read."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, update

from artdash.db.results_schema import imports, source_contributions
from artdash.errors import ValidationError
from artdash.results import rollup_store
from artdash.results.log import ImpressionLog, ParquetLog
from artdash.results.write import one_writer


def write_rollups(conn: Connection, contributions: Mapping[str, pd.DataFrame], sign: int) -> None:
    """Add (``sign`` 1) or take away (``sign`` −1) contributions from the stored rollups."""
    if sign > 0:
        rollup_store.add(conn, contributions)
    else:
        rollup_store.subtract(conn, contributions)


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rollup rows with their keys and sums in the types the tables hold."""
    frame = frame.copy()
    for c in ("day", "variant_id", "title_id", "impressions", "plays", "quality_plays"):
        if c in frame:
            frame[c] = pd.to_numeric(frame[c]).fillna(0).astype("int64")
    if "play_seconds" in frame:
        frame["play_seconds"] = pd.to_numeric(frame["play_seconds"]).fillna(0.0).astype(float)
    for c in ("experiment", "cell", "segment", "segment_kind"):
        if c in frame:
            frame[c] = frame[c].fillna("").astype(str)
    return frame


def stored_contributions(conn: Connection, name: str | None = None) -> dict[str, pd.DataFrame]:
    """What a source (every source, with None) last added to the rollups, by grain."""
    query = select(source_contributions)
    if name is not None:
        query = query.where(source_contributions.c.source == name)
    parts: dict[str, list[pd.DataFrame]] = {}
    for row in conn.execute(query):
        parts.setdefault(row.grain, []).append(typed(pd.DataFrame(json.loads(row.rows))))
    return {grain: pd.concat(frames, ignore_index=True) for grain, frames in parts.items()}


def replace_rollups(conn: Connection, contributions: Mapping[str, pd.DataFrame]) -> None:
    """Make the stored rollups exactly ``contributions`` (a rebuild, or Spark's result) plus
    what the results sources last added (they are counted where they live: a refresh of each
    recounts them, ``artdash results source refresh``)."""
    sources = stored_contributions(conn)
    rollup_store.replace(conn, {grain: pd.concat([f for f in (contributions.get(grain), sources.get(grain))
                                                  if f is not None and len(f)] or [pd.DataFrame()],
                                                 ignore_index=True)
                                for grain in rollup_store.GRAINS})


def rebuild_rollups(log: ImpressionLog, quality_seconds: float,
                    progress: Callable[[int], None] | None = None) -> int:
    """Recompute every rollup from the stored impressions with ``quality_seconds`` as the
    quality-play threshold (after the setting changed), in one transaction. Returns the number
    of impressions read."""
    if not quality_seconds >= 0:
        raise ValidationError("the quality-play threshold must be a number of seconds ≥ 0")
    with one_writer(log.engine) as conn:
        contributions = log.contributions(conn, None, quality_seconds)
        replace_rollups(conn, contributions)
        conn.execute(update(imports).where(imports.c.kind != "source").values(quality_seconds=quality_seconds))
        variants = contributions.get("variants")
        count = int(variants["impressions"].sum()) if variants is not None and len(variants) else 0
    if progress:
        progress(count)
    return count


def rollup_with_spark(log: ParquetLog, quality_seconds: float, path: str | None = None,
                      master: str = "local[2]", spark: Any = None) -> int:
    """Recompute every rollup with Spark from the log (``path``: the same log elsewhere, e.g.
    a copy in HDFS) and replace the stored rollups, under the import lock so the log does not
    change meanwhile. Returns the number of impressions counted."""
    from artdash.results.log.parquet import list_files
    from artdash.results.log.spark import spark_contributions, spark_session

    if not quality_seconds >= 0:
        raise ValidationError("the quality-play threshold must be a number of seconds ≥ 0")
    source = path or str(log.folder)
    with one_writer(log.engine) as conn:
        committed = log.committed(conn)
        if path is None and committed and not list_files(log.folder):
            raise ValidationError(f"the impression log folder {log.folder} has no files, but the results database "
                                  "lists imports: point --log at where the log is")
        contributions = spark_contributions(spark or spark_session(master), source, committed, quality_seconds)
        replace_rollups(conn, contributions)
        conn.execute(update(imports).where(imports.c.kind != "source").values(quality_seconds=quality_seconds))
    variants = contributions.get("variants")
    return int(variants["impressions"].sum()) if variants is not None and len(variants) else 0


@dataclass(frozen=True)
class RollupEngine:
    """An engine that recomputes every rollup from the whole log (``artdash results rollup
    --engine NAME``): ``run(log, quality_seconds, path=…, master=…)`` returns the impressions
    counted. Registered in :data:`ROLLUP_ENGINES`, the built-in ones as a new one would be."""

    name: str
    summary: str
    run: Callable[..., int]


ROLLUP_ENGINES: dict[str, RollupEngine] = {}


def register_rollup_engine(engine: RollupEngine) -> None:
    """Make ``engine`` one of the choices of ``artdash results rollup --engine``."""
    ROLLUP_ENGINES[engine.name] = engine


def _embedded(log: ImpressionLog, quality_seconds: float, path: str | None = None, master: str | None = None) -> int:
    if path:
        raise ValidationError("--log is for --engine spark; the embedded engine reads ARTDASH_RESULTS_LOG_DIR")
    return rebuild_rollups(log, quality_seconds)


def _spark(log: ImpressionLog, quality_seconds: float, path: str | None = None, master: str | None = None) -> int:
    from artdash.results.log.parquet import ParquetLog

    if not isinstance(log, ParquetLog):
        raise ValidationError("Spark reads the Parquet impression log; these results keep their impressions "
                              "in the database (use --engine embedded)")
    return rollup_with_spark(log, quality_seconds, path=path, master=master or "local[2]")


register_rollup_engine(RollupEngine("embedded", "DuckDB over the Parquet log (or the database holding the "
                                                "impressions)", _embedded))
register_rollup_engine(RollupEngine("spark", "Apache Spark over the same Parquet log (local mode, or a cluster "
                                             "with --master)", _spark))
