"""A variant's annotations — faces, focal point, cast shot, quality, review cues — stored on the
variant and turned into tag suggestions; the editor may move the focal point, and `artdash
annotate` reads them again off the stored images (for variants uploaded before this existed)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from artdash.access.auth import authorize
from artdash.catalog.taxonomy import find_tag
from artdash.catalog.variants import _check_variant_version, variant_row
from artdash.catalog.views import VariantView, variant_view
from artdash.db.models import TagSuggestion, Variant, touch
from artdash.errors import ValidationError
from artdash.media.images.annotate import StillAnnotations, annotate_still
from artdash.media.store import MediaStore

ANNOTATION_BOX = (960, 960)   # annotations are read off a rendition no larger than this


def rendition(data: bytes, box: tuple[int, int] = ANNOTATION_BOX) -> np.ndarray:
    """An RGB array of stored image bytes, scaled to fit ``box`` (JPEGs are scaled while decoded)."""
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", box)
        rgb = im.convert("RGB")
    rgb.thumbnail(box, Image.Resampling.BILINEAR)
    return np.asarray(rgb)


def apply_annotations(session: Session, variant: Variant, notes: StillAnnotations,
                      keep_focal: bool = False) -> None:
    """Store ``notes`` on the variant and suggest the tags they support (pending, unless already decided)."""
    store_annotations(variant, notes, keep_focal)
    suggest_from_annotations(session, variant, notes)


def store_annotations(variant: Variant, notes: StillAnnotations, keep_focal: bool = False) -> None:
    """Put ``notes`` (faces, focal point, cast shot …) on the variant's row (a new one: before
    its first flush, so an upload is stored once, as version 1)."""
    variant.faces = [f.as_list() for f in notes.faces]
    stored = notes.as_json()
    if keep_focal and variant.focal_x is not None:
        stored["focal_source"] = "editor"
    else:
        variant.focal_x, variant.focal_y = notes.composition.focal_x, notes.composition.focal_y
    variant.annotations = stored


def suggest_from_annotations(session: Session, variant: Variant, notes: StillAnnotations) -> None:
    """Suggest the visual tags ``notes`` support (pending, unless already decided)."""
    decided = {s.tag_id for s in session.scalars(select(TagSuggestion).where(TagSuggestion.variant_id == variant.id))}
    for tag_name, reason in notes.suggested_tags():
        tag = find_tag(session, "visual", tag_name)
        if tag is not None and tag.id not in decided:
            session.add(TagSuggestion(variant_id=variant.id, tag_id=tag.id, reason=reason[:200]))
    session.flush()


def set_focal_point(session: Session, variant_id: int, x: float, y: float, actor: str,
                    expected_version: int | None = None) -> VariantView:
    """Move a variant's focal point (fractions of its width and height, 0 to 1)."""
    authorize(session, actor, "editor")
    try:
        fx, fy = float(x), float(y)
    except (TypeError, ValueError):
        raise ValidationError(f"a focal point is two numbers between 0 and 1, not {x!r}, {y!r}") from None
    if not (0.0 <= fx <= 1.0 and 0.0 <= fy <= 1.0):
        raise ValidationError(f"the focal point ({fx:g}, {fy:g}) lies outside the image; both numbers go from "
                              "0 (left, top) to 1 (right, bottom)")
    variant = variant_row(session, variant_id)
    _check_variant_version(variant, expected_version)
    variant.focal_x, variant.focal_y = round(fx, 4), round(fy, 4)
    variant.annotations = {**(variant.annotations or {}), "focal_source": "editor"}
    touch(variant, actor)
    session.flush()
    return variant_view(variant)


def annotate_variants(session: Session, store: MediaStore, actor: str, variant_ids: Sequence[int] | None = None,
                      progress: Callable[[int, int], None] | None = None) -> int:
    """Read the annotations again off the stored images (all variants, or the given ones); a focal
    point an editor set is kept. Returns how many were annotated."""
    authorize(session, actor, "editor")
    query = select(Variant).order_by(Variant.id)
    if variant_ids is not None:
        query = query.where(Variant.id.in_([int(i) for i in variant_ids]))
    variants = session.scalars(query).all()
    for i, variant in enumerate(variants, start=1):
        notes = annotate_still(rendition(store.read(variant.sha256, variant.media_ext)))
        apply_annotations(session, variant, notes,
                          keep_focal=(variant.annotations or {}).get("focal_source") == "editor")
        if progress:
            progress(i, len(variants))
    return len(variants)
