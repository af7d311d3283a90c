"""One title's A/B readout, as the Results page shows it by default, for scripts and the CLI
(``artdash results report``): the same selection rules (the last 30 days of the selection's
own data, real traffic unless an experiment is named), the same default control (the
editor's pick, else the variant with the most impressions) and the same default method
(sequential while an experiment may still run, fixed horizon after its planned end)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select

from artdash import clock
from artdash.catalog.variants import editors_pick
from artdash.db.models import Title
from artdash.errors import NotFoundError, ValidationError
from artdash.results import plans, queries
from artdash.results.abandonment import ABANDON_SECONDS, Flag, abandonment, creative_flags
from artdash.results.metric import choose_metric, metric_named
from artdash.results.report import VariantReport, variant_report
from artdash.stats.inference import FIXED, METHODS, Method
from artdash.workspace import Workspace

DEFAULT_WINDOW_DAYS = 30


def default_control(pick: int | None, totals: pd.DataFrame) -> int:
    """The variant a lift is measured against unless a reviewer picks another: the editor's
    pick when it has impressions here, else the variant with the most impressions."""
    if pick is not None and pick in set(totals["variant_id"].astype(int)):
        return pick
    return int(totals.sort_values("impressions").iloc[-1]["variant_id"])


def window(span: tuple[date, date] | None, days: int | None) -> tuple[int | None, int | None]:
    """The (from, to) day numbers of the last ``days`` days of ``span`` (None: all of it)."""
    if span is None:
        return None, None
    low, high = span
    start = low if days is None else max(low, high - timedelta(days=days - 1))
    return queries.to_day(start), queries.to_day(high)


@dataclass(frozen=True)
class TitleReview:
    """A title's readout and what it was computed over."""

    title_id: int
    title: str
    selection: queries.Selection
    report: VariantReport
    metric_reason: str = ""        # why the readout counts what it counts

    def frame(self) -> pd.DataFrame:
        """The readout as the page's CSV holds it: one row per variant, with the selection."""
        return self.report.frame().assign(**self.selection.describe({self.title_id: self.title}))


def find_title(ws: Workspace, title: str) -> tuple[int, str]:
    """A title by its id or its exact name (case-insensitive)."""
    with ws.session() as s:
        rows = s.execute(select(Title.id, Title.name)).all()
    text = title.strip()
    found = [(i, n) for i, n in rows if (text.isdigit() and i == int(text)) or n.casefold() == text.casefold()]
    if not found:
        raise NotFoundError(f"no title {title!r}: give a title's id or its exact name (`artdash titles list`)")
    if len(found) > 1:
        raise ValidationError(f"{len(found)} titles are named {title!r}: give its id instead "
                              f"({', '.join(str(i) for i, _ in found)})")
    return found[0]


def title_review(ws: Workspace, title: str, *, experiment: str | None = None, method: str | None = None,
                 confidence: float = 0.95, control: int | None = None,
                 days: int | None = DEFAULT_WINDOW_DAYS, metric: str | None = None) -> TitleReview:
    """The readout of ``title`` (id or name) over the last ``days`` days of its data (None:
    all), in ``experiment`` (None: all real traffic), under ``method`` (None: the page's
    default for the experiment's plan), against ``control`` (None: the page's default), of
    ``metric`` ("quality" or "plays"; None: the plan's, else what the log supports)."""
    if metric is not None:
        metric_named(metric)
    if method is not None and method not in METHODS:
        raise ValidationError(f"unknown method {method!r}: one of {', '.join(METHODS)}")
    if days is not None and days < 1:
        raise ValidationError(f"the window must be at least 1 day (got {days})")
    title_id, name = find_title(ws, title)
    engine = ws.results_engine
    with engine.connect() as conn:
        known = queries.experiments(conn)
        if experiment is not None and experiment not in known:
            raise NotFoundError(f"no experiment {experiment!r} in the results; one of: {', '.join(known) or 'none yet'}")
        simulated = tuple(queries.simulated_experiments(conn))
        exclude = () if experiment else simulated
        day_from, day_to = window(queries.day_range(conn, title_id, experiment, exclude), days)
        sel = queries.Selection(title_id, day_from, day_to, experiment=experiment, exclude=simulated)
        totals = queries.variant_totals(conn, sel)
    plan = plans.get_plan(engine, experiment) if experiment else None
    chosen_metric = choose_metric(plan.metric if plan else None, totals, metric)
    if totals.empty:
        return TitleReview(title_id, name, sel, variant_report(totals, None, confidence, metric=chosen_metric.metric),
                           chosen_metric.reason)
    ids = totals["variant_id"].astype(int).tolist()
    if control is not None and control not in ids:
        raise ValidationError(f"variant #{control} has no impressions in this selection; one of "
                              f"{', '.join(f'#{i}' for i in ids)}")
    with ws.session() as s:
        pick = editors_pick(s, title_id)
    chosen = control if control is not None else default_control(pick, totals)
    inference = Method(method or plans.default_method(plan, clock.now().date()))
    return TitleReview(title_id, name, sel, variant_report(totals, chosen, confidence, method=inference,
                                                           metric=chosen_metric.metric), chosen_metric.reason)


def title_flags(ws: Workspace, sel: queries.Selection, totals: pd.DataFrame, control: int | None,
                method: Method | None = None, confidence: float = 0.95,
                seconds: float = ABANDON_SECONDS) -> tuple[pd.DataFrame, list[Flag]]:
    """One selection's abandonment per variant and its flags (clickbait, abandoned more)."""
    from artdash.results.service import impression_log

    with ws.results_engine.connect() as conn:
        table = abandonment(impression_log(ws), conn, sel, seconds, confidence)
    return table, creative_flags(totals, table, control, method, confidence)


def flags_across_titles(ws: Workspace, seconds: float = ABANDON_SECONDS, confidence: float = 0.95,
                        days: int | None = DEFAULT_WINDOW_DAYS) -> list[Flag]:
    """Every title's flags over its real traffic (the last ``days`` days of the log), each
    against the title's default control (the editor's pick, else the most shown), fixed horizon."""
    from artdash.results.service import impression_log

    engine = ws.results_engine
    with engine.connect() as conn:
        simulated = tuple(queries.simulated_experiments(conn))
        day_from, day_to = window(queries.day_range(conn, None, None, simulated), days)
        sel = queries.Selection(None, day_from, day_to, exclude=simulated)
        totals = queries.variant_totals(conn, sel)
        table = abandonment(impression_log(ws), conn, sel, seconds, confidence, by_title=True)
    flags: list[Flag] = []
    with ws.session() as s:
        picks = {int(t): editors_pick(s, int(t)) for t in totals["title_id"].unique()}
    for title_id, part in totals.groupby("title_id"):
        control = default_control(picks[int(title_id)], part)
        found = creative_flags(part, table[table["title_id"] == title_id], control, Method(FIXED), confidence)
        flags += [replace(f, title_id=int(title_id)) for f in found]
    return flags
