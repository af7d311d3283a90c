"""What the catalog returns: frozen views of titles, variants, tag suggestions and uploads (never ORM objects)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from artdash.catalog.eligibility import Eligibility, of_variant
from artdash.catalog.taxonomy import TagView
from artdash.db.models import (
    Tag,
    TagSuggestion,
    Title,
    Variant,
)
from artdash.media.images import (
    aspect_name,
)

STATUS_TRANSITIONS = {"draft": ("active", "retired"), "active": ("retired",), "retired": ("active",)}

# ---------------------------------------------------------------------------------- views

@dataclass(frozen=True)
class SuggestionView:
    """A tag suggested for a variant from its visual features, and its state."""
    tag: TagView
    reason: str
    status: str


@dataclass(frozen=True)
class VariantView:
    """An artwork variant as the pages see it: file facts, features, status, tags, lineage, version."""
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
    eligibility: Eligibility = Eligibility()
    focal_x: float | None = None          # None: the centre (not annotated yet)
    focal_y: float | None = None
    faces: tuple[tuple[float, float, float, float], ...] = ()   # (x, y, w, h) fractions
    annotations: dict = field(default_factory=dict)
    origin: str | None = None             # "frame 00:12:31.4 of trailer.mp4", "2:3 crop of #12"
    frame_seconds: float | None = None
    crop_box: tuple[int, int, int, int] | None = None

    @property
    def focal_point(self) -> tuple[float, float]:
        """Where the subject is (fractions); the centre until annotated."""
        return (0.5 if self.focal_x is None else self.focal_x, 0.5 if self.focal_y is None else self.focal_y)

    @property
    def shape(self) -> str:
        """``box art (2:3)``, ``billboard (16:9)`` or ``other``."""
        return aspect_name(self.width, self.height) or "other"

    @property
    def pending_suggestions(self) -> tuple[SuggestionView, ...]:
        """Suggestions nobody has accepted or rejected yet."""
        return tuple(s for s in self.suggestions if s.status == "pending")

    def tags_in(self, facet: str) -> tuple[TagView, ...]:
        """The variant's tags of one facet."""
        return tuple(t for t in self.tags if t.facet == facet)


@dataclass(frozen=True)
class TitleView:
    """A title as the pages see it, with counts of its variants by status and its cover."""
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
    cast_order: tuple[int, ...] = ()      # cast tag ids in billing order (as typed)

    def tags_in(self, facet: str) -> tuple[TagView, ...]:
        """The title's tags of one facet (the cast in billing order; others alphabetically)."""
        tags = tuple(t for t in self.tags if t.facet == facet)
        if facet == "cast" and self.cast_order:
            rank = {tag_id: i for i, tag_id in enumerate(self.cast_order)}
            tags = tuple(sorted(tags, key=lambda t: rank.get(t.id, len(rank))))   # stable: the rest stay sorted
        return tags

    @property
    def genres(self) -> tuple[str, ...]:
        """Genre names, as the editor set them."""
        return tuple(t.name for t in self.tags_in("genre"))

    @property
    def cast(self) -> tuple[str, ...]:
        """Cast names, in billing order."""
        return tuple(t.name for t in self.tags_in("cast"))

    @property
    def display_name(self) -> str:
        """``Name (year)``, or the name alone."""
        return f"{self.name} ({self.year})" if self.year else self.name


@dataclass(frozen=True)
class NearDuplicate:
    """An earlier variant an upload looks like (perceptual hash distance in bits)."""
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
        """``accepted``, ``accepted with warnings`` or ``refused``."""
        if not self.accepted:
            return "refused"
        return "accepted with warnings" if self.warnings else "accepted"


@dataclass(frozen=True)
class UploadReport:
    """The results of one upload of several files, in order."""
    results: tuple[UploadResult, ...] = field(default=())

    @property
    def n_accepted(self) -> int:
        """How many files became draft variants."""
        return sum(r.accepted for r in self.results)

    @property
    def n_refused(self) -> int:
        """How many files were refused."""
        return sum(not r.accepted for r in self.results)

    def rows(self) -> list[dict]:
        """One flat row per file, for tables and CSV downloads (numbers as numbers)."""
        return [
            {
                "file": r.file_name,
                "outcome": r.outcome,
                "variant": r.variant_id,
                "width": r.width,
                "height": r.height,
                "why / warnings": r.reason or "; ".join(r.warnings),
                "near duplicate of": (f"#{r.near_duplicate.variant_id} {r.near_duplicate.label} "
                                      f"({r.near_duplicate.title_name})") if r.near_duplicate else "",
                "done": "; ".join(r.notes),
            }
            for r in self.results
        ]


def tag_view(tag: Tag) -> TagView:
    """The view of a tag row."""
    return TagView(id=tag.id, facet=tag.facet.name, name=tag.name, version=tag.version)


def sorted_tags(tags: Iterable[Tag]) -> tuple[TagView, ...]:
    """Views of ``tags``, by facet then name."""
    return tuple(sorted((tag_view(t) for t in tags), key=lambda t: (t.facet, t.name.casefold())))


def variant_view(v: Variant, suggestions: Sequence[tuple[TagSuggestion, Tag]] = ()) -> VariantView:
    """The view of a variant row, with its tag suggestions (each with its tag)."""
    return VariantView(
        id=v.id, title_id=v.title_id, title_name=v.title.name, label=v.label, status=v.status,
        sha256=v.sha256, media_ext=v.media_ext, format=v.format, width=v.width, height=v.height,
        n_bytes=v.n_bytes, phash=v.phash, brightness=v.brightness, contrast=v.contrast,
        colourfulness=v.colourfulness, warmth=v.warmth,
        dominant_colours=tuple((c, s) for c, s in (v.dominant_colours or [])),
        warnings=tuple(v.warnings or ()), near_duplicate_of_id=v.near_duplicate_of_id,
        parent_id=v.parent_id, lineage_kind=v.lineage_kind, locale=v.locale, version=v.version,
        created_by=v.created_by, created_at=v.created_at, tags=sorted_tags(v.tags),
        suggestions=tuple(SuggestionView(tag_view(s_tag), s.reason, s.status) for s, s_tag in suggestions),
        eligibility=of_variant(v), focal_x=v.focal_x, focal_y=v.focal_y,
        faces=tuple(tuple(f) for f in (v.faces or ())), annotations=dict(v.annotations or {}), origin=v.origin,
        frame_seconds=v.frame_seconds, crop_box=tuple(v.crop_box) if v.crop_box else None,
    )


def title_view(t: Title, counts: dict[str, int] | None = None, cover: Variant | None = None) -> TitleView:
    """The view of a title row (with its variant counts and cover, when known)."""
    counts = counts or {}
    return TitleView(
        id=t.id, name=t.name, year=t.year, kind=t.kind, synopsis=t.synopsis, version=t.version,
        tags=sorted_tags(t.tags), n_variants=sum(counts.values()), n_active=counts.get("active", 0),
        n_draft=counts.get("draft", 0), n_retired=counts.get("retired", 0),
        cover=variant_view(cover) if cover is not None else None,
        cast_order=tuple(int(i) for i in (t.cast_order or ())),
    )
