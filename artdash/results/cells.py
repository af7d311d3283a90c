"""An experiment's cells as arms: when members were randomised between policies (uniform vs
Thompson, the editor's pick vs personalised), each cell's take rate across all titles and per
title, the lift of each cell over the control cell under the page's method, and the members'
split against the plan — members as the unit (:mod:`artdash.results.arms`).

    >>> readout = cell_readout(log, conn, "artwork-personalisation", 300.0, plan)
    >>> cell_table(readout, titles)            # what the page shows and the CSV holds
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection

from artdash.errors import ValidationError
from artdash.results.arms import MIN_MEMBERS, ArmSums, member_sums, sums_of
from artdash.results.log import ImpressionLog
from artdash.results.plans import ExperimentPlan, planned_split
from artdash.stats import inference
from artdash.stats.inference import Comparison, Method
from artdash.stats.rates import SrmCheck, sample_ratio_mismatch
from artdash.workspace import Workspace


@dataclass(frozen=True)
class CellRow:
    """One cell over one title (``title_id``) or all of them (None): its members' sums and its
    comparison with the control cell (None for the control, or when it cannot be made: ``note``)."""

    title_id: int | None
    cell: str
    sums: ArmSums
    comparison: Comparison | None
    note: str = ""


@dataclass(frozen=True)
class CellReadout:
    """The experiment's cells compared, overall (rows with ``title_id`` None) and per title."""

    experiment: str
    control: str
    metric: str
    method: Method
    confidence: float
    rows: tuple[CellRow, ...]
    srm: SrmCheck | None
    split: str                 # what the split was checked against ("plan", "assumed equal") or why not
    mixed_members: int         # members seen in more than one cell: left out

    @property
    def split_name(self) -> str:
        """What the members' split is compared with, in words ("the planned split")."""
        return {"plan": "planned split", "assumed equal": "equal split (assumed: no plan is declared)"}.get(
            self.split, self.split)

    @property
    def cells(self) -> list[str]:
        """The cells, the control first."""
        return [r.cell for r in self.rows if r.title_id is None]


def _rows(title_id: int | None, frame: pd.DataFrame, cells: list[str], control: str, method: Method,
          confidence: float) -> list[CellRow]:
    base = sums_of(frame, control)
    base_arm = base.arm()
    out = [CellRow(title_id, control, base, None, "control")]
    for cell in cells:
        if cell == control:
            continue
        sums = sums_of(frame, cell)
        arm = sums.arm()
        if arm is None or base_arm is None:
            few = [c for c, s in ((cell, sums), (control, base)) if s.members < MIN_MEMBERS]
            out.append(CellRow(title_id, cell, sums, None, f"too few members in {', '.join(few)} (at least "
                                                            f"{MIN_MEMBERS} each): the lift cannot be estimated"))
            continue
        if base_arm.mean <= 0:
            out.append(CellRow(title_id, cell, sums, None, f"no plays in {control} yet: a relative lift has no base"))
            continue
        comparison = inference.compare_arms([arm], base_arm, method, confidence)[0]
        out.append(CellRow(title_id, cell, sums, comparison, comparison.reason))
    return out


def cell_readout(log: ImpressionLog, conn: Connection, experiment: str, quality_seconds: float,
                 plan: ExperimentPlan | None, control: str | None = None, method: Method | None = None,
                 confidence: float = 0.95, metric: str = "quality_plays", day_from: int | None = None,
                 day_to: int | None = None) -> CellReadout:
    """``experiment``'s cells compared with ``control`` (default: the plan's first cell, else
    the cell with the most members) under ``method`` (sequential unless it says otherwise)."""
    method = method or Method(inference.SEQUENTIAL)
    clauses: list[str] = ["experiment = ?"]
    params: list[object] = [experiment]
    for clause, value in (("day >= ?", day_from), ("day <= ?", day_to)):
        if value is not None:
            clauses.append(clause)
            params.append(int(value))
    overall, mixed = member_sums(log, conn, "cell", [], clauses, params, quality_seconds, metric)
    if overall.empty:
        raise ValidationError(f"no impressions of experiment {experiment!r} in this selection")
    by_members = overall.sort_values("members", ascending=False)["arm"].astype(str).tolist()
    if len(by_members) < 2:
        raise ValidationError(f"experiment {experiment!r} has one cell ({by_members[0] or 'unnamed'}): there is "
                              "nothing to compare it with")
    if control is None:
        planned = [c for c in (plan.weights if plan else {}) if c in by_members]
        control = planned[0] if planned else by_members[0]
    if control not in by_members:
        raise ValidationError(f"{control!r} is not a cell of {experiment!r}; its cells: {', '.join(by_members)}")
    cells = [control, *sorted(c for c in by_members if c != control)]
    by_title, _ = member_sums(log, conn, "cell", [], clauses, params, quality_seconds, metric, by_title=True)
    rows = _rows(None, overall, cells, control, method, confidence)
    for title_id, part in by_title.groupby("title_id", sort=True):
        rows += _rows(int(title_id), part, cells, control, method, confidence)
    split = planned_split(plan, cells)
    srm = None
    if split.weights is not None:
        srm = sample_ratio_mismatch([sums_of(overall, c).members for c in cells], list(split.weights))
    return CellReadout(experiment, control, metric, method, confidence, tuple(rows), srm,
                       split.problem or split.source, mixed)


def cell_table(readout: CellReadout, titles: dict[int, str] | None = None) -> pd.DataFrame:
    """One row per (title or all titles, cell): members, impressions, rate, lift over the
    control cell with its interval and p-value, the note — with the experiment and method."""
    names = titles or {}
    rows = []
    for r in readout.rows:
        c = r.comparison
        interval = c.interval if c is not None else None
        rows.append({
            "experiment": readout.experiment, "metric": readout.metric.replace("_", " "),
            "method": readout.method.describe(readout.confidence),
            "title": "all titles" if r.title_id is None else names.get(r.title_id, f"#{r.title_id}"),
            "title_id": r.title_id, "cell": r.cell, "control": r.cell == readout.control,
            "members": r.sums.members, "impressions": int(r.sums.n), "rate": r.sums.rate,
            "lift": c.relative if c is not None else None,
            "lift low": interval.low if interval is not None else None,
            "lift high": interval.high if interval is not None else None,
            "p-value": c.p_value if c is not None else None, "note": r.note})
    return pd.DataFrame(rows)



def cell_comparison(ws: Workspace, experiment: str, method: Method | str | None = None, confidence: float = 0.95,
                    control: str | None = None, day_from: int | None = None,
                    day_to: int | None = None, metric: str | None = None) -> tuple[CellReadout, pd.DataFrame]:
    """The workspace's readout of ``experiment``'s cells (its plan in force) and its table, of
    ``metric`` ("quality" or "plays"; None: the plan's, else what the log supports)."""
    from sqlalchemy import select

    from artdash.db.models import Title
    from artdash.results import queries
    from artdash.results.metric import choose_metric
    from artdash.results.plans import get_plan
    from artdash.results.service import impression_log

    with ws.session() as s:
        names = {int(i): str(n) for i, n in s.execute(select(Title.id, Title.name)).all()}
    plan = get_plan(ws.results_engine, experiment)
    with ws.results_engine.connect() as conn:
        totals = queries.variant_totals(conn, queries.Selection(None, day_from, day_to, experiment=experiment))
        chosen = choose_metric(plan.metric if plan else None, totals, metric).metric
        readout = cell_readout(impression_log(ws), conn, experiment, ws.settings.quality_play_seconds, plan, control,
                               Method(method) if isinstance(method, str) else method, confidence,
                               metric=chosen.key, day_from=day_from, day_to=day_to)
    return readout, cell_table(readout, names)


__all__ = ["CellReadout", "CellRow", "cell_comparison", "cell_readout", "cell_table"]
