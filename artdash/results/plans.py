"""Experiment plans: the share of traffic each cell was meant to get, and the day the
experiment was meant to end. The sample-ratio check compares the observed split with the
plan (an unequal plan is common: 90 % control while a new policy is tried); before the
planned end the Results page reviews with sequential intervals, which hold at every look.

Without a plan the split is assumed equal, and the page says so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, delete, insert, select

from artdash import clock
from artdash.access import audit
from artdash.access.auth import authorize
from artdash.db.results_schema import experiment_plans
from artdash.errors import ValidationError
from artdash.results.metric import metric_named
from artdash.results.queries import from_day, to_day
from artdash.stats.inference import FIXED, SEQUENTIAL
from artdash.workspace import Workspace

MAX_CELLS = 50


@dataclass(frozen=True)
class ExperimentPlan:
    """One experiment's plan: weights per cell (any positive numbers; shares are their
    proportions) and the planned end (None: open-ended)."""

    experiment: str
    weights: Mapping[str, float]
    planned_end: date | None
    updated_at: datetime | None = None
    updated_by: str = ""
    metric: str | None = None     # "quality_plays" or "plays"; None: what the log supports

    def shares(self) -> dict[str, float]:
        """Each cell's planned share of traffic."""
        total = sum(self.weights.values())
        return {cell: w / total for cell, w in self.weights.items()}

    def describe(self) -> str:
        """``control 90 % · bandit 10 %``."""
        return " · ".join(f"{cell} {share:.0%}" for cell, share in self.shares().items())


def parse_weights(text: str) -> dict[str, float]:
    """``control=9, bandit=1`` → {control: 9, bandit: 1}; refuses what is not that."""
    weights: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        cell, sep, value = part.partition("=")
        if not sep or not cell.strip():
            raise ValidationError(f"{part!r} is not CELL=WEIGHT (e.g. control=9, bandit=1)")
        try:
            weights[cell.strip()] = float(value)
        except ValueError:
            raise ValidationError(f"the weight of {cell.strip()!r} is not a number: {value.strip()!r}") from None
    return weights


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The weights, cleaned; refuses fewer than two cells, names too long, weights not > 0."""
    clean: dict[str, float] = {}
    for cell, weight in weights.items():
        name = " ".join(str(cell).split())
        if not name or len(name) > 40:
            raise ValidationError(f"a cell name must be 1 to 40 characters (got {cell!r})")
        if name in clean:
            raise ValidationError(f"cell {name!r} is given twice")
        if not isinstance(weight, int | float) or not math.isfinite(weight) or weight <= 0:
            raise ValidationError(f"the weight of {name!r} must be a number above 0 (got {weight!r})")
        clean[name] = float(weight)
    if len(clean) < 2:
        raise ValidationError("a plan needs at least two cells, each with a weight above 0")
    if len(clean) > MAX_CELLS:
        raise ValidationError(f"a plan may have at most {MAX_CELLS} cells")
    return clean


def get_plan(results: Engine, experiment: str) -> ExperimentPlan | None:
    """The experiment's plan (None: none declared)."""
    with results.connect() as conn:
        row = conn.execute(select(experiment_plans).where(experiment_plans.c.experiment == experiment)).first()
    if row is None:
        return None
    end = from_day(row.planned_end_day) if row.planned_end_day is not None else None
    return ExperimentPlan(row.experiment, json.loads(row.weights), end, row.updated_at, row.updated_by, row.metric)


def set_plan(ws: Workspace, experiment: str, weights: Mapping[str, float], planned_end: date | None,
             actor: str, metric: str | None = None) -> ExperimentPlan:
    """Declare (or replace) an experiment's plan (editors); recorded in the audit trail.
    ``metric`` ("quality" or "plays"; None: what the log supports) is what its readout counts."""
    name = " ".join((experiment or "").split())
    if not name or len(name) > 80:
        raise ValidationError("an experiment name must be 1 to 80 characters")
    clean = check_weights(weights)
    key = metric_named(metric).key if metric else None
    with ws.transaction() as s:
        authorize(s, actor, "editor")
    before = get_plan(ws.results_engine, name)
    now = clock.now()
    with ws.results_engine.begin() as conn:
        conn.execute(delete(experiment_plans).where(experiment_plans.c.experiment == name))
        conn.execute(insert(experiment_plans).values(
            experiment=name, weights=json.dumps(clean), updated_at=now, updated_by=actor,
            planned_end_day=to_day(planned_end) if planned_end is not None else None, metric=key))
    plan = ExperimentPlan(name, clean, planned_end, now, actor, key)
    with ws.transaction() as s:
        audit.record(s, actor, "update" if before else "create", "experiment plan", name,
                     before=_audit_values(before), after=_audit_values(plan))
    return plan


def _audit_values(plan: ExperimentPlan | None) -> dict[str, object] | None:
    if plan is None:
        return None
    return {"weights": dict(plan.weights), "planned end": plan.planned_end.isoformat() if plan.planned_end else None,
            "metric": plan.metric or "what the log supports"}


@dataclass(frozen=True)
class PlannedSplit:
    """What the sample-ratio check compares with: the planned weight of each observed cell
    (aligned with ``cells``), where it came from, or why it cannot be checked."""

    weights: tuple[float, ...] | None
    source: str               # "plan" or "assumed equal"
    problem: str = ""


def planned_split(plan: ExperimentPlan | None, cells: Sequence[str]) -> PlannedSplit:
    """The plan's weights for the observed ``cells`` (equal, and said so, without a plan)."""
    if plan is None:
        return PlannedSplit(tuple(1.0 for _ in cells), "assumed equal")
    missing = [c for c in cells if c not in plan.weights]
    if missing:
        return PlannedSplit(None, "plan", f"the log has cells the plan does not name ({', '.join(missing)}): "
                                          "update the plan")
    return PlannedSplit(tuple(plan.weights[c] for c in cells), "plan")


def default_method(plan: ExperimentPlan | None, today: date) -> str:
    """Sequential while an experiment may still be running (no plan, no end, or before its
    end); fixed horizon once its planned end has passed (it is read once, at the end)."""
    if plan is not None and plan.planned_end is not None and today > plan.planned_end:
        return FIXED
    return SEQUENTIAL
