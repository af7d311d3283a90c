"""Who a policy is asked about: a persona (synthetic or a real member) as a policy context."""

from __future__ import annotations

from artdash.catalog.personas import PersonaView
from artdash.policy.base import Context


def context_for(persona: PersonaView) -> Context:
    """The persona's tastes, country and device as the context a policy decides for (its
    member key makes decisions sticky per persona)."""
    return Context(member_key=f"persona:{persona.id}", affinities=persona.weight_by_tag_id(),
                   country=persona.country, device=persona.device)
