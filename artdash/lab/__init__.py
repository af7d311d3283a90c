"""Policy lab: run policies against a simulated population, and evaluate them offline.

    >>> world = lab.load_world(session)                          # the catalog, as policies see it
    >>> config = lab.LabConfig(mix={a.id: 1.0 for a in world.archetypes}, impressions=20_000)
    >>> result = lab.run_online(world, config)                   # every policy on the same stream
    >>> result.summary()                                         # take rates with intervals, regret
    >>> lab.offline_table(world, config, result.traces["uniform"])   # OPE on the uniform log

The hidden truth is :class:`artdash.simulator.taste.TasteModel` (the one taste model): members are drawn from the persona
archetypes in the configured mix, each with their own tastes (the archetype's affinities
plus noise); policies see the member's archetype, not the member's true tastes. Every policy
meets the same members, titles and random draws (common random numbers), so differences
between policies are differences between policies, not luck. Policies learn every
``batch_size`` impressions from what they have logged so far, through the one policy API
(``table`` / ``partial_fit``, :mod:`artdash.policy.table`) and the one registry.

Modules: ``config`` (a run's settings), ``world`` (the catalog as arrays), ``online`` (the
run), ``logs`` (a run's impressions for the results database), ``offline`` (evaluation),
``display`` (tables for people), ``store`` (saved runs and promotions).

Its modules load when first used (:mod:`artdash.lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from artdash import lazy

if TYPE_CHECKING:
    from artdash.lab.config import MAX_IMPRESSIONS, POLICY_LABELS, LabConfig
    from artdash.lab.display import offline_for_display, ranking, summary_for_display, with_labels
    from artdash.lab.logs import run_log
    from artdash.lab.offline import (
        LogInfo,
        catalog_note,
        log_note,
        log_notes,
        offline_on_run,
        offline_table,
        rounds_from_results,
    )
    from artdash.lab.online import LabResult, Trace, make_policy, run_online
    from artdash.lab.served import as_served
    from artdash.lab.world import load_world
    from artdash.policy.base import Rounds
    from artdash.simulator.population import Population, Truth, draw_population
    from artdash.simulator.world import LabWorld, build_world

__all__ = [
    "MAX_IMPRESSIONS", "POLICY_LABELS", "LabConfig", "LabResult", "LabWorld", "Population", "Rounds", "Trace", "Truth",
    "LogInfo", "as_served", "build_world", "catalog_note", "draw_population", "load_world", "log_note", "log_notes", "make_policy",
    "offline_for_display", "offline_on_run", "offline_table", "ranking", "rounds_from_results", "run_log", "run_online",
    "summary_for_display", "with_labels",
]

__getattr__, __dir__ = lazy.exports(__name__, {
    "artdash.lab.config": ("MAX_IMPRESSIONS", "POLICY_LABELS", "LabConfig",),
    "artdash.lab.display": ("offline_for_display", "ranking", "summary_for_display", "with_labels",),
    "artdash.lab.logs": ("run_log",),
    "artdash.lab.offline": ("LogInfo", "catalog_note", "log_note", "log_notes", "offline_on_run", "offline_table", "rounds_from_results",),
    "artdash.lab.online": ("LabResult", "Trace", "make_policy", "run_online",),
    "artdash.lab.served": ("as_served",),
    "artdash.lab.world": ("load_world",),
    "artdash.policy.base": ("Rounds",),
    "artdash.simulator.population": ("Population", "Truth", "draw_population",),
    "artdash.simulator.world": ("LabWorld", "build_world",),
})
