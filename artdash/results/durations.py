"""How long plays last, per variant, read from the impression log where it lives (Parquet
through DuckDB, or the PostgreSQL table) for one selection: the quantiles of play seconds
among plays, with their exact intervals (``artdash.stats.quantiles``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from artdash.results.log import ImpressionLog
from artdash.results.queries import Selection
from artdash.stats.quantiles import quantiles

QUANTILES = (0.25, 0.5, 0.9)
MAX_PLAYS = 5_000_000       # a selection with more plays reads this many (the earliest), and says so


def play_durations(log: ImpressionLog, conn: Connection, sel: Selection, confidence: float = 0.95,
                   qs: tuple[float, ...] = QUANTILES) -> tuple[pd.DataFrame, bool]:
    """Per variant and quantile: play seconds (value, low, high) among the selection's plays,
    and whether the plays were capped at :data:`MAX_PLAYS`."""
    where, params = sel.log_filter(plays_only=True)
    frame = log.frame(conn, ["variant_id", "play_seconds"], where, params, MAX_PLAYS + 1)
    capped = len(frame) > MAX_PLAYS
    frame = frame.iloc[:MAX_PLAYS]
    rows = []
    for variant_id, part in frame.groupby("variant_id", sort=True):
        for est in quantiles(part["play_seconds"].to_numpy(np.float64), qs, confidence):
            rows.append({"variant_id": int(variant_id), "quantile": est.q, "plays": est.n, "seconds": est.value,
                         "low": est.low, "high": est.high})
    columns = ["variant_id", "quantile", "plays", "seconds", "low", "high"]
    return pd.DataFrame(rows, columns=columns), capped
