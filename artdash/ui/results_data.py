"""What the Results page reads from the results database, cached across sessions.

Everything here is computed from the rollups and keyed by the database's data stamp
(:func:`artdash.results.queries.data_stamp`: a few rows of the import log), so twenty people
opening Results at once run each query once, and an import, a deletion or a rebuild makes
the next run read fresh numbers. Entries are also keyed by the results database URL, so two
workspaces in one process (tests) never share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st

from artdash.results import queries, report
from artdash.results.metric import Metric, metric_named
from artdash.stats.inference import Method
from artdash.ui import resources


@dataclass(frozen=True)
class Overview:
    """What the Results page needs first: the data stamp, counts, span, experiments, titles."""
    stamp: tuple
    impressions: int
    span: tuple[date, date] | None   # first and last day of any impression (real or simulated)
    experiments: tuple[str, ...]
    titles: frozenset[int]
    simulated: tuple[str, ...] = ()   # experiments of simulated data, left out of "all traffic"


def _engine():
    return resources.workspace().results_engine


def _url() -> str:
    """Part of every cache key, so entries of two results databases never mix."""
    return _engine().url.render_as_string()


def stamp() -> tuple:
    """The current data stamp (one tiny query on every run)."""
    with _engine().connect() as conn:
        return queries.data_stamp(conn)


@st.cache_data(max_entries=8, show_spinner=False)
def _overview(url: str, stamp: tuple) -> Overview:
    with _engine().connect() as conn:
        return Overview(stamp, queries.stored_impressions(stamp), queries.day_range(conn),
                        tuple(queries.experiments(conn)), frozenset(queries.titles_with_impressions(conn)),
                        tuple(queries.simulated_experiments(conn)))


@st.cache_data(max_entries=256, show_spinner=False)
def _span(url: str, stamp: tuple, title_id: int | None, experiment: str | None,
          exclude: tuple[str, ...]) -> tuple[date, date] | None:
    with _engine().connect() as conn:
        return queries.day_range(conn, title_id, experiment, exclude)


def span(overview: Overview, title_id: int | None, experiment: str | None) -> tuple[date, date] | None:
    """First and last day of what a selection can see: one experiment, or all real traffic
    (simulated experiments left out, so a Policy-lab run never moves the real window)."""
    return _span(_url(), overview.stamp, title_id, experiment, () if experiment else overview.simulated)


def overview() -> Overview:
    """How many impressions, which days, experiments and titles the log holds."""
    return _overview(_url(), stamp())


@st.cache_data(max_entries=256, show_spinner=False)
def _review(url: str, stamp: tuple, sel: queries.Selection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with _engine().connect() as conn:
        totals = queries.variant_totals(conn, sel)
        daily = queries.daily_totals(conn, sel)
        cells = (queries.cell_totals(conn, sel.experiment, sel.day_from, sel.day_to) if sel.experiment
                 else pd.DataFrame())
    return totals, daily, cells


def review(overview: Overview, sel: queries.Selection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per-variant totals, per-day totals, per-cell impressions) for one selection."""
    return _review(_url(), overview.stamp, sel)


@st.cache_data(max_entries=256, show_spinner=False)
def _variant_review(url: str, stamp: tuple, sel: queries.Selection, control: int, confidence: float,
                    method: Method, metric_key: str) -> tuple[report.VariantReport, dict[int, list[float]]]:
    totals, daily, _ = _review(url, stamp, sel)
    chosen = metric_named(metric_key)
    return (report.variant_report(totals, control, confidence, method=method, metric=chosen),
            report.daily_trend(daily, chosen))


def variant_review(overview: Overview, sel: queries.Selection, control: int, confidence: float,
                   method: Method, metric: Metric) -> tuple[report.VariantReport, dict[int, list[float]]]:
    """(the per-variant report against ``control``, each variant's daily rate of ``metric``) for
    one selection: computed once for everyone who asks the same question of the same data."""
    return _variant_review(_url(), overview.stamp, sel, control, confidence, method, metric.key)


@st.cache_data(max_entries=256, show_spinner=False)
def _segment_values(url: str, stamp: tuple, kind: str, title_id: int) -> list[str]:
    with _engine().connect() as conn:
        return queries.segments(conn, kind, title_id)


def segment_values(overview: Overview, kind: str, title_id: int) -> list[str]:
    """The values of a segment kind in one title's impressions (cached)."""
    return _segment_values(_url(), overview.stamp, kind, title_id)


@st.cache_data(max_entries=256, show_spinner=False)
def _by_segment(url: str, stamp: tuple, sel: queries.Selection, kind: str) -> pd.DataFrame:
    with _engine().connect() as conn:
        return queries.segment_totals(conn, sel, kind)


def by_segment(overview: Overview, sel: queries.Selection, kind: str) -> pd.DataFrame:
    """Per (segment, variant) totals of a selection (cached)."""
    return _by_segment(_url(), overview.stamp, sel, kind)


@st.cache_data(max_entries=4, show_spinner="Adding up every variant's impressions…")
def _all_variants(url: str, stamp: tuple, sel: queries.Selection) -> pd.DataFrame:
    with _engine().connect() as conn:
        return queries.variant_totals(conn, sel)


def all_variants(overview: Overview) -> pd.DataFrame:
    """Every variant's totals over the whole log, real traffic only (creative insights)."""
    sel = queries.Selection(exclude=overview.simulated)
    return _all_variants(_url(), overview.stamp, sel)


def import_history() -> pd.DataFrame:
    """The import history table."""
    with _engine().connect() as conn:
        return queries.import_history(conn)


def title_performance(title_id: int) -> dict[int, tuple[int, int]]:
    """(quality plays, impressions) per variant of one title over all real traffic, or {} when
    the results database holds none (for the gallery's per-variant figures)."""
    found = overview()
    if found.impressions == 0 or int(title_id) not in found.titles:
        return {}
    totals, _, _ = review(found, queries.Selection(title_id=int(title_id), exclude=found.simulated))
    return {int(v): (int(q), int(n)) for v, q, n in zip(totals["variant_id"], totals["quality_plays"],
                                                         totals["impressions"])}
