"""Titles: create, edit, list and count (every change takes the acting user; edits carry a version)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from artdash.access.auth import authorize
from artdash.catalog.taxonomy import ensure_tags, find_tag
from artdash.catalog.text import MAX_SYNOPSIS, MAX_TITLE_NAME, clean_kind, clean_text, clean_year
from artdash.catalog.views import TitleView, title_view
from artdash.db.models import (
    Facet,
    Tag,
    Title,
    Variant,
    touch,
)
from artdash.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from artdash.media.images import (
    aspect_name,
)

# ---------------------------------------------------------------------------------- titles

def _resolve_title_tags(session: Session, genres: Sequence[str], cast: Sequence[str],
                        tag_ids: Sequence[int], actor: str) -> tuple[list[Tag], list[int]]:
    """The title's tags, and its cast's tag ids in the order given (billing order)."""
    tags: dict[int, Tag] = {}
    for genre in genres:
        found = find_tag(session, "genre", genre)
        if found is None:
            known = ", ".join(session.scalars(
                select(Tag.name).join(Facet).where(Facet.name == "genre").order_by(Tag.key)))
            raise ValidationError(f"{genre.strip()!r} is not a genre in the taxonomy; pick one of: {known} "
                                  "(or add it on the Taxonomy page first)")
        tags[found.id] = session.get_one(Tag, found.id)
    billing = ensure_tags(session, "cast", [c for c in cast if c and c.strip()], actor)
    for view in billing:
        tags[view.id] = session.get_one(Tag, view.id)
    for tag_id in tag_ids:
        tag = session.get(Tag, int(tag_id))
        if tag is None:
            raise NotFoundError(f"tag #{tag_id} does not exist (it may have been merged); reload the page")
        tags[tag.id] = tag
    return list(tags.values()), [view.id for view in billing]


def _check_duplicate_title(session: Session, name: str, year: int | None, kind: str, exclude: int | None = None):
    query = select(Title).where(func.lower(Title.name) == name.lower(), Title.kind == kind)
    query = query.where(Title.year.is_(None) if year is None else Title.year == year)
    if exclude is not None:
        query = query.where(Title.id != exclude)
    clash = session.scalar(query)
    if clash is not None:
        raise DuplicateError(f"the catalog already has the {kind} {clash.name!r}"
                             f"{f' ({year})' if year else ''} as title #{clash.id}; open that one instead")


def create_title(session: Session, *, name: str, actor: str, year: int | str | None = None,
                 kind: str = "movie", synopsis: str = "", genres: Sequence[str] = (),
                 cast: Sequence[str] = (), tag_ids: Sequence[int] = ()) -> TitleView:
    """Add a title. Genres must exist in the taxonomy; cast names are added as needed."""
    authorize(session, actor, "editor")
    name = clean_text(name, "name", MAX_TITLE_NAME, required=True)
    year = clean_year(year)
    kind = clean_kind(kind)
    synopsis = clean_text(synopsis, "synopsis", MAX_SYNOPSIS)
    _check_duplicate_title(session, name, year, kind)
    tags, cast_order = _resolve_title_tags(session, genres, cast, tag_ids, actor)
    title = Title(name=name, year=year, kind=kind, synopsis=synopsis, created_by=actor, updated_by=actor, tags=tags,
                  cast_order=cast_order)
    session.add(title)
    session.flush()
    return title_view(title)


def update_title(session: Session, title_id: int, *, actor: str, expected_version: int | None,
                 name: str, year: int | str | None, kind: str, synopsis: str,
                 genres: Sequence[str] = (), cast: Sequence[str] = (), tag_ids: Sequence[int] = ()) -> TitleView:
    """Replace a title's fields and tags. A stale ``expected_version`` is refused."""
    authorize(session, actor, "editor")
    title = title_row(session, title_id)
    if expected_version is not None and title.version != expected_version:
        raise ConflictError(
            f"{title.updated_by} changed this title meanwhile (now {title.name!r}, version {title.version}); "
            "your edit was not saved — reload to see their change, then edit again",
            current=title_view(title),
        )
    name = clean_text(name, "name", MAX_TITLE_NAME, required=True)
    year = clean_year(year)
    kind = clean_kind(kind)
    synopsis = clean_text(synopsis, "synopsis", MAX_SYNOPSIS)
    _check_duplicate_title(session, name, year, kind, exclude=title.id)
    tags, cast_order = _resolve_title_tags(session, genres, cast, tag_ids, actor)
    with session.no_autoflush:  # one UPDATE, one version step
        title.tags = tags
        title.cast_order = cast_order
        title.name, title.year, title.kind, title.synopsis = name, year, kind, synopsis
        touch(title, actor)  # a new version also when only its tags changed
    flush_or_conflict(session, "title")
    return title_view(title)


def title_row(session: Session, title_id: int) -> Title:
    """The title row ``title_id``; refuses an unknown id with what to do."""
    title = session.get(Title, int(title_id))
    if title is None:
        raise NotFoundError(f"title #{title_id} does not exist; pick a title from the catalog")
    return title


def flush_or_conflict(session: Session, what: str) -> None:
    """Flush, turning a stale edit (the row changed since it was read) into a :class:`ConflictError`."""
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(f"someone else saved this {what} at the same moment; reload and try again") from None


def _status_counts(session: Session, title_ids: Sequence[int] | None = None) -> dict[int, dict[str, int]]:
    query = select(Variant.title_id, Variant.status, func.count()).group_by(Variant.title_id, Variant.status)
    if title_ids is not None:
        query = query.where(Variant.title_id.in_(title_ids))
    out: dict[int, dict[str, int]] = {}
    for title_id, status, n in session.execute(query):
        out.setdefault(title_id, {})[status] = n
    return out


def _covers(session: Session) -> dict[int, Variant]:
    """Per title, the image to show for it: the first active box-art variant, else the first
    active one, else the first draft, else the first retired."""
    status_rank = {"active": 0, "draft": 1, "retired": 2}

    def rank(v: Variant) -> tuple[int, int]:
        return status_rank[v.status], 0 if aspect_name(v.width, v.height) == "box art (2:3)" else 1

    covers: dict[int, Variant] = {}
    for v in session.scalars(select(Variant).options(selectinload(Variant.tags).selectinload(Tag.facet),
                                                     selectinload(Variant.title)).order_by(Variant.id)):
        best = covers.get(v.title_id)
        if best is None or rank(v) < rank(best):
            covers[v.title_id] = v
    return covers


def list_titles(session: Session, search: str = "", genre: str | None = None,
                kind: str | None = None) -> list[TitleView]:
    """Titles (name order) with variant counts and a cover image; filtered by name, genre, kind."""
    query = select(Title).options(selectinload(Title.tags).selectinload(Tag.facet)).order_by(func.lower(Title.name))
    if search and search.strip():
        query = query.where(Title.name.ilike(f"%{search.strip()}%"))
    if kind:
        query = query.where(Title.kind == kind)
    titles = session.scalars(query).all()
    if genre:
        titles = [t for t in titles if any(tag.facet.name == "genre" and tag.name == genre for tag in t.tags)]
    counts = _status_counts(session)
    covers = _covers(session)
    return [title_view(t, counts.get(t.id), covers.get(t.id)) for t in titles]


def title_choices(session: Session) -> list[tuple[int, str]]:
    """(id, "Name (year)") of every title in name order: cheap enough for a picker on every rerun."""
    rows = session.execute(select(Title.id, Title.name, Title.year).order_by(func.lower(Title.name), Title.year))
    return [(i, f"{name} ({year})" if year else name) for i, name, year in rows]


def get_title(session: Session, title_id: int) -> TitleView:
    """One title's view; refuses an unknown id."""
    title = title_row(session, title_id)
    counts = _status_counts(session, [title.id]).get(title.id)
    return title_view(title, counts)


def catalog_counts(session: Session) -> dict[str, int]:
    """How many titles, variants (by status) and tags the catalog holds."""
    counts = dict(session.execute(select(Variant.status, func.count()).group_by(Variant.status)).all())
    return {
        "titles": session.scalar(select(func.count()).select_from(Title)) or 0,
        "variants": sum(counts.values()),
        "active": counts.get("active", 0),
        "draft": counts.get("draft", 0),
        "retired": counts.get("retired", 0),
    }
