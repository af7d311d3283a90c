"""How long plays last, per variant, read from the impression log where it lives (Parquet
through DuckDB, or the PostgreSQL table) for one selection: the quantiles of play seconds
among plays, with their exact intervals (``artdash.stats.quantiles``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from artdash.results.log import ImpressionLog
from artdash.results.queries import Selection
from artdash.stats.quantiles import quantiles

QUANTILES = (0.25, 0.5, 0.9)
MAX_PLAYS = 5_000_000       # a selection with more plays reads this many (the earliest), and says so


def selection_filter(sel: Selection, plays_only: bool = True) -> tuple[str, list[Any]]:
    """``sel`` as a WHERE clause on the impression log (``?`` parameters; plays only, or every
    impression)."""
    clauses: list[str] = ["played = 1" if plays_only else "1 = 1"]
    params: list[Any] = []
    if sel.title_id is not None:
        clauses.append("title_id = ?")
        params.append(int(sel.title_id))
    if sel.day_from is not None:
        clauses.append("day >= ?")
        params.append(int(sel.day_from))
    if sel.day_to is not None:
        clauses.append("day <= ?")
        params.append(int(sel.day_to))
    if sel.segment_kind in ("country", "device", "policy") and sel.segment:
        clauses.append(f"{sel.segment_kind} = ?")
        params.append(sel.segment)
    if sel.experiment is not None:
        clauses.append("experiment = ?")
        params.append(sel.experiment)
    elif sel.exclude:
        clauses.append(f"experiment NOT IN ({', '.join('?' for _ in sel.exclude)})")
        params += list(sel.exclude)
    return " AND ".join(clauses), params


def play_durations(log: ImpressionLog, conn: Connection, sel: Selection, confidence: float = 0.95,
                   qs: tuple[float, ...] = QUANTILES) -> tuple[pd.DataFrame, bool]:
    """Per variant and quantile: play seconds (value, low, high) among the selection's plays,
    and whether the plays were capped at :data:`MAX_PLAYS`."""
    where, params = selection_filter(sel)
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
