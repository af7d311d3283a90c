"""The one tag vocabulary: facets (genre, theme, tone, cast, visual) and their tags.

Tag names are normalised: surrounding whitespace removed and inner runs collapsed. Two
names that differ only in case (or spacing) are the same tag; the name first given is the
one shown.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from artdash import intake
from artdash.access.auth import authorize
from artdash.db.models import Facet, PersonaAffinity, Tag, TagSuggestion, TitleTag, VariantTag
from artdash.errors import ConflictError, DuplicateError, NotFoundError, ValidationError

MAX_TAG_LENGTH = 80
_SPACES = re.compile(r"\s+")
_CONTROL = intake.CONTROL


@dataclass(frozen=True)
class TagView:
    """A tag as the pages see it: id, facet, name, usage counts."""
    id: int
    facet: str
    name: str
    version: int
    n_titles: int = 0
    n_variants: int = 0

    @property
    def label(self) -> str:
        """``facet: name``, as tags are shown in pickers."""
        return f"{self.facet}: {self.name}"


@dataclass(frozen=True)
class FacetView:
    """A facet and its tags."""
    id: int
    name: str
    description: str
    tags: tuple[TagView, ...]


def normalise_tag_name(name: str | None) -> tuple[str, str]:
    """(display name, comparison key). Refuses empty, over-long or control-character names."""
    text = unicodedata.normalize("NFC", name or "")
    if _CONTROL.search(text.replace("\t", " ").replace("\n", " ")):
        raise ValidationError("a tag name cannot contain control characters; type it again")
    display = _SPACES.sub(" ", text).strip()
    if not display:
        raise ValidationError("a tag needs a name: type at least one letter (empty or blank names are not tags)")
    if len(display) > MAX_TAG_LENGTH:
        raise ValidationError(f"the tag name is {len(display)} characters; keep it to {MAX_TAG_LENGTH} or fewer")
    return display, display.casefold()


ASSETS = Path(__file__).resolve().parents[1] / "assets"


def default_taxonomy_path() -> Path:
    """The taxonomy a new database starts with: ``artdash/assets/taxonomy.json`` (package data)."""
    return ASSETS / "taxonomy.json"


def load_default_taxonomy(session: Session, path: Path | None = None) -> int:
    """Add the facets and tags of the shipped taxonomy that are missing. Returns tags added."""
    spec = json.loads((path or default_taxonomy_path()).read_text(encoding="utf-8"))
    added = 0
    for position, facet_spec in enumerate(spec["facets"]):
        facet = session.scalar(select(Facet).where(Facet.name == facet_spec["name"]))
        if facet is None:
            facet = Facet(name=facet_spec["name"], description=facet_spec.get("description", ""), position=position)
            session.add(facet)
            session.flush()
        existing = set(session.scalars(select(Tag.key).where(Tag.facet_id == facet.id)))
        for raw in facet_spec.get("tags", []):
            display, key = normalise_tag_name(raw)
            if key not in existing:
                session.add(Tag(facet_id=facet.id, name=display, key=key))
                existing.add(key)
                added += 1
    session.flush()
    return added


def _facet(session: Session, facet: str) -> Facet:
    row = session.scalar(select(Facet).where(Facet.name == (facet or "").strip().lower()))
    if row is None:
        names = ", ".join(session.scalars(select(Facet.name).order_by(Facet.position)))
        raise NotFoundError(f"there is no facet {facet!r}; the facets are: {names}")
    return row


def _tag(session: Session, tag_id: int) -> Tag:
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFoundError(f"tag #{tag_id} does not exist (it may have been merged or removed); reload the page")
    return tag


def _view(tag: Tag, n_titles: int = 0, n_variants: int = 0) -> TagView:
    return TagView(id=tag.id, facet=tag.facet.name, name=tag.name, version=tag.version,
                   n_titles=n_titles, n_variants=n_variants)


def list_facets(session: Session) -> list[FacetView]:
    """Every facet with its tags and how many titles and variants use each."""
    n_titles = dict(session.execute(select(TitleTag.tag_id, func.count()).group_by(TitleTag.tag_id)).all())
    n_variants = dict(session.execute(select(VariantTag.tag_id, func.count()).group_by(VariantTag.tag_id)).all())
    facets = session.scalars(select(Facet).order_by(Facet.position, Facet.name)).all()
    return [
        FacetView(
            id=f.id, name=f.name, description=f.description,
            tags=tuple(_view(t, n_titles.get(t.id, 0), n_variants.get(t.id, 0)) for t in f.tags),
        )
        for f in facets
    ]


def list_tags(session: Session, facet: str | None = None) -> list[TagView]:
    """Every tag of every facet, in facet then name order."""
    query = select(Tag).join(Facet).order_by(Facet.position, Tag.key)
    if facet:
        query = query.where(Facet.name == facet)
    return [_view(t) for t in session.scalars(query)]


def find_tag(session: Session, facet: str, name: str) -> TagView | None:
    """The tag ``name`` of ``facet`` (compared ignoring case and spacing), or None."""
    _, key = normalise_tag_name(name)
    tag = session.scalar(select(Tag).where(Tag.facet_id == _facet(session, facet).id, Tag.key == key))
    return _view(tag) if tag else None


def add_facet(session: Session, name: str, description: str, actor: str) -> FacetView:
    """Add a facet to the taxonomy (admins)."""
    authorize(session, actor, "admin")
    display, key = normalise_tag_name(name)
    if session.scalar(select(Facet).where(Facet.name == key)):
        raise DuplicateError(f"the facet {key!r} already exists")
    position = (session.scalar(select(func.max(Facet.position))) or 0) + 1
    facet = Facet(name=key, description=(description or "").strip(), position=position)
    session.add(facet)
    session.flush()
    return FacetView(id=facet.id, name=facet.name, description=facet.description, tags=())


def add_tag(session: Session, facet: str, name: str, actor: str) -> TagView:
    """Add a tag to a facet (editors may; renaming, merging and facets are admin work).
    Refuses a name that exists already, in any case or spacing."""
    authorize(session, actor, "editor")
    display, key = normalise_tag_name(name)
    facet_row = _facet(session, facet)
    clash = session.scalar(select(Tag).where(Tag.facet_id == facet_row.id, Tag.key == key))
    if clash is not None:
        same = "" if clash.name == display else f" as {clash.name!r}"
        raise DuplicateError(f"{facet_row.name} already has the tag {display!r}{same}; use that one")
    tag = Tag(facet_id=facet_row.id, name=display, key=key)
    session.add(tag)
    session.flush()
    return _view(tag)


def ensure_tags(session: Session, facet: str, names: list[str], actor: str) -> list[TagView]:
    """The tags with these names in ``facet``, adding those that don't exist yet."""
    authorize(session, actor, "editor")
    out: dict[int, TagView] = {}
    for name in names:
        existing = find_tag(session, facet, name)
        tag = existing or add_tag(session, facet, name, actor)
        out[tag.id] = tag
    return list(out.values())


def rename_tag(session: Session, tag_id: int, new_name: str, actor: str,
               expected_version: int | None = None) -> TagView:
    """Rename a tag; a name another tag of the facet has is refused (merge them instead)."""
    authorize(session, actor, "admin")
    display, key = normalise_tag_name(new_name)
    tag = _tag(session, tag_id)
    if expected_version is not None and tag.version != expected_version:
        raise ConflictError(f"someone changed this tag meanwhile: it is now {tag.name!r}; "
                            "reload and rename again if still needed", current=_view(tag))
    clash = session.scalar(select(Tag).where(Tag.facet_id == tag.facet_id, Tag.key == key, Tag.id != tag.id))
    if clash is not None:
        raise DuplicateError(
            f"{tag.facet.name} already has {clash.name!r}; merge {tag.name!r} into it instead of renaming"
        )
    tag.name, tag.key = display, key
    session.flush()
    return _view(tag)


def merge_tags(session: Session, source_id: int, target_id: int, actor: str) -> TagView:
    """Move every use of ``source`` onto ``target`` (same facet) and remove ``source``."""
    authorize(session, actor, "admin")
    if source_id == target_id:
        raise ValidationError("pick two different tags to merge")
    source, target = _tag(session, source_id), _tag(session, target_id)
    if source.facet_id != target.facet_id:
        raise ValidationError(
            f"{source.name!r} is in {source.facet.name} and "
            f"{target.name!r} in {target.facet.name}; tags can only be merged within one facet"
        )
    owners: dict[Any, Any] = {TitleTag: TitleTag.title_id, VariantTag: VariantTag.variant_id,
                              TagSuggestion: TagSuggestion.variant_id, PersonaAffinity: PersonaAffinity.persona_id}
    for link, owner in owners.items():
        # Where the owner already has the target, the target's link (and weight) wins.
        already = select(owner).where(link.tag_id == target.id)
        session.execute(delete(link).where(link.tag_id == source.id, owner.in_(already)))
        session.execute(update(link).where(link.tag_id == source.id).values(tag_id=target.id))
    session.delete(source)
    session.flush()
    session.expire_all()
    merged = session.get(Tag, target_id)
    assert merged is not None  # the target was just checked and is never deleted here
    return _view(merged)
