"""The one definition of a quality play.

A *quality play* is a play that lasted at least the configured threshold
(``ARTDASH_QUALITY_PLAY_SECONDS``, 300 s by default): the anti-clickbait measure. The rollups,
the offline evaluation of logged data and anything else that counts quality plays ask
:func:`quality_plays` (or, in SQL, :func:`quality_sql`); each import records the threshold its rollups were built with, and
:func:`threshold_note` says when that differs from the setting.
"""

from __future__ import annotations

import numpy as np


def quality_plays(played: np.ndarray, play_seconds: np.ndarray, threshold_seconds: float | np.ndarray) -> np.ndarray:
    """Boolean array: which impressions were quality plays (played, and for at least the threshold)."""
    played = np.asarray(played).astype(bool)
    return played & (np.asarray(play_seconds, dtype=float) >= np.asarray(threshold_seconds, dtype=float))


def quality_sql(threshold: str, table: str = "", on_time: bool = False) -> str:
    """The same rule as a SQL condition, for the engines that count in place (DuckDB over the
    Parquet log, the results database, the decision log): ``threshold`` is the SQL for the
    seconds (a literal, ``?`` or ``:quality``), ``table`` an alias with its dot (``o.``), and
    ``on_time`` leaves out an outcome that came after its reward window (``late``)."""
    late = f" AND {table}late = 0" if on_time else ""
    return f"{table}played = 1{late} AND {table}play_seconds >= {threshold}"


def threshold_note(built: tuple[float | None, float | None], setting: float) -> str | None:
    """What a reviewer must know when the stored rollups were built with another threshold than
    the setting (or imports disagree among themselves); None when all agree. ``built`` is the
    (lowest, highest) threshold over the imports."""
    low, high = built
    if low is None or high is None:
        return None
    if low != high:
        return (f"the imports were counted with different quality-play thresholds ({low:g} s to {high:g} s; the "
                f"setting says {setting:g} s) — run `artdash results rebuild` to count them all at {setting:g} s")
    if low != setting:
        return (f"quality plays were counted at {low:g} s, the setting says {setting:g} s — run "
                "`artdash results rebuild` to recount them")
    return None
