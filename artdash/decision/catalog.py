"""The catalog as a decision sees it: every title with its active variants as policy
candidates, where and when each may be shown, and a fingerprint that changes whenever
anything a decision depends on changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from artdash import clock
from artdash.catalog.eligibility import Eligibility, of_variant
from artdash.catalog.misleading import misleading
from artdash.db.models import EditorsPick, Facet, Persona, Tag, Title, TitleTag, Variant, VariantTag
from artdash.policy.base import Candidate


@dataclass(frozen=True)
class PreviewTitle:
    """A title with its active candidates, as Preview and the policies see it."""
    id: int
    name: str
    year: int | None
    genres: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    images: dict[int, str]  # variant id → sha256 (for thumbnails)
    rules: Mapping[int, Eligibility] = field(default_factory=dict)  # variant id → where/when it may be shown
    misleading: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # variant id → clickbait warnings

    def shown_to(self, country: str = "", language: str = "", maturity: str = "",
                 when: datetime | None = None) -> tuple[Candidate, ...]:
        """The candidates a member may be shown (``artdash.catalog.eligibility``), now or ``when``."""
        when = when or clock.now()
        unrestricted = Eligibility()
        return tuple(c for c in self.candidates
                     if not self.rules.get(c.variant_id, unrestricted).refusal(country, language, maturity, when))

    @property
    def display_name(self) -> str:
        """``Name (year)``, or the name alone."""
        return f"{self.name} ({self.year})" if self.year else self.name


def load_preview_catalog(session: Session) -> list[PreviewTitle]:
    """Every title with its active variants as candidates (and their images for thumbnails).

    Read as plain columns — four queries, no ORM objects — because every refresh of every
    decision-service worker reads it whole: a thousand titles load in tens of milliseconds."""
    title_genres: dict[int, list[str]] = {}
    for title_id, name in session.execute(
            select(TitleTag.title_id, Tag.name).join(Tag, Tag.id == TitleTag.tag_id).join(Facet, Facet.id == Tag.facet_id)
            .where(Facet.name == "genre").order_by(Tag.key)):
        title_genres.setdefault(title_id, []).append(name)
    variant_tags: dict[int, list[tuple[int, str]]] = {}
    for variant_id, tag_id, tag_name, facet_name in session.execute(
            select(VariantTag.variant_id, Tag.id, Tag.name, Facet.name)
            .join(Tag, Tag.id == VariantTag.tag_id).join(Facet, Facet.id == Tag.facet_id)
            .join(Variant, Variant.id == VariantTag.variant_id).where(Variant.status == "active").order_by(Tag.key)):
        variant_tags.setdefault(variant_id, []).append((tag_id, f"{facet_name}: {tag_name}"))
    by_title: dict[int, list[Any]] = {}
    for v in session.execute(select(*_VARIANT_COLUMNS).where(Variant.status == "active").order_by(Variant.id)):
        by_title.setdefault(v.title_id, []).append(v)
    out = []
    for t in session.execute(select(Title.id, Title.name, Title.year).order_by(Title.name)):
        vs = by_title.get(t.id, [])
        genres = title_genres.get(t.id, [])
        out.append(PreviewTitle(
            id=t.id, name=t.name, year=t.year, genres=tuple(sorted(genres)),
            candidates=tuple(Candidate(variant_id=v.id, title_id=t.id,
                                       tag_ids=frozenset(tag_id for tag_id, _ in variant_tags.get(v.id, ())),
                                       visual=(v.brightness, v.contrast, v.colourfulness / 100, v.warmth),
                                       label=v.label) for v in vs),
            images={v.id: v.sha256 for v in vs},
            rules={v.id: rule for v in vs if not (rule := of_variant(v)).unrestricted},
            misleading={v.id: found for v in vs
                        if (found := misleading(genres, (label for _, label in variant_tags.get(v.id, ()))))}))
    return out


# What a decision reads of a variant: its candidate's features, its image, and its rules (of_variant).
_VARIANT_COLUMNS = (Variant.id, Variant.title_id, Variant.brightness, Variant.contrast, Variant.colourfulness,
                    Variant.warmth, Variant.label, Variant.sha256, Variant.territories, Variant.languages,
                    Variant.lineage_kind, Variant.locale, Variant.available_from, Variant.available_until,
                    Variant.maturity, Variant.approved)


def catalog_fingerprint(session: Session) -> tuple:
    """Changes whenever anything a policy depends on changes (variants, tags, personas, picks):
    the key under which trained policies can be cached."""
    parts = []
    for count_of, latest in ((Variant.id, Variant.updated_at), (Persona.id, Persona.updated_at),
                             (Tag.id, Tag.version), (EditorsPick.title_id, EditorsPick.chosen_at)):
        n, last = session.execute(select(func.count(count_of), func.max(latest))).one()
        parts += [n, str(last)]
    # Versions go up on every change, so an edit counts even when two land in the same instant.
    for versioned in (Tag.version, Variant.version, Persona.version):
        parts.append(session.scalar(select(func.coalesce(func.sum(versioned), 0))))
    return tuple(parts)


def editors_picks(session: Session) -> dict[int, int]:
    """Title id → the variant an editor picked."""
    return dict(session.execute(select(EditorsPick.title_id, EditorsPick.variant_id)).all())
