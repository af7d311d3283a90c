"""Editorial operations on titles and artwork variants.

Every function takes a Session (the caller owns the transaction) and, when it changes
data, the acting user. Functions return frozen dataclasses, never ORM objects.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from artdash import clock
from artdash.auth import authorize
from artdash.config import ImageLimits
from artdash.db.models import (
    LINEAGE_KINDS,
    TITLE_KINDS,
    EditorsPick,
    Facet,
    Tag,
    TagSuggestion,
    Title,
    Variant,
    VariantTag,
)
from artdash.errors import (
    ArtdashError,
    ConflictError,
    DuplicateError,
    ImageRejected,
    NotFoundError,
    ValidationError,
)
from artdash.images import (
    NEAR_DUPLICATE_BITS,
    ProcessedImage,
    VisualFeatures,
    aspect_name,
    hamming,
    process_image,
)
from artdash.media import MediaStore
from artdash.taxonomy import TagView, ensure_tags, find_tag, normalise_tag_name

MAX_TITLE_NAME = 200
MAX_SYNOPSIS = 5000
FIRST_FILM_YEAR = 1888
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Which status may follow which: retiring is not deleting, and a retired image can come back.
STATUS_TRANSITIONS = {"draft": ("active", "retired"), "active": ("retired",), "retired": ("active",)}


# ---------------------------------------------------------------------------------- views

@dataclass(frozen=True)
class SuggestionView:
    tag: TagView
    reason: str
    status: str


@dataclass(frozen=True)
class VariantView:
    id: int
    title_id: int
    title_name: str
    label: str
    status: str
    sha256: str
    media_ext: str
    format: str
    width: int
    height: int
    n_bytes: int
    phash: str
    brightness: float
    contrast: float
    colourfulness: float
    warmth: float
    dominant_colours: tuple[tuple[str, float], ...]
    warnings: tuple[str, ...]
    near_duplicate_of_id: int | None
    parent_id: int | None
    lineage_kind: str | None
    locale: str | None
    version: int
    created_by: str
    created_at: datetime
    tags: tuple[TagView, ...] = ()
    suggestions: tuple[SuggestionView, ...] = ()

    @property
    def shape(self) -> str:
        return aspect_name(self.width, self.height) or "other"

    @property
    def pending_suggestions(self) -> tuple[SuggestionView, ...]:
        return tuple(s for s in self.suggestions if s.status == "pending")

    def tags_in(self, facet: str) -> tuple[TagView, ...]:
        return tuple(t for t in self.tags if t.facet == facet)


@dataclass(frozen=True)
class TitleView:
    id: int
    name: str
    year: int | None
    kind: str
    synopsis: str
    version: int
    tags: tuple[TagView, ...]
    n_variants: int = 0
    n_active: int = 0
    n_draft: int = 0
    n_retired: int = 0
    cover: VariantView | None = None

    def tags_in(self, facet: str) -> tuple[TagView, ...]:
        return tuple(t for t in self.tags if t.facet == facet)

    @property
    def genres(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tags_in("genre"))

    @property
    def cast(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tags_in("cast"))

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.year})" if self.year else self.name


@dataclass(frozen=True)
class NearDuplicate:
    variant_id: int
    label: str
    title_name: str
    distance: int


@dataclass(frozen=True)
class UploadResult:
    """What happened to one uploaded file."""

    file_name: str
    accepted: bool
    reason: str = ""
    variant_id: int | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    near_duplicate: NearDuplicate | None = None
    width: int | None = None
    height: int | None = None

    @property
    def outcome(self) -> str:
        if not self.accepted:
            return "refused"
        return "accepted with warnings" if self.warnings else "accepted"


@dataclass(frozen=True)
class UploadReport:
    results: tuple[UploadResult, ...] = field(default=())

    @property
    def n_accepted(self) -> int:
        return sum(r.accepted for r in self.results)

    @property
    def n_refused(self) -> int:
        return sum(not r.accepted for r in self.results)

    def rows(self) -> list[dict]:
        """One flat row per file, for tables and CSV downloads."""
        return [
            {
                "file": r.file_name,
                "outcome": r.outcome,
                "variant": f"#{r.variant_id}" if r.variant_id else "",
                "size": f"{r.width}×{r.height}" if r.width else "",
                "why / warnings": r.reason or "; ".join(r.warnings),
                "near duplicate of": (f"#{r.near_duplicate.variant_id} {r.near_duplicate.label} "
                                      f"({r.near_duplicate.title_name})") if r.near_duplicate else "",
                "done": "; ".join(r.notes),
            }
            for r in self.results
        ]


def _tag_view(tag: Tag) -> TagView:
    return TagView(id=tag.id, facet=tag.facet.name, name=tag.name, version=tag.version)


def _sorted_tags(tags: Iterable[Tag]) -> tuple[TagView, ...]:
    return tuple(sorted((_tag_view(t) for t in tags), key=lambda t: (t.facet, t.name.casefold())))


def _variant_view(v: Variant, suggestions: Sequence[TagSuggestion] = ()) -> VariantView:
    return VariantView(
        id=v.id, title_id=v.title_id, title_name=v.title.name, label=v.label, status=v.status,
        sha256=v.sha256, media_ext=v.media_ext, format=v.format, width=v.width, height=v.height,
        n_bytes=v.n_bytes, phash=v.phash, brightness=v.brightness, contrast=v.contrast,
        colourfulness=v.colourfulness, warmth=v.warmth,
        dominant_colours=tuple((c, s) for c, s in (v.dominant_colours or [])),
        warnings=tuple(v.warnings or ()), near_duplicate_of_id=v.near_duplicate_of_id,
        parent_id=v.parent_id, lineage_kind=v.lineage_kind, locale=v.locale, version=v.version,
        created_by=v.created_by, created_at=v.created_at, tags=_sorted_tags(v.tags),
        suggestions=tuple(SuggestionView(_tag_view(s_tag), s.reason, s.status) for s, s_tag in suggestions),
    )


def _title_view(t: Title, counts: dict[str, int] | None = None, cover: Variant | None = None) -> TitleView:
    counts = counts or {}
    return TitleView(
        id=t.id, name=t.name, year=t.year, kind=t.kind, synopsis=t.synopsis, version=t.version,
        tags=_sorted_tags(t.tags), n_variants=sum(counts.values()), n_active=counts.get("active", 0),
        n_draft=counts.get("draft", 0), n_retired=counts.get("retired", 0),
        cover=_variant_view(cover) if cover is not None else None,
    )


# ---------------------------------------------------------------------------------- titles

def _clean_text(value: str | None, what: str, limit: int, required: bool = False) -> str:
    text = unicodedata.normalize("NFC", value or "")
    if _CONTROL.search(text):
        raise ValidationError(f"the {what} contains control characters; type it again without them")
    text = text.strip()
    if required and not text:
        raise ValidationError(f"a title needs a {what}: type one (blank {what}s are not allowed)")
    if len(text) > limit:
        raise ValidationError(f"the {what} is {len(text)} characters long; keep it to {limit} or fewer")
    return text


def _clean_year(year) -> int | None:
    if year is None or (isinstance(year, str) and not year.strip()):
        return None
    try:
        value = int(str(year).strip())
    except ValueError:
        raise ValidationError(f"year {year!r} is not a number; type a year such as 2017, or leave it empty") from None
    last = clock.now().year + 5
    if not FIRST_FILM_YEAR <= value <= last:
        raise ValidationError(f"year {value} is outside {FIRST_FILM_YEAR}–{last}; check the year")
    return value


def _clean_kind(kind: str) -> str:
    value = (kind or "").strip().lower()
    if value not in TITLE_KINDS:
        raise ValidationError(f"kind {kind!r} is not one of: {', '.join(TITLE_KINDS)}")
    return value


def _resolve_title_tags(session: Session, genres: Sequence[str], cast: Sequence[str],
                        tag_ids: Sequence[int], actor: str) -> list[Tag]:
    tags: dict[int, Tag] = {}
    for genre in genres:
        found = find_tag(session, "genre", genre)
        if found is None:
            known = ", ".join(session.scalars(
                select(Tag.name).join(Facet).where(Facet.name == "genre").order_by(Tag.key)))
            raise ValidationError(f"{genre.strip()!r} is not a genre in the taxonomy; pick one of: {known} "
                                  "(or add it on the Taxonomy page first)")
        tags[found.id] = session.get(Tag, found.id)
    for view in ensure_tags(session, "cast", [c for c in cast if c and c.strip()], actor):
        tags[view.id] = session.get(Tag, view.id)
    for tag_id in tag_ids:
        tag = session.get(Tag, int(tag_id))
        if tag is None:
            raise NotFoundError(f"tag #{tag_id} does not exist (it may have been merged); reload the page")
        tags[tag.id] = tag
    return list(tags.values())


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
    name = _clean_text(name, "name", MAX_TITLE_NAME, required=True)
    year = _clean_year(year)
    kind = _clean_kind(kind)
    synopsis = _clean_text(synopsis, "synopsis", MAX_SYNOPSIS)
    _check_duplicate_title(session, name, year, kind)
    tags = _resolve_title_tags(session, genres, cast, tag_ids, actor)
    title = Title(name=name, year=year, kind=kind, synopsis=synopsis, created_by=actor, updated_by=actor, tags=tags)
    session.add(title)
    session.flush()
    return _title_view(title)


def update_title(session: Session, title_id: int, *, actor: str, expected_version: int | None,
                 name: str, year: int | str | None, kind: str, synopsis: str,
                 genres: Sequence[str] = (), cast: Sequence[str] = (), tag_ids: Sequence[int] = ()) -> TitleView:
    """Replace a title's fields and tags. A stale ``expected_version`` is refused."""
    authorize(session, actor, "editor")
    title = _get_title(session, title_id)
    if expected_version is not None and title.version != expected_version:
        raise ConflictError(
            f"{title.updated_by} changed this title meanwhile (now {title.name!r}, version {title.version}); "
            "your edit was not saved — reload to see their change, then edit again",
            current=_title_view(title),
        )
    name = _clean_text(name, "name", MAX_TITLE_NAME, required=True)
    year = _clean_year(year)
    kind = _clean_kind(kind)
    synopsis = _clean_text(synopsis, "synopsis", MAX_SYNOPSIS)
    _check_duplicate_title(session, name, year, kind, exclude=title.id)
    tags = _resolve_title_tags(session, genres, cast, tag_ids, actor)
    with session.no_autoflush:  # one UPDATE, one version step
        title.tags = tags
        title.name, title.year, title.kind, title.synopsis = name, year, kind, synopsis
    title.updated_by = actor
    _flush(session, "title")
    return _title_view(title)


def _get_title(session: Session, title_id: int) -> Title:
    title = session.get(Title, int(title_id))
    if title is None:
        raise NotFoundError(f"title #{title_id} does not exist; pick a title from the catalog")
    return title


def _flush(session: Session, what: str) -> None:
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
    return [_title_view(t, counts.get(t.id), covers.get(t.id)) for t in titles]


def title_choices(session: Session) -> list[tuple[int, str]]:
    """(id, "Name (year)") of every title in name order: cheap enough for a picker on every rerun."""
    rows = session.execute(select(Title.id, Title.name, Title.year).order_by(func.lower(Title.name), Title.year))
    return [(i, f"{name} ({year})" if year else name) for i, name, year in rows]


def get_title(session: Session, title_id: int) -> TitleView:
    title = _get_title(session, title_id)
    counts = _status_counts(session, [title.id]).get(title.id)
    return _title_view(title, counts)


def catalog_counts(session: Session) -> dict[str, int]:
    counts = dict(session.execute(select(Variant.status, func.count()).group_by(Variant.status)).all())
    return {
        "titles": session.scalar(select(func.count()).select_from(Title)) or 0,
        "variants": sum(counts.values()),
        "active": counts.get("active", 0),
        "draft": counts.get("draft", 0),
        "retired": counts.get("retired", 0),
    }


# ---------------------------------------------------------------------------------- variants

def _get_variant(session: Session, variant_id: int) -> Variant:
    variant = session.get(Variant, int(variant_id))
    if variant is None:
        raise NotFoundError(f"variant #{variant_id} does not exist; reload the gallery")
    return variant


def _check_variant_version(variant: Variant, expected_version: int | None) -> None:
    if expected_version is not None and variant.version != expected_version:
        raise ConflictError(
            f"{variant.updated_by} changed variant #{variant.id} meanwhile (it is now {variant.status}, tagged "
            f"{', '.join(t.name for t in variant.tags) or 'nothing'}); your change was not saved — reload and "
            "apply it again",
            current=_variant_view(variant),
        )


def _suggestion_rows(session: Session, variant_ids: Sequence[int]) -> dict[int, list]:
    out: dict[int, list] = {}
    if not variant_ids:
        return out
    rows = session.execute(select(TagSuggestion, Tag).join(Tag, Tag.id == TagSuggestion.tag_id)
                           .where(TagSuggestion.variant_id.in_(variant_ids)).order_by(Tag.key))
    for suggestion, tag in rows:
        out.setdefault(suggestion.variant_id, []).append((suggestion, tag))
    return out


def list_variants(session: Session, title_id: int, statuses: Sequence[str] | None = None) -> list[VariantView]:
    _get_title(session, title_id)
    query = (select(Variant).where(Variant.title_id == title_id)
             .options(selectinload(Variant.tags).selectinload(Tag.facet), selectinload(Variant.title))
             .order_by(Variant.id))
    if statuses:
        query = query.where(Variant.status.in_(statuses))
    variants = session.scalars(query).all()
    suggestions = _suggestion_rows(session, [v.id for v in variants])
    return [_variant_view(v, suggestions.get(v.id, ())) for v in variants]


def get_variant(session: Session, variant_id: int) -> VariantView:
    variant = _get_variant(session, variant_id)
    return _variant_view(variant, _suggestion_rows(session, [variant.id]).get(variant.id, ()))


def variant_tag_labels(session: Session) -> dict[int, list[str]]:
    """Every variant's tags as "facet: tag" labels, in one query (not one per variant)."""
    rows = session.execute(select(VariantTag.variant_id, Facet.name, Tag.name)
                           .join(Tag, Tag.id == VariantTag.tag_id).join(Facet, Facet.id == Tag.facet_id)
                           .order_by(VariantTag.variant_id, Facet.name, Tag.key)).all()
    out: dict[int, list[str]] = {}
    for variant_id, facet, tag in rows:
        out.setdefault(variant_id, []).append(f"{facet}: {tag}")
    return out


def delete_draft(session: Session, variant_id: int, actor: str) -> tuple[str, str]:
    """Delete a mistaken upload that never went live (drafts only; admins). Returns its media
    key and extension: the caller removes the files after the commit (a crash in between
    leaves orphan files, which `artdash doctor --repair` removes — never a row without a file)."""
    authorize(session, actor, "admin")
    variant = _get_variant(session, variant_id)
    if variant.status != "draft":
        raise ValidationError(f"#{variant_id} is {variant.status}: only drafts (never shown to anyone) can be "
                              "deleted; retire it instead")
    key = (variant.sha256, variant.media_ext)
    session.delete(variant)
    session.flush()
    return key


def set_variant_status(session: Session, variant_id: int, status: str, actor: str,
                       expected_version: int | None = None) -> VariantView:
    """Move a variant along draft → active → retired (a retired one may be reactivated)."""
    authorize(session, actor, "editor")
    variant = _get_variant(session, variant_id)
    _check_variant_version(variant, expected_version)
    status = (status or "").strip().lower()
    if status == variant.status:
        return get_variant(session, variant.id)
    allowed = STATUS_TRANSITIONS.get(variant.status, ())
    if status not in allowed:
        raise ValidationError(f"variant #{variant.id} is {variant.status}; it can become {' or '.join(allowed)}, "
                              f"not {status or 'blank'}")
    variant.status = status
    variant.updated_by = actor
    _flush(session, "variant")
    return get_variant(session, variant.id)


def set_variant_label(session: Session, variant_id: int, label: str, actor: str,
                      expected_version: int | None = None) -> VariantView:
    authorize(session, actor, "editor")
    variant = _get_variant(session, variant_id)
    _check_variant_version(variant, expected_version)
    variant.label = _clean_text(label, "label", 200, required=True)
    variant.updated_by = actor
    _flush(session, "variant")
    return get_variant(session, variant.id)


def set_variant_tags(session: Session, variant_id: int, tag_ids: Iterable[int], actor: str,
                     expected_version: int | None = None) -> VariantView:
    """Replace a variant's tags with exactly ``tag_ids``."""
    authorize(session, actor, "editor")
    variant = _get_variant(session, variant_id)
    _check_variant_version(variant, expected_version)
    wanted = {int(t) for t in tag_ids}
    tags = session.scalars(select(Tag).where(Tag.id.in_(wanted))).all() if wanted else []
    missing = wanted - {t.id for t in tags}
    if missing:
        raise NotFoundError(f"tag(s) {sorted(missing)} no longer exist (merged or removed); reload and pick again")
    current = {link.tag_id: link for link in session.scalars(select(VariantTag).where(VariantTag.variant_id == variant.id))}
    for tag_id, link in current.items():
        if tag_id not in wanted:
            session.delete(link)
    for tag_id in wanted - set(current):
        session.add(VariantTag(variant_id=variant.id, tag_id=tag_id, added_by=actor))
    # Deciding by hand settles any pending suggestion for the same tag.
    for suggestion in session.scalars(select(TagSuggestion).where(
            TagSuggestion.variant_id == variant.id, TagSuggestion.status == "pending")):
        if suggestion.tag_id in wanted:
            _decide(suggestion, "accepted", actor)
    variant.updated_by = actor
    variant.updated_at = clock.now()  # a tag change is a change to the variant (bumps its version)
    _flush(session, "variant")
    session.expire(variant)
    return get_variant(session, variant.id)


def bulk_tag(session: Session, variant_ids: Sequence[int], actor: str, add: Iterable[int] = (),
             remove: Iterable[int] = ()) -> int:
    """Add and/or remove tags on several variants at once. Returns how many variants changed."""
    authorize(session, actor, "editor")
    add, remove = {int(t) for t in add}, {int(t) for t in remove}
    if not variant_ids:
        raise ValidationError("select at least one variant to tag")
    if not add and not remove:
        raise ValidationError("pick at least one tag to add or remove")
    if add & remove:
        raise ValidationError("a tag cannot be both added and removed; pick it in one list only")
    changed = 0
    for variant_id in dict.fromkeys(int(v) for v in variant_ids):
        variant = _get_variant(session, variant_id)
        current = {t.id for t in variant.tags}
        wanted = (current | add) - remove
        if wanted != current:
            set_variant_tags(session, variant_id, wanted, actor)
            changed += 1
    return changed


def _decide(suggestion: TagSuggestion, status: str, actor: str) -> None:
    suggestion.status = status
    suggestion.decided_by = actor
    suggestion.decided_at = clock.now()


def decide_suggestion(session: Session, variant_id: int, tag_id: int, accept: bool, actor: str) -> VariantView:
    """Accept (tag the variant) or reject a feature-based tag suggestion."""
    authorize(session, actor, "editor")
    suggestion = session.get(TagSuggestion, (int(variant_id), int(tag_id)))
    if suggestion is None:
        raise NotFoundError(f"there is no suggestion of tag #{tag_id} for variant #{variant_id}; reload")
    if accept:
        variant = _get_variant(session, variant_id)
        set_variant_tags(session, variant_id, {t.id for t in variant.tags} | {int(tag_id)}, actor)
    _decide(suggestion, "accepted" if accept else "rejected", actor)
    session.flush()
    return get_variant(session, variant_id)


def set_lineage(session: Session, variant_id: int, parent_id: int | None, actor: str,
                kind: str | None = None, locale: str | None = None,
                expected_version: int | None = None) -> VariantView:
    """Mark a variant as a crop or localisation of another variant of the same title (or clear it)."""
    authorize(session, actor, "editor")
    variant = _get_variant(session, variant_id)
    _check_variant_version(variant, expected_version)
    if parent_id is None:
        variant.parent_id = variant.lineage_kind = variant.locale = None
    else:
        parent = _get_variant(session, parent_id)
        if parent.id == variant.id:
            raise ValidationError("a variant cannot be a crop or localisation of itself; pick another source")
        if parent.title_id != variant.title_id:
            raise ValidationError(f"variant #{parent.id} belongs to {parent.title.name!r}; lineage links variants "
                                  "of one title")
        kind = (kind or "").strip().lower()
        if kind not in LINEAGE_KINDS:
            raise ValidationError(f"say what variant #{variant.id} is of #{parent.id}: one of {', '.join(LINEAGE_KINDS)}")
        ancestor, seen = parent, set()
        while ancestor.parent_id is not None and ancestor.id not in seen:
            seen.add(ancestor.id)
            if ancestor.parent_id == variant.id:
                raise ValidationError(f"#{parent.id} already derives from #{variant.id}; lineage cannot go in a circle")
            ancestor = _get_variant(session, ancestor.parent_id)
        locale_text = _clean_text(locale, "locale", 20) or None
        if kind == "localisation" and not locale_text:
            raise ValidationError("a localisation needs its locale, e.g. fr-FR or ja")
        variant.parent_id, variant.lineage_kind = parent.id, kind
        variant.locale = locale_text if kind == "localisation" else None
    variant.updated_by = actor
    _flush(session, "variant")
    return get_variant(session, variant.id)


def set_editors_pick(session: Session, title_id: int, variant_id: int | None, actor: str) -> int | None:
    """Make ``variant_id`` the title's default image (the editor's-pick policy), or clear it."""
    authorize(session, actor, "editor")
    title = _get_title(session, title_id)
    pick = session.get(EditorsPick, title.id)
    if variant_id is None:
        if pick is not None:
            session.delete(pick)
        session.flush()
        return None
    variant = _get_variant(session, variant_id)
    if variant.title_id != title.id:
        raise ValidationError(f"variant #{variant.id} belongs to another title; pick one of {title.name!r}'s")
    if variant.status != "active":
        raise ValidationError(f"variant #{variant.id} is {variant.status}; only an active variant can be the pick")
    if pick is None:
        session.add(EditorsPick(title_id=title.id, variant_id=variant.id, chosen_by=actor))
    else:
        pick.variant_id, pick.chosen_by, pick.chosen_at = variant.id, actor, clock.now()
    session.flush()
    return variant.id


def editors_pick(session: Session, title_id: int) -> int | None:
    pick = session.get(EditorsPick, int(title_id))
    return pick.variant_id if pick else None


def lineage_root(session: Session, variant_id: int) -> int:
    """The source image a crop/localisation chain starts from."""
    variant = _get_variant(session, variant_id)
    seen = set()
    while variant.parent_id is not None and variant.id not in seen:
        seen.add(variant.id)
        variant = _get_variant(session, variant.parent_id)
    return variant.id


# ---------------------------------------------------------------------------------- uploads

# (tag in the visual facet, test on the features, why) — thresholds chosen on the demo set and
# on the Hasler–Süsstrunk scale; an editor accepts or rejects every suggestion.
VISUAL_RULES: tuple[tuple[str, Callable[[VisualFeatures], bool], Callable[[VisualFeatures], str]], ...] = (
    ("dark", lambda f: f.brightness < 0.30, lambda f: f"mean brightness {f.brightness:.2f} (< 0.30)"),
    ("bright", lambda f: f.brightness > 0.60, lambda f: f"mean brightness {f.brightness:.2f} (> 0.60)"),
    ("colourful", lambda f: f.colourfulness >= 55, lambda f: f"colourfulness {f.colourfulness:.0f} (≥ 55)"),
    ("muted", lambda f: f.colourfulness < 15, lambda f: f"colourfulness {f.colourfulness:.0f} (< 15)"),
    ("high contrast", lambda f: f.contrast >= 0.28, lambda f: f"contrast {f.contrast:.2f} (≥ 0.28)"),
    ("warm palette", lambda f: f.warmth >= 0.12, lambda f: f"red exceeds blue by {f.warmth:.2f} on average"),
    ("cool palette", lambda f: f.warmth <= -0.08, lambda f: f"blue exceeds red by {-f.warmth:.2f} on average"),
)


def suggest_visual_tags(features: VisualFeatures) -> list[tuple[str, str]]:
    """(visual tag name, reason) pairs the features support."""
    return [(name, why(features)) for name, test, why in VISUAL_RULES if test(features)]


def _find_near_duplicate(session: Session, phash: str, exclude_id: int | None = None) -> NearDuplicate | None:
    best: NearDuplicate | None = None
    rows = session.execute(select(Variant.id, Variant.phash, Variant.label, Title.name)
                           .join(Title, Title.id == Variant.title_id))
    for variant_id, other, label, title_name in rows:
        if variant_id == exclude_id:
            continue
        distance = hamming(phash, other)
        if distance <= NEAR_DUPLICATE_BITS and (best is None or distance < best.distance):
            best = NearDuplicate(variant_id, label, title_name, distance)
    return best


def _exact_duplicate(session: Session, *, sha256: str | None = None, source_sha256: str | None = None):
    query = select(Variant.id, Variant.label, Variant.status, Title.name).join(Title, Title.id == Variant.title_id)
    if sha256:
        query = query.where(Variant.sha256 == sha256)
    else:
        query = query.where(Variant.source_sha256 == source_sha256)
    return session.execute(query.limit(1)).first()


def _duplicate_reason(row) -> str:
    variant_id, label, status, title_name = row
    return (f"this image is already in the catalog as variant #{variant_id} ({label!r}, {status}) of "
            f"{title_name!r}; exact duplicates are refused — use that variant instead")


def ingest_image(session: Session, store: MediaStore, title_id: int, file_name: str, data: bytes,
                 actor: str, limits: ImageLimits | None = None) -> UploadResult:
    """Validate one file and, if it is acceptable, store it as a new draft variant of the title.

    Runs inside the caller's transaction. A refusal is returned (not raised) so that one bad
    file never stops the others; nothing is stored for a refused file.
    """
    authorize(session, actor, "editor")
    title = _get_title(session, title_id)
    shown = file_name if isinstance(file_name, str) else str(file_name)
    try:
        image: ProcessedImage = process_image(shown, data, limits)
        duplicate = (_exact_duplicate(session, source_sha256=image.source_sha256)
                     or _exact_duplicate(session, sha256=image.sha256))
        if duplicate is not None:
            raise DuplicateError(_duplicate_reason(duplicate))
    except (ImageRejected, DuplicateError) as refusal:
        return UploadResult(file_name=_printable(shown), accepted=False, reason=str(refusal))

    warnings = list(image.warnings)
    twin = _find_near_duplicate(session, image.phash)
    if twin is not None:
        warnings.append(f"looks almost the same as variant #{twin.variant_id} ({twin.label!r} of "
                        f"{twin.title_name!r}, {twin.distance}/64 bits apart); check it is not a re-upload")
    # Files first, then the row: a crash in between leaves an orphan file, never a dangling row.
    store.put(image.data, image.ext, sha256=image.sha256)
    store.put_thumbnail(image.sha256, image.thumbnail)
    f = image.features
    variant = Variant(
        title_id=title.id, label=_label_from_name(image.display_name), status="draft", sha256=image.sha256,
        source_sha256=image.source_sha256, media_ext=image.ext, format=image.format,
        source_format=image.source_format, width=image.width, height=image.height, n_bytes=image.n_bytes,
        source_n_bytes=image.source_n_bytes, phash=image.phash, brightness=f.brightness, contrast=f.contrast,
        colourfulness=f.colourfulness, warmth=f.warmth, dominant_colours=[list(c) for c in f.dominant_colours],
        warnings=warnings, near_duplicate_of_id=twin.variant_id if twin else None, created_by=actor,
        updated_by=actor,
    )
    session.add(variant)
    session.flush()
    for tag_name, reason in suggest_visual_tags(f):
        tag = find_tag(session, "visual", tag_name)
        if tag is not None:
            session.add(TagSuggestion(variant_id=variant.id, tag_id=tag.id, reason=reason))
    session.flush()
    return UploadResult(file_name=image.display_name, accepted=True, variant_id=variant.id,
                        warnings=tuple(warnings), notes=image.notes, near_duplicate=twin,
                        width=image.width, height=image.height)


def upload_files(sessions: sessionmaker[Session], store: MediaStore, title_id: int,
                 files: Sequence[tuple[str, bytes]], actor: str, limits: ImageLimits | None = None,
                 progress: Callable[[int, int, str], None] | None = None) -> UploadReport:
    """Ingest several files, each in its own transaction, so one bad file never blocks the others.

    ``progress(done, total, file_name)`` is called after each file.
    """
    with sessions() as session:
        _get_title(session, title_id)  # an unknown title is one error, not one per file
    results = []
    for i, (name, data) in enumerate(files, start=1):
        try:
            with sessions() as session, session.begin():
                result = ingest_image(session, store, title_id, name, data, actor, limits)
        except IntegrityError:
            # Someone stored the same image between our check and our insert.
            result = UploadResult(file_name=_printable(name), accepted=False,
                                  reason="the same image was stored by someone else at this moment; it is in the "
                                         "gallery already")
        results.append(result)
        if progress:
            progress(i, len(files), result.file_name)
    return UploadReport(tuple(results))


def _label_from_name(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    label = re.sub(r"[_\-]+", " ", stem).strip()
    return (label or name)[:200]


def _printable(name: str) -> str:
    return _CONTROL.sub("?", str(name))[:200] or "(no name)"


__all__ = [
    "ArtdashError", "TitleView", "VariantView", "UploadReport", "UploadResult", "create_title", "update_title",
    "list_titles", "get_title", "list_variants", "get_variant", "set_variant_status", "set_variant_tags",
    "bulk_tag", "decide_suggestion", "set_lineage", "ingest_image", "upload_files", "suggest_visual_tags",
    "catalog_counts", "normalise_tag_name",
]
