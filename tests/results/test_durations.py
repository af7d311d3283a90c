"""Play durations read where the log lives (Parquet through DuckDB, or a table on SQLite and
PostgreSQL): per variant, the quantiles of play seconds among plays of the selection only."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from test_results import HEADER, do_ingest, log, rows  # noqa: F401  (the log fixture, on every backend)

from artdash.results.durations import play_durations
from artdash.results.queries import Selection, to_day


def test_quantiles_of_play_seconds_per_variant_of_the_selection(log):  # noqa: F811
    seconds = [60, 120, 300, 600, 900, 1200, 1800, 2400, 3600, 5400]
    text = HEADER
    for i, s in enumerate(seconds * 5):                       # variant 11: 50 plays with known durations
        text += rows(1, start=i, variant=11, played_every=1, seconds=s)
    text += rows(40, start=1000, variant=12, played_every=2, seconds=100)   # 20 plays of 100 s, 20 no plays
    text += rows(30, start=2000, variant=11, played_every=1, seconds=99_999, experiment="other")  # not this one
    text += rows(30, start=3000, variant=11, played_every=1, seconds=88_888, day="2026-10-01")    # outside the days
    do_ingest(log, text)
    day = to_day(date(2026, 11, 1))
    sel = Selection(1, day, day, experiment="exp1")
    with log.engine.connect() as conn:
        table, capped = play_durations(log, conn, sel)
    assert not capped
    by = table.set_index(["variant_id", "quantile"])
    assert by.loc[(11, 0.5), "plays"] == 50 and by.loc[(11, 0.5), "seconds"] == pytest.approx(np.median(seconds * 5))
    assert by.loc[(11, 0.9), "seconds"] == pytest.approx(np.quantile(seconds * 5, 0.9))
    assert by.loc[(11, 0.5), "low"] <= by.loc[(11, 0.5), "seconds"] <= by.loc[(11, 0.5), "high"]
    assert by.loc[(12, 0.5), "plays"] == 20 and by.loc[(12, 0.5), "seconds"] == 100     # only plays count


def test_the_selection_becomes_a_filter_with_parameters_never_text():
    where, params = Selection(3, 10, 20, "country", "FR'; DROP TABLE x; --", None, ("lab-1",)).log_filter(True)
    assert "DROP" not in where and params == [3, 10, 20, "FR'; DROP TABLE x; --", "lab-1"]
    assert where == "played = 1 AND title_id = ? AND day >= ? AND day <= ? AND country = ? AND experiment NOT IN (?)"
