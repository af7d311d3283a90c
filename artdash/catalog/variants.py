"""Artwork variants: status, label, tags, tag suggestions, lineage and the editor's pick."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from artdash import clock
from artdash.access.auth import authorize
from artdash.catalog.text import clean_text
from artdash.catalog.titles import flush_or_conflict, title_row
from artdash.catalog.views import STATUS_TRANSITIONS, VariantView, variant_view
from artdash.db.models import (
    LINEAGE_KINDS,
    VARIANT_STATUSES,
    EditorsPick,
    Facet,
    Tag,
    TagSuggestion,
    Variant,
    VariantTag,
    touch,
)
from artdash.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)

# ---------------------------------------------------------------------------------- variants

def variant_row(session: Session, variant_id: int) -> Variant:
    """The variant row ``variant_id``; refuses an unknown id with what to do."""
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
            current=variant_view(variant),
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
    """A title's variants (optionally only some statuses), oldest first, with their suggestions."""
    title_row(session, title_id)
    query = (select(Variant).where(Variant.title_id == title_id)
             .options(selectinload(Variant.tags).selectinload(Tag.facet), selectinload(Variant.title))
             .order_by(Variant.id))
    if statuses:
        query = query.where(Variant.status.in_(statuses))
    variants = session.scalars(query).all()
    suggestions = _suggestion_rows(session, [v.id for v in variants])
    return [variant_view(v, suggestions.get(v.id, ())) for v in variants]


def variants_by_id(session: Session, variant_ids: Iterable[int]) -> dict[int, VariantView]:
    """The views of the given variants (any title), by id; ids not in the catalog are left out."""
    ids = sorted({int(i) for i in variant_ids})
    if not ids:
        return {}
    rows = session.scalars(select(Variant).where(Variant.id.in_(ids))
                           .options(selectinload(Variant.tags).selectinload(Tag.facet), selectinload(Variant.title)))
    return {v.id: variant_view(v) for v in rows}


def get_variant(session: Session, variant_id: int) -> VariantView:
    """One variant's view with its tag suggestions; refuses an unknown id."""
    variant = variant_row(session, variant_id)
    return variant_view(variant, _suggestion_rows(session, [variant.id]).get(variant.id, ()))


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
    variant = variant_row(session, variant_id)
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
    variant = variant_row(session, variant_id)
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
    flush_or_conflict(session, "variant")
    return get_variant(session, variant.id)


def bulk_status(session: Session, variant_ids: Sequence[int], status: str, actor: str) -> tuple[int, int]:
    """Move several variants to ``status`` at once (e.g. activate every draft of a title), in
    the caller's transaction: all of them or none — a variant that cannot make the move
    refuses the whole batch, naming it. Returns (how many changed, how many were already there)."""
    authorize(session, actor, "editor")
    status = (status or "").strip().lower()
    ids = list(dict.fromkeys(int(v) for v in variant_ids))
    if not ids:
        raise ValidationError("select at least one variant")
    if status not in VARIANT_STATUSES:
        raise ValidationError(f"{status or 'blank'!r} is not a status; use {', '.join(VARIANT_STATUSES)}")
    rows = [variant_row(session, i) for i in ids]
    stuck = [v for v in rows if v.status != status and status not in STATUS_TRANSITIONS.get(v.status, ())]
    if stuck:
        named = ", ".join(f"#{v.id} ({v.status})" for v in stuck[:8]) + (" …" if len(stuck) > 8 else "")
        raise ValidationError(f"{len(stuck)} of the {len(rows)} variants cannot become {status}: {named}; "
                              "leave them out (nothing was changed)")
    already = sum(v.status == status for v in rows)
    for v in rows:
        if v.status != status:
            set_variant_status(session, v.id, status, actor)
    return len(rows) - already, already


def set_variant_label(session: Session, variant_id: int, label: str, actor: str,
                      expected_version: int | None = None) -> VariantView:
    """Rename a variant (editors; refused when stale)."""
    authorize(session, actor, "editor")
    variant = variant_row(session, variant_id)
    _check_variant_version(variant, expected_version)
    variant.label = clean_text(label, "label", 200, required=True)
    variant.updated_by = actor
    flush_or_conflict(session, "variant")
    return get_variant(session, variant.id)


def set_variant_tags(session: Session, variant_id: int, tag_ids: Iterable[int], actor: str,
                     expected_version: int | None = None) -> VariantView:
    """Replace a variant's tags with exactly ``tag_ids``."""
    authorize(session, actor, "editor")
    variant = variant_row(session, variant_id)
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
    touch(variant, actor)  # a tag change is a change to the variant
    flush_or_conflict(session, "variant")
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
        variant = variant_row(session, variant_id)
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
        variant = variant_row(session, variant_id)
        set_variant_tags(session, variant_id, {t.id for t in variant.tags} | {int(tag_id)}, actor)
    _decide(suggestion, "accepted" if accept else "rejected", actor)
    session.flush()
    return get_variant(session, variant_id)


def reopen_suggestion(session: Session, variant_id: int, tag_id: int, actor: str) -> VariantView:
    """Take back a rejection: the suggestion waits for a yes or no again."""
    authorize(session, actor, "editor")
    suggestion = session.get(TagSuggestion, (int(variant_id), int(tag_id)))
    if suggestion is None or suggestion.status != "rejected":
        raise NotFoundError(f"variant #{variant_id} has no rejected suggestion of tag #{tag_id}; reload")
    suggestion.status, suggestion.decided_by, suggestion.decided_at = "pending", None, None
    session.flush()
    return get_variant(session, variant_id)


def undo_status(session: Session, variant_id: int, previous: str, actor: str, version_after: int) -> VariantView:
    """Put a variant back to the status it had before the change that left it at ``version_after``
    — only if nothing has changed it since (then the undo is refused, saying who did)."""
    authorize(session, actor, "editor")
    variant = variant_row(session, variant_id)
    if variant.version != version_after:
        raise ConflictError(f"{variant.updated_by} changed variant #{variant.id} after that (it is now "
                            f"{variant.status}); nothing was undone — change it by hand if still needed",
                            current=variant_view(variant))
    if previous not in VARIANT_STATUSES:
        raise ValidationError(f"{previous!r} is not a status")
    variant.status = previous   # the one move back that the lifecycle does not offer: right after, by undo
    variant.updated_by = actor
    flush_or_conflict(session, "variant")
    return get_variant(session, variant.id)


def undo_tags(session: Session, variant_id: int, before: Iterable[int], actor: str, version_after: int) -> VariantView:
    """Give a variant back the tags ``before`` it had before the tag change that left it at
    ``version_after`` (a saved tag form, an accepted suggestion) — only if nothing has changed it
    since. A suggestion that change accepted waits for a yes or no again."""
    authorize(session, actor, "editor")
    variant = variant_row(session, variant_id)
    if variant.version != version_after:
        raise ConflictError(f"{variant.updated_by} changed variant #{variant.id} after that; its tags were not "
                            "undone — change them by hand if still needed", current=variant_view(variant))
    wanted = {int(t) for t in before}
    dropped = {t.id for t in variant.tags} - wanted
    for suggestion in session.scalars(select(TagSuggestion).where(
            TagSuggestion.variant_id == variant.id, TagSuggestion.status == "accepted",
            TagSuggestion.tag_id.in_(dropped))) if dropped else ():
        suggestion.status, suggestion.decided_by, suggestion.decided_at = "pending", None, None
    return set_variant_tags(session, variant_id, wanted, actor, expected_version=version_after)


def set_lineage(session: Session, variant_id: int, parent_id: int | None, actor: str,
                kind: str | None = None, locale: str | None = None,
                expected_version: int | None = None) -> VariantView:
    """Mark a variant as a crop or localisation of another variant of the same title (or clear it)."""
    authorize(session, actor, "editor")
    variant = variant_row(session, variant_id)
    _check_variant_version(variant, expected_version)
    if parent_id is None:
        variant.parent_id = variant.lineage_kind = variant.locale = None
    else:
        parent = variant_row(session, parent_id)
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
            ancestor = variant_row(session, ancestor.parent_id)
        locale_text = clean_text(locale, "locale", 20) or None
        if kind == "localisation" and not locale_text:
            raise ValidationError("a localisation needs its locale, e.g. fr-FR or ja")
        variant.parent_id, variant.lineage_kind = parent.id, kind
        variant.locale = locale_text if kind == "localisation" else None
    variant.updated_by = actor
    flush_or_conflict(session, "variant")
    return get_variant(session, variant.id)


def set_editors_pick(session: Session, title_id: int, variant_id: int | None, actor: str) -> int | None:
    """Make ``variant_id`` the title's default image (the editor's-pick policy), or clear it."""
    authorize(session, actor, "editor")
    title = title_row(session, title_id)
    pick = session.get(EditorsPick, title.id)
    if variant_id is None:
        if pick is not None:
            session.delete(pick)
        session.flush()
        return None
    variant = variant_row(session, variant_id)
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
    """The variant id an editor picked for the title, or None."""
    pick = session.get(EditorsPick, int(title_id))
    return pick.variant_id if pick else None


def lineage_root(session: Session, variant_id: int) -> int:
    """The source image a crop/localisation chain starts from."""
    variant = variant_row(session, variant_id)
    seen = set()
    while variant.parent_id is not None and variant.id not in seen:
        seen.add(variant.id)
        variant = variant_row(session, variant.parent_id)
    return variant.id
