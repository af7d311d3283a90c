"""The Policy lab's world: the catalog's titles with active artwork and its synthetic
personas as archetypes."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from artdash import clock
from artdash.catalog.personas import list_personas
from artdash.catalog.taxonomy import list_tags
from artdash.decision.catalog import editors_picks, load_preview_catalog
from artdash.policy.features import FeatureSpace
from artdash.simulator.world import LabWorld, build_world


def load_world(session: Session) -> LabWorld:
    """The catalog's titles with the active artwork every simulated member may be shown, and its
    synthetic personas as archetypes."""
    archetypes = [p for p in list_personas(session) if p.kind == "synthetic" and not p.is_blank]
    # Simulated members have no locale, and the world's candidates are the same for every
    # archetype: artwork limited to some territories or languages is left out (never simulated
    # as shown to someone who could not see it); approval and the window are checked at now.
    titles = [replace(t, candidates=t.shown_to(when=clock.now())) for t in load_preview_catalog(session)]
    return build_world(titles, archetypes, FeatureSpace(list_tags(session)),
                       editors_picks(session))
