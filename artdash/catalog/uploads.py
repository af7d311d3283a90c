"""Uploads: an image file becomes a draft variant (validated, normalised, de-duplicated, tagged from its looks)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from artdash.access.auth import authorize
from artdash.catalog.annotations import rendition, store_annotations, suggest_from_annotations
from artdash.catalog.taxonomy import find_tag
from artdash.catalog.text import label_from_name, printable
from artdash.catalog.titles import title_row
from artdash.catalog.views import NearDuplicate, UploadReport, UploadResult
from artdash.config import ImageLimits
from artdash.db.models import (
    TagSuggestion,
    Title,
    Variant,
)
from artdash.errors import (
    DuplicateError,
    ImageRejected,
)
from artdash.media.images import (
    NEAR_DUPLICATE_BITS,
    ProcessedImage,
    VisualFeatures,
    hamming,
    process_image,
)
from artdash.media.images.annotate import StillAnnotations, annotate_still
from artdash.media.store import MediaStore

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
                 actor: str, limits: ImageLimits | None = None,
                 annotations: StillAnnotations | None = None) -> UploadResult:
    """Validate one file and, if it is acceptable, store it as a new draft variant of the title.

    Runs inside the caller's transaction. A refusal is returned (not raised) so that one bad
    file never stops the others; nothing is stored for a refused file. ``annotations`` already
    read off the full-size picture (a still from a video) are stored as they are.
    """
    authorize(session, actor, "editor")
    title = title_row(session, title_id)
    shown = file_name if isinstance(file_name, str) else str(file_name)
    try:
        image: ProcessedImage = process_image(shown, data, limits)
        duplicate = (_exact_duplicate(session, source_sha256=image.source_sha256)
                     or _exact_duplicate(session, sha256=image.sha256))
        if duplicate is not None:
            raise DuplicateError(_duplicate_reason(duplicate))
    except (ImageRejected, DuplicateError) as refusal:
        return UploadResult(file_name=printable(shown), accepted=False, reason=str(refusal))

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
        title_id=title.id, label=label_from_name(image.display_name), status="draft", sha256=image.sha256,
        source_sha256=image.source_sha256, media_ext=image.ext, format=image.format,
        source_format=image.source_format, width=image.width, height=image.height, n_bytes=image.n_bytes,
        source_n_bytes=image.source_n_bytes, phash=image.phash, brightness=f.brightness, contrast=f.contrast,
        colourfulness=f.colourfulness, warmth=f.warmth, dominant_colours=[list(c) for c in f.dominant_colours],
        warnings=warnings, near_duplicate_of_id=twin.variant_id if twin else None, created_by=actor,
        updated_by=actor,
    )
    # faces, focal point and cast shot, read off the thumbnail-sized rendition already made —
    # set before the row is first written, so a fresh upload is version 1
    notes = annotations or annotate_still(rendition(image.thumbnail))
    store_annotations(variant, notes)
    session.add(variant)
    session.flush()
    for tag_name, reason in suggest_visual_tags(f):
        tag = find_tag(session, "visual", tag_name)
        if tag is not None:
            session.add(TagSuggestion(variant_id=variant.id, tag_id=tag.id, reason=reason))
    session.flush()
    suggest_from_annotations(session, variant, notes)
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
        title_row(session, title_id)  # an unknown title is one error, not one per file
    results = []
    for i, (name, data) in enumerate(files, start=1):
        try:
            with sessions() as session, session.begin():
                result = ingest_image(session, store, title_id, name, data, actor, limits)
        except IntegrityError:
            # Someone stored the same image between our check and our insert.
            result = UploadResult(file_name=printable(name), accepted=False,
                                  reason="the same image was stored by someone else at this moment; it is in the "
                                         "gallery already")
        results.append(result)
        if progress:
            progress(i, len(files), result.file_name)
    return UploadReport(tuple(results))
