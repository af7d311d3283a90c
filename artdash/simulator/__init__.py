"""Simulation: the one taste model, populations drawn around persona archetypes, the catalog
as arrays, and simulated logs. The Policy lab, the demo results and Preview's training log
all simulate through here.

Modules: ``taste`` (the ground truth), ``world`` (the catalog as arrays), ``population``
(members and their hidden truth), ``logs`` (simulated impressions, vectorised).
"""

from artdash.simulator.logs import (
    SIMULATED_MEMBER,
    LoggedRounds,
    numbered_ids,
    simulate_log,
    simulated_member_id,
    simulated_member_ids,
)
from artdash.simulator.population import Population, Truth, draw_population
from artdash.simulator.taste import TasteModel
from artdash.simulator.world import LabWorld, build_world, group_affinity

__all__ = ["SIMULATED_MEMBER", "LabWorld", "LoggedRounds", "Population", "TasteModel", "Truth", "build_world",
           "draw_population", "group_affinity", "numbered_ids", "simulate_log", "simulated_member_id",
           "simulated_member_ids"]
