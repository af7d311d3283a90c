"""What a readout counts as success: quality plays (a play of at least the quality threshold,
the default) or plays (any press of play — the take rate). An experiment's plan may declare
one; otherwise the readout uses what the log supports: a log whose plays carry no duration
(clicks, not watch time) is read by its take rate, and the page says so.

    >>> chosen = choose_metric(plan_metric=None, totals=totals)
    >>> chosen.metric.rate_name, chosen.reason
    ('take rate', 'the log has no play durations, so quality plays cannot be told apart')
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from artdash.errors import ValidationError


@dataclass(frozen=True)
class Metric:
    """A success metric: its key (the count column), what its count and rate are called."""

    key: str            # "quality_plays" or "plays": the rollups' count column
    option: str         # what the command line calls it: "quality" or "plays"
    count_name: str     # "quality plays"
    rate_name: str      # "quality take rate"


QUALITY = Metric("quality_plays", "quality", "quality plays", "quality take rate")
PLAYS = Metric("plays", "plays", "plays", "take rate")
METRICS = {m.option: m for m in (QUALITY, PLAYS)}
BY_KEY = {m.key: m for m in (QUALITY, PLAYS)}


def metric_named(name: str) -> Metric:
    """The metric called ``name`` ("quality" or "plays"; the column names work too)."""
    found = METRICS.get(name) or BY_KEY.get(name)
    if found is None:
        raise ValidationError(f"unknown metric {name!r}: one of {', '.join(METRICS)}")
    return found


@dataclass(frozen=True)
class ChosenMetric:
    """The metric a readout uses and why (the plan declared it, or what the log supports)."""

    metric: Metric
    reason: str


def supported(totals: pd.DataFrame) -> ChosenMetric:
    """What the log supports: plays when its plays carry no duration at all, else quality plays."""
    plays = int(totals["plays"].sum()) if "plays" in totals and len(totals) else 0
    seconds = float(totals["play_seconds"].sum()) if "play_seconds" in totals and len(totals) else 0.0
    if plays > 0 and seconds == 0:
        return ChosenMetric(PLAYS, "the log has no play durations, so quality plays cannot be told apart: read "
                                   "by take rate (declare a metric in the experiment's plan to choose)")
    return ChosenMetric(QUALITY, "the default: quality plays (the log has play durations)")


def choose_metric(plan_metric: str | None, totals: pd.DataFrame, asked: str | None = None) -> ChosenMetric:
    """The metric asked for (a reviewer's choice), else the plan's, else what the log supports."""
    if asked:
        return ChosenMetric(metric_named(asked), "chosen for this readout")
    if plan_metric:
        return ChosenMetric(metric_named(plan_metric), "declared in the experiment's plan")
    return supported(totals)
