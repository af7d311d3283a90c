"""The Title page's gallery: a card per variant and the editor of the selected one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from artdash import catalog, numbers, stats
from artdash.catalog import LINEAGE_KINDS, STATUS_TRANSITIONS
from artdash.catalog.eligibility import set_eligibility
from artdash.catalog.misleading import misleading
from artdash.catalog.taxonomy import FacetView
from artdash.errors import ArtdashError
from artdash.media.images.faces import shot_label
from artdash.ui import state, widgets
from artdash.ui.eligibility import rule_inputs
from artdash.ui.focal import focal_picker
from artdash.ui.text import md
from artdash.ui.zoom import zoomable
from artdash.workspace import Workspace


@dataclass(frozen=True)
class TitlePage:
    """What the gallery needs to know about the open title and who is editing it."""

    ws: Workspace
    title_id: int
    actor: str
    can_edit: bool
    pick: int | None
    performance: Mapping[int, tuple[int, int]]   # variant id → (quality plays, impressions), real traffic
    picker_key: str
    variants: tuple[catalog.VariantView, ...]
    facets: tuple[FacetView, ...]
    tag_label: Mapping[int, str]
    genres: tuple[str, ...] = ()

    @property
    def variant_label(self) -> dict[int, str]:
        """``#id label (status)`` of each variant of the title."""
        return {v.id: f"#{v.id} {v.label} ({v.status})" for v in self.variants}


CARD_WIDTH = 210
NARROW_CARD_WIDTH = 140      # below 1280 px the gallery column holds two of these (8 px apart), not one 210 px card
# Streamlit lays columns out at fixed shares whatever the window, so a narrow window gets narrow
# cards by a media query on the cards' own class (st.container(key=…) gives "st-key-<key>").
# The card's layout wrapper (its parent) carries the width too.
CARD_STYLE = ("<style>@media (max-width: 1279px) { div[data-testid=\"stLayoutWrapper\"]:has(> div[class*="
              "\"st-key-gallery-card-\"]), div[class*=\"st-key-gallery-card-\"] "
              f"{{ width: {NARROW_CARD_WIDTH}px !important; min-width: {NARROW_CARD_WIDTH}px !important; "
              f"flex: 0 0 {NARROW_CARD_WIDTH}px !important; }} }}</style>")


def variant_card(page: TitlePage, v: catalog.VariantView) -> None:
    """One gallery card: thumbnail, status, shape, features, real-traffic take rate, tags, Edit."""
    with st.container(border=True, width=CARD_WIDTH, key=f"gallery-card-{v.id}"):
        st.image(widgets.thumbnail_path(page.ws, v), width="stretch")
        star = " :material/star:" if v.id == page.pick else ""
        st.markdown(f"**#{v.id} {md(v.label)}**{star}  \n{widgets.STATUS_BADGES[v.status]} · {md(v.shape)}")
        st.caption(f"{v.width}×{v.height} · brightness {v.brightness:.2f} · contrast {v.contrast:.2f} · "
                   f"colourful {v.colourfulness:.0f}")
        if v.id in page.performance:
            quality, shown = page.performance[v.id]
            rate = stats.rate_estimate(quality, shown)
            st.caption(f":material/monitoring: quality take {numbers.rate(rate.rate)} "
                       f"({numbers.rate_range(rate.interval.low, rate.interval.high)}) over {shown:,} impressions",
                       help="All real traffic in the results database (Results has the A/B review against a "
                            "control, by date and segment).")
        widgets.swatches(v.dominant_colours)
        widgets.tag_chips(v.tags)
        if v.pending_suggestions:
            st.caption(f":material/lightbulb: {len(v.pending_suggestions)} tag suggestion(s) to review")
        if v.parent_id:
            st.caption(f"↳ {md(v.lineage_kind)} of #{v.parent_id}{f' ({md(v.locale)})' if v.locale else ''}")
        if not v.eligibility.unrestricted:
            st.caption(f":material/public: {md(v.eligibility.summary())}",
                       help="Where, when and to whom it may be shown (edit it under 'Where and when').")
        for w in v.warnings:
            st.caption(f":material/warning: {md(w)}")
        for w in misleading(page.genres, (t.label for t in v.tags)):
            st.caption(f":orange[:material/report: {md(w[:1].upper() + w[1:])}]")
        editing = st.session_state.get(page.picker_key) == v.id
        st.button("Editing" if editing else "Edit", key=f"edit-{v.id}", width="stretch", on_click=select_variant,
                  args=(page.picker_key, v.id), type="primary" if editing else "secondary",
                  icon=":material/edit:" if editing else None)


EDIT_NOTICE = "gallery_edit_notice"
UNDO = "gallery_undo"   # (variant id, "status" or "tags", what was before, version after) of the last change here
SHORTCUTS = "**n** / **b** next and previous variant · **a** accept, **d** reject the first suggestion"


def remember_undo(before: catalog.VariantView, after: catalog.VariantView, kind: str = "status") -> None:
    """Offer to undo the status or tag change that made ``after`` out of ``before``."""
    was = before.status if kind == "status" else tuple(sorted(t.id for t in before.tags))
    st.session_state[UNDO] = (before.id, kind, was, after.version)


def undo_button(page: TitlePage, v: catalog.VariantView) -> None:
    """Undo the last status or tag change of ``v`` made here — while nothing else has changed it."""
    undo = st.session_state.get(UNDO)
    if not undo or undo[0] != v.id or undo[3] != v.version:
        return
    _, kind, was, version_after = undo
    label = f"Undo: back to {was}" if kind == "status" else "Undo the tag change"
    if st.button(label, key=f"undo-{v.id}-{kind}", icon=":material/undo:", disabled=not page.can_edit):
        st.session_state.pop(UNDO, None)
        if kind == "status":
            widgets.act(page.ws, lambda s: catalog.undo_status(s, v.id, was, page.actor, version_after),
                        f"#{v.id} is {was} again.")
        else:
            widgets.act(page.ws, lambda s: catalog.undo_tags(s, v.id, was, page.actor, version_after),
                        f"#{v.id} has its tags of before again.")


def select_variant(picker_key: str, variant_id: int) -> None:
    """Open ``variant_id`` in the editor (the Edit button's callback); the next run says where it is."""
    st.session_state[picker_key] = variant_id
    st.session_state[EDIT_NOTICE] = variant_id


def edit_notice() -> None:
    """A toast saying which variant the editor now shows (the editor may be off-screen)."""
    variant_id = st.session_state.pop(EDIT_NOTICE, None)
    if variant_id is not None:
        st.toast(f"Editing #{variant_id}: its editor is beside the gallery (top right).", icon=":material/edit:")


def variant_editor(page: TitlePage, v: catalog.VariantView) -> None:
    """Everything an editor changes on one variant: status, pick, suggestions, tags, lineage, label."""
    st.subheader(f"Edit #{v.id} {md(v.label)}")
    ids = [o.id for o in page.variants]
    at = ids.index(v.id) if v.id in ids else 0
    with st.container(horizontal=True, gap="small"):
        st.button("Previous", key="variant-prev", shortcut="b", icon=":material/chevron_left:",
                  on_click=select_variant, args=(page.picker_key, ids[at - 1]), disabled=len(ids) < 2)
        st.button("Next", key="variant-next", shortcut="n", icon=":material/chevron_right:",
                  on_click=select_variant, args=(page.picker_key, ids[(at + 1) % len(ids)]), disabled=len(ids) < 2)
    st.caption(f"Variant {at + 1:,} of {len(ids):,}. Shortcuts: {SHORTCUTS}.")
    st.image(widgets.thumbnail_path(page.ws, v), width=220)
    # (no "version N": it counts saves for the edit check, and a fresh upload is already at 2 — annotated once)
    st.markdown(f"{widgets.STATUS_BADGES[v.status]} · {md(v.format)} · {v.width}×{v.height} · {v.n_bytes / 1024:,.0f} KB")

    # Status lifecycle: only the moves that are allowed from here.
    moves = STATUS_TRANSITIONS[v.status]
    buttons = st.columns(len(moves))
    verbs = {"active": "Activate" if v.status == "draft" else "Reactivate", "retired": "Retire"}
    for col, target in zip(buttons, moves):
        if col.button(verbs[target], key=f"status-{v.id}-{target}", width="stretch", disabled=not page.can_edit,
                      type="primary" if target == "active" else "secondary"):
            widgets.act(page.ws, lambda s, target=target: catalog.set_variant_status(s, v.id, target, page.actor, v.version),
                        f"#{v.id} is now {target}.", then=lambda after: remember_undo(v, after))
    undo_button(page, v)

    if v.status == "draft":
        with st.popover("Delete draft", icon=":material/delete:"):
            st.caption("For a mistaken upload: the draft and its files are removed for good (admins only).")
            if st.button("Delete it", key=f"delete-{v.id}", type="primary", disabled=not widgets.may("admin")):
                try:
                    with page.ws.transaction() as s:
                        media_key = catalog.delete_draft(s, v.id, page.actor)
                except ArtdashError as exc:
                    st.error(f"Not deleted — {md(exc)}")
                else:
                    page.ws.store.delete(*media_key)
                    st.session_state.pop(state.SELECTED_VARIANT, None)
                    widgets.flash("success", f"Deleted the draft #{v.id}.")
                    st.rerun()

    if v.status == "active":
        if page.pick == v.id:
            st.caption(":material/star: The editor's pick: the default image of this title.")
        elif st.button("Make editor's pick", key=f"pick-{v.id}", icon=":material/star:", disabled=not page.can_edit):
            widgets.act(page.ws, lambda s: catalog.set_editors_pick(s, page.title_id, v.id, page.actor),
                        f"#{v.id} is now the editor's pick.")

    # Suggestions from visual features.
    if v.pending_suggestions:
        st.markdown("**Suggested from the image's features**")
        for n, sug in enumerate(v.pending_suggestions):
            row = st.container(horizontal=True, vertical_alignment="center")
            row.markdown(f"**{md(sug.tag.name)}** — {md(sug.reason)}", width="stretch")
            first = n == 0  # the keyboard decides the first suggestion; the next one moves up
            if row.button("Accept", key=f"acc-{v.id}-{sug.tag.id}", icon=":material/check:", disabled=not page.can_edit,
                          shortcut="a" if first else None):
                widgets.act(page.ws, lambda s, t=sug.tag.id: catalog.decide_suggestion(s, v.id, t, True, page.actor),
                            f"Tagged #{v.id} {md(sug.tag.name)}.", then=lambda after: remember_undo(v, after, "tags"))
            if row.button("Reject", key=f"rej-{v.id}-{sug.tag.id}", icon=":material/close:", disabled=not page.can_edit,
                          shortcut="d" if first else None):
                widgets.act(page.ws, lambda s, t=sug.tag.id: catalog.decide_suggestion(s, v.id, t, False, page.actor),
                            f"Won't suggest {sug.tag.name} for #{v.id} again.")

    rejected = [sug for sug in v.suggestions if sug.status == "rejected"]
    if rejected:
        with st.expander(f"Rejected suggestions ({len(rejected)})", key=f"x-rejected-{v.id}"):
            for sug in rejected:
                row = st.container(horizontal=True, vertical_alignment="center")
                row.markdown(f"~~{md(sug.tag.name)}~~ — {md(sug.reason)}", width="stretch")
                if row.button("Restore", key=f"reopen-{v.id}-{sug.tag.id}", icon=":material/undo:",
                              disabled=not page.can_edit):
                    widgets.act(page.ws, lambda s, t=sug.tag.id: catalog.reopen_suggestion(s, v.id, t, page.actor),
                                f"{md(sug.tag.name)} is suggested for #{v.id} again.")

    # Tags, one picker per facet.
    with st.form(f"tags-{v.id}-{v.version}"):
        st.markdown("**Tags**")
        chosen: list[int] = []
        current = {t.id for t in v.tags}
        for facet in page.facets:
            options = [t.id for t in facet.tags]
            if not options:
                continue
            chosen += st.multiselect(md(facet.name), options, default=[t for t in options if t in current],
                                     format_func=lambda i: page.tag_label[i].split(": ", 1)[1],
                                     key=f"tags-{v.id}-{v.version}-{facet.name}")
        if st.form_submit_button("Save tags", type="primary", disabled=not page.can_edit):
            widgets.act(page.ws, lambda s: catalog.set_variant_tags(s, v.id, chosen, page.actor, v.version),
                        f"Saved tags of #{v.id}.", then=lambda after: remember_undo(v, after, "tags"))

    with st.expander("Focal point and crops", key=f"x-focal-{v.id}"):
        focal_and_crops(page, v)

    with st.expander("Lineage (crop or localisation of another variant)", key=f"x-lineage-{v.id}"):
        others: list[int | None] = [None, *(o.id for o in page.variants if o.id != v.id)]
        with st.form(f"lineage-{v.id}-{v.version}"):
            parent = st.selectbox("Derived from", others,
                                  index=others.index(v.parent_id) if v.parent_id in others else 0,
                                  format_func=lambda i: "— original artwork —" if i is None else page.variant_label[i])
            kind = st.radio("It is a", LINEAGE_KINDS, horizontal=True,
                            index=LINEAGE_KINDS.index(v.lineage_kind) if v.lineage_kind else 0)
            locale = st.text_input("Locale (for a localisation)", value=v.locale or "", placeholder="fr-FR")
            if st.form_submit_button("Save lineage", disabled=not page.can_edit):
                widgets.act(page.ws, lambda s: catalog.set_lineage(s, v.id, parent, page.actor, kind, locale, v.version),
                            f"Saved lineage of #{v.id}.")

    with st.expander(f"Where and when it may be shown — {md(v.eligibility.summary())}", key=f"x-where-{v.id}"):
        with st.form(f"eligibility-{v.id}-{v.version}"):
            values = rule_inputs(f"elig-{v.id}-{v.version}", v.eligibility)
            if st.form_submit_button("Save where and when", disabled=not page.can_edit):
                widgets.act(page.ws, lambda s: set_eligibility(s, [v.id], page.actor, **values),
                            f"Saved where and when #{v.id} may be shown.")
        st.caption("A hard filter: the decision service, Preview and the Policy lab never show it outside these.")

    with st.expander("Label and file details", key=f"x-label-{v.id}"):
        with st.form(f"label-{v.id}-{v.version}"):
            label = st.text_input("Label", value=v.label, max_chars=200)
            if st.form_submit_button("Rename", disabled=not page.can_edit):
                widgets.act(page.ws, lambda s: catalog.set_variant_label(s, v.id, label, page.actor, v.version),
                            f"Renamed #{v.id}.")
        st.caption(f"SHA-256 {md(v.sha256)} · perceptual hash {md(v.phash)} · uploaded by {md(v.created_by)} "
                   f"on {v.created_at:%Y-%m-%d %H:%M}")
        if v.near_duplicate_of_id:
            st.caption(f"Near-duplicate of #{v.near_duplicate_of_id}")
        if st.toggle("Show full size (zoom and pan)", key=f"full-{v.id}"):
            if page.ws.store.exists(v.sha256, v.media_ext):
                zoomable(page.ws.store.read(v.sha256, v.media_ext), v.width, v.height,
                         f"image/{v.format.lower()}", key=f"zoom-{v.id}")
            else:
                st.image(widgets.original_path(page.ws, v), width="stretch")


def focal_and_crops(page: TitlePage, v: catalog.VariantView) -> None:
    """Where the subject is (click the picture to move it) and crops for the product's slots around it."""
    if v.origin:
        st.caption(f"From {md(v.origin)}")
    if not st.toggle("Show focal point and crops", key=f"focal-on-{v.id}"):
        return
    thumbnail = page.ws.store.thumbnail_path(v.sha256)
    if not thumbnail.is_file():
        st.caption("The image's thumbnail is missing; `artdash doctor --repair` makes it again.")
        return
    data = thumbnail.read_bytes()
    notes = v.annotations
    if notes:
        st.caption(f"{md(notes.get('face_count', 0))} face(s), {md(shot_label(notes.get('cast_shot', '?')))}; focal point from "
                   f"{md(notes.get('focal_source', '?'))}, {md(notes.get('placement', ''))}")
    fx, fy = focal_picker(f"gallery-focal-{v.id}-{v.version}", data, (v.width, v.height), v.focal_point, v.faces)
    c1, c2 = st.columns(2)
    if c1.button("Save focal point", key=f"save-focal-{v.id}", disabled=not page.can_edit):
        widgets.act(page.ws, lambda s: catalog.set_focal_point(s, v.id, fx, fy, page.actor, v.version),
                    f"Saved the focal point of #{v.id}.")
    if c2.button("Make 2:3 and 16:9 crops", key=f"crops-{v.id}", disabled=not page.can_edit,
                 help="New draft variants cut around this focal point, as crops of this one."):
        try:
            made = catalog.add_crops(page.ws.sessions, page.ws.store, v.id, page.actor, focal=(fx, fy))
        except ArtdashError as exc:
            st.error(f"No crops made — {md(exc)}")
        else:
            widgets.flash("success", f"Made {len(made)} crop(s) of #{v.id}: " + ", ".join(f"#{i}" for i in made)
                          if made else f"#{v.id} already has both shapes; no crop was needed.")
            st.rerun()
