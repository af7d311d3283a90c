"""What the Policy-lab page and ``artdash simulate`` do after a run, in one place: save it with
its offline estimates and, if asked, write its simulated impressions to the results database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from artdash.lab.offline import offline_on_run
from artdash.lab.online import LabResult
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
