"""What the Policy-lab page and the CLI do, in one place: save a finished run with its offline
estimates and, if asked, write its simulated impressions to the results database; evaluate the
candidate policies offline on logged impressions, the served version scored as it is served."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from artdash.decision.holdout import current_holdout
from artdash.errors import ValidationError
from artdash.lab.config import LabConfig
from artdash.lab.offline import (
    HeldOutRows,
    LogInfo,
    offline_on_run,
    offline_table,
    rounds_from_results,
)
from artdash.lab.online import LabResult, run_online
from artdash.lab.served import as_served
from artdash.lab.store import RunView, get_run, log_run, save_run
from artdash.results.ingest import IngestReport
from artdash.simulator.world import LabWorld
from artdash.workspace import Workspace

OFFLINE_LOGGER = "uniform"  # offline estimates need a log with known, overlapping propensities


@dataclass(frozen=True)
class FinishedRun:
    """A saved run and, when its impressions were written to the results database, that import."""

    run: RunView
    logged: IngestReport | None


def finish_run(ws: Workspace, world: LabWorld, result: LabResult, actor: str, name: str = "",
               log_data: bool = False, progress: Callable[[int], None] | None = None) -> FinishedRun:
    """Save ``result`` (also a cancelled one: what it did is kept) with offline estimates on its
    uniform log when it has one of at least two impressions, and — when ``log_data`` and the
    run was not cancelled — write its simulated impressions to the results database (one
    import, removable in one step). ``progress`` gets the number of impressions logged."""
    offline = None
    if OFFLINE_LOGGER in result.config.policies and result.n_done >= 2:
        offline = offline_on_run(world, result, OFFLINE_LOGGER)
    with ws.transaction() as s:
        run = save_run(s, result, actor, name or None, offline)
    logged = None
    if log_data and not result.cancelled:
        logged = log_run(ws, world, result, run.id, actor, progress=progress)
        with ws.session() as s:
            run = get_run(s, run.id)
    return FinishedRun(run, logged)


def held_out_rows(ws: Workspace, members: np.ndarray | None) -> HeldOutRows | None:
    """Which of ``members`` (a log's member ids, row by row) the service's holdout in force now
    serves its fixed rule (None: no holdout, or no member ids)."""
    with ws.session() as s:
        holdout = current_holdout(s)
    if holdout.share <= 0 or members is None:
        return None
    return HeldOutRows(np.fromiter((holdout.holds(str(m)) for m in members), dtype=bool, count=len(members)),
                       holdout.policy)


def evaluate_run(ws: Workspace, world: LabWorld, run_id: int, logger: str,
                 policies: Sequence[str] | None = None) -> tuple[pd.DataFrame, LabResult]:
    """Every candidate policy estimated offline on one saved run's log of ``logger`` — the run
    replayed from its own config and seed (the same members and dice), beside the version the
    service serves — and the replayed run. One function for the page and the command line."""
    with ws.session() as s:
        run = get_run(s, run_id)
    if logger not in run.config.policies:
        raise ValidationError(f"run #{run.id} did not run {logger!r}; it ran {', '.join(run.config.policies)}")
    result = run_online(world, run.config)
    return offline_on_run(world, result, logger, policies, served=as_served(ws)), result


def evaluate_log(ws: Workspace, world: LabWorld, experiment: str, cell: str | None = None,
                 policies: Sequence[str] | None = None, seed: int = 0) -> tuple[pd.DataFrame, LogInfo]:
    """Every candidate policy estimated offline on the logged impressions of ``experiment``
    (one ``cell``), beside the version the decision service serves as it serves it — the
    holdout's members with its fixed rule — and what was read of the log. The reward is the
    metric the experiment's plan declares, else what the log supports (plays without durations)."""
    from artdash.results.plans import get_plan
    from artdash.results.service import impression_log

    plan = get_plan(ws.results_engine, experiment)
    rounds, info = rounds_from_results(impression_log(ws), world, experiment, cell,
                                       metric=plan.metric if plan else None)
    config = LabConfig(mix={pid: 1.0 for pid, _ in world.archetypes}, seed=seed)
    table = offline_table(world, config, rounds, policies, then=info.support, served=as_served(ws),
                          held_out=held_out_rows(ws, info.members))
    return table, info
