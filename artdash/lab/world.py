"""The Policy lab's world: the catalog's titles with active artwork and its synthetic
personas as archetypes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from artdash.catalog.personas import list_personas
from artdash.catalog.taxonomy import list_tags
from artdash.policy.features import FeatureSpace
from artdash.preview import editors_picks, load_preview_catalog
from artdash.simulator.world import LabWorld, build_world


def load_world(session: Session) -> LabWorld:
    """The catalog's titles with active artwork and its synthetic personas as archetypes."""
    archetypes = [p for p in list_personas(session) if p.kind == "synthetic" and not p.is_blank]
    return build_world(load_preview_catalog(session), archetypes, FeatureSpace(list_tags(session)),
                       editors_picks(session))
