"""Personas: who the policy is asked about. Synthetic archetypes with hand-set affinities
over the tag taxonomy (the same vocabulary titles and images use), plus country and device.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from artdash import intake
from artdash.access.auth import authorize
from artdash.catalog.taxonomy import ASSETS, TagView, find_tag
from artdash.db.models import DEVICES, Persona, PersonaAffinity, Tag
from artdash.errors import ConflictError, DuplicateError, NotFoundError, ValidationError

_CONTROL = intake.CONTROL


@dataclass(frozen=True)
class PersonaView:
    """A persona (synthetic archetype or real member) with its tastes over tags."""
    id: int
    name: str
    kind: str
    description: str
    country: str
    device: str
    version: int
    affinities: tuple[tuple[TagView, float], ...]
    member_id: str | None = None      # a real member's id in the product (imported from viewing history)

    @property
    def is_blank(self) -> bool:
        """No tastes at all: the policy can only give the non-personalised choice."""
        return all(w == 0 for _, w in self.affinities)

    def weight_by_tag_id(self) -> dict[int, float]:
        """Affinity weight per tag id (what a policy context carries)."""
        return {t.id: w for t, w in self.affinities}

    def strongest(self, n: int = 3) -> list[tuple[TagView, float]]:
        """The ``n`` strongest affinities, strongest first."""
        return sorted(self.affinities, key=lambda tw: -abs(tw[1]))[:n]


def default_personas_path() -> Path:
    """The archetypes a new database starts with (package data)."""
    return ASSETS / "personas.json"


def _view(session: Session, persona: Persona) -> PersonaView:
    rows = session.execute(select(PersonaAffinity, Tag).join(Tag, Tag.id == PersonaAffinity.tag_id)
                           .where(PersonaAffinity.persona_id == persona.id))
    affinities = tuple(sorted(((TagView(id=t.id, facet=t.facet.name, name=t.name, version=t.version), a.weight)
                               for a, t in rows), key=lambda tw: (tw[0].facet, tw[0].name)))
    return PersonaView(id=persona.id, name=persona.name, kind=persona.kind, description=persona.description,
                       country=persona.country, device=persona.device, version=persona.version,
                       affinities=affinities, member_id=persona.member_id)


def _clean_name(name: str | None) -> tuple[str, str]:
    text = re.sub(r"\s+", " ", name or "").strip()
    if not text:
        raise ValidationError("a persona needs a name, e.g. 'Romance lover'")
    if _CONTROL.search(text) or len(text) > 120:
        raise ValidationError("a persona name must be at most 120 printable characters")
    return text, text.casefold()


def _clean_country(country: str | None) -> str:
    value = (country or "").strip().upper()
    if value and not re.fullmatch(r"[A-Z]{2}", value):
        raise ValidationError(f"country {country!r} must be a two-letter code such as FR or US, or empty")
    return value


def _clean_device(device: str | None) -> str:
    value = (device or "tv").strip().lower()
    if value not in DEVICES:
        raise ValidationError(f"device {device!r} must be one of: {', '.join(DEVICES)}")
    return value


def _clean_affinities(session: Session, affinities: Mapping[int, float]) -> dict[int, float]:
    out = {}
    for tag_id, weight in affinities.items():
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise ValidationError(f"affinity {weight!r} is not a number; use a value from -1 to 1") from None
        if math.isnan(value) or not -1 <= value <= 1:
            raise ValidationError(f"affinity {weight!r} is outside -1 … 1 (−1 avoids the tag, 1 loves it)")
        if session.get(Tag, int(tag_id)) is None:
            raise NotFoundError(f"tag #{tag_id} does not exist (merged or removed); reload and pick again")
        if value != 0:
            out[int(tag_id)] = round(value, 4)
    return out


def create_persona(session: Session, *, name: str, actor: str, description: str = "", country: str = "",
                   device: str = "tv", affinities: Mapping[int, float] | None = None) -> PersonaView:
    """Add a synthetic persona with the given tastes (editors); refuses bad fields with the reason."""
    authorize(session, actor, "editor")
    display, key = _clean_name(name)
    if session.scalar(select(Persona).where(Persona.key == key)):
        raise DuplicateError(f"a persona called {display!r} exists already; pick another name or edit that one")
    persona = Persona(name=display, key=key, kind="synthetic", description=(description or "").strip()[:2000],
                      country=_clean_country(country), device=_clean_device(device), created_by=actor,
                      updated_by=actor)
    weights = _clean_affinities(session, affinities or {})
    session.add(persona)
    session.flush()
    session.add_all(PersonaAffinity(persona_id=persona.id, tag_id=t, weight=w) for t, w in weights.items())
    session.flush()
    return _view(session, persona)


def update_persona(session: Session, persona_id: int, *, actor: str, expected_version: int | None, name: str,
                   description: str, country: str, device: str, affinities: Mapping[int, float]) -> PersonaView:
    """Replace a persona's fields and affinities; a stale ``expected_version`` is refused."""
    authorize(session, actor, "editor")
    persona = _get(session, persona_id)
    if expected_version is not None and persona.version != expected_version:
        raise ConflictError(f"{persona.updated_by} changed {persona.name!r} meanwhile; your edit was not saved — "
                            "reload to see their version", current=_view(session, persona))
    display, key = _clean_name(name)
    clash = session.scalar(select(Persona).where(Persona.key == key, Persona.id != persona.id))
    if clash is not None:
        raise DuplicateError(f"another persona is called {clash.name!r}; pick another name")
    weights = _clean_affinities(session, affinities)
    persona.name, persona.key = display, key
    persona.description = (description or "").strip()[:2000]
    persona.country, persona.device = _clean_country(country), _clean_device(device)
    persona.updated_by = actor
    session.execute(delete(PersonaAffinity).where(PersonaAffinity.persona_id == persona.id))
    session.add_all(PersonaAffinity(persona_id=persona.id, tag_id=t, weight=w) for t, w in weights.items())
    session.flush()
    return _view(session, persona)


def _get(session: Session, persona_id: int) -> Persona:
    persona = session.get(Persona, int(persona_id))
    if persona is None:
        raise NotFoundError(f"persona #{persona_id} does not exist; pick one from the list")
    return persona


def get_persona(session: Session, persona_id: int) -> PersonaView:
    """One persona by id; refuses an unknown id."""
    return _view(session, _get(session, persona_id))


def list_personas(session: Session) -> list[PersonaView]:
    """Every persona, synthetic first, by name."""
    return [_view(session, p) for p in session.scalars(select(Persona).order_by(Persona.kind.desc(), Persona.id))]


def load_archetypes(session: Session, actor: str, path: Path | None = None) -> int:
    """Add the shipped archetypes that are missing (by name). Returns how many were added.

    Affinities naming a tag the taxonomy no longer has are left out."""
    authorize(session, actor, "editor")
    spec = json.loads((path or default_personas_path()).read_text(encoding="utf-8"))
    added = 0
    for entry in spec["personas"]:
        _, key = _clean_name(entry["name"])
        if session.scalar(select(func.count()).select_from(Persona).where(Persona.key == key)):
            continue
        weights = {}
        for label, weight in entry["affinities"].items():
            facet, _, name = label.partition(":")
            tag = find_tag(session, facet.strip(), name.strip())
            if tag is not None:
                weights[tag.id] = weight
        create_persona(session, name=entry["name"], description=entry.get("description", ""),
                       country=entry.get("country", ""), device=entry.get("device", "tv"), affinities=weights,
                       actor=actor)
        added += 1
    return added


def affinity_matrix(personas: list[PersonaView], tag_ids: list[int]) -> np.ndarray:
    """personas × tags matrix of affinity weights, columns in ``tag_ids`` order."""
    column = {t: j for j, t in enumerate(tag_ids)}
    out = np.zeros((len(personas), len(tag_ids)))
    for i, persona in enumerate(personas):
        for tag, weight in persona.affinities:
            if tag.id in column:
                out[i, column[tag.id]] = weight
    return out
