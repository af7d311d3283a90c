"""Title & artwork: one title's gallery, uploads with a per-file report, candidate stills from
video (Discover), tagging, status, lineage, and the title's own details."""

import math

import pandas as pd
import streamlit as st

from artdash import catalog
from artdash.catalog import VARIANT_STATUSES
from artdash.catalog.eligibility import Eligibility, set_eligibility
from artdash.catalog.taxonomy import list_facets, list_tags
from artdash.errors import ArtdashError, ConflictError
from artdash.ui import (
    compare_view,
    discover_view,
    gallery,
    resources,
    results_data,
    state,
    upload_report,
    widgets,
)
from artdash.ui import eligibility as eligibility_ui
from artdash.ui.numbers import grid
from artdash.ui.text import md, md_list

ws = resources.workspace()
widgets.sidebar(ws)
actor = widgets.actor()

with ws.session() as s:
    choices = dict(catalog.title_choices(s))

if not choices:
    st.title("Title & artwork")
    st.info("There are no titles yet. Create one on the Catalog page first.")
    st.page_link("screens/catalog.py", label="Go to the catalog", icon=":material/grid_view:")
    st.stop()

ids = list(choices)
requested = st.query_params.get("title")
try:
    current_id = int(requested) if requested is not None else ids[0]
except ValueError:
    current_id = ids[0]
if current_id not in choices:
    st.warning(f"There is no title #{md(requested)}; showing {md(choices[ids[0]])} instead.")
    current_id = ids[0]

# The URL decides which title is open (links from the catalog); the picker writes to it.
st.query_params["title"] = str(current_id)
st.session_state[state.TITLE_PICKER] = current_id


def _open_picked_title() -> None:
    st.query_params["title"] = str(st.session_state[state.TITLE_PICKER])


title_id = st.selectbox("Title", ids, format_func=choices.get, key=state.TITLE_PICKER, on_change=_open_picked_title)

with ws.session() as s:
    title = catalog.get_title(s, title_id)
    variants = catalog.list_variants(s, title_id)
    pick = catalog.editors_pick(s, title_id)
    facets = list_facets(s)
    all_tags = list_tags(s)

st.title(md(title.display_name))
st.caption(f"{md(title.kind)} · {md_list(title.genres) or 'no genre'} · cast: {md_list(title.cast) or '—'}")
if title.synopsis:
    st.markdown(md(title.synopsis))
widgets.show_flash()
can_edit = widgets.may("editor")
widgets.role_note("editor", "uploading, tagging and editing artwork")

tag_label = widgets.tag_options(all_tags)
performance = results_data.title_performance(title_id)  # {} when there is no results data
picker_key = f"{state.SELECTED_VARIANT}_{title_id}"
variant_label = {v.id: f"#{v.id} {v.label} ({v.status})" for v in variants}
page = gallery.TitlePage(ws, title_id, actor, can_edit, pick, performance, picker_key, tuple(variants),
                         tuple(facets), tag_label, title.genres)
# The open tab lives in the URL (?tab=Upload), so it survives reruns and can be linked to.
gallery_tab, compare_tab, upload_tab, discover_tab, bulk_tab, details_tab = st.tabs(
    ["Gallery", "Compare", "Upload", "Discover", "Bulk changes", "Details"], key="tab", bind="query-params")


# ------------------------------------------------------------------------------ gallery

with gallery_tab:
    if not variants:
        st.info("No artwork yet. Use the **Upload** tab to add images (JPEG, PNG or WebP).")
    else:
        shown_statuses = st.segmented_control("Show", VARIANT_STATUSES, default=list(VARIANT_STATUSES),
                                              selection_mode="multi", key="status_filter")
        shown = [v for v in variants if v.status in (shown_statuses or [])]
        ids = [v.id for v in variants]
        if st.session_state.get(picker_key) not in ids:
            st.session_state[picker_key] = ids[0]
        grid_col, editor_col = st.columns([3, 2], gap="large")
        with grid_col:
            if not shown:
                st.caption("No variant has the selected status.")
            st.html(gallery.CARD_STYLE)
            with st.container(horizontal=True, gap="xsmall"):  # cards wrap to the column's width
                for v in shown:
                    gallery.variant_card(page, v)
        with editor_col:
            editor_key = widgets.labelled_key(picker_key, variant_label)
            selected = st.selectbox("Variant to edit", ids, format_func=variant_label.get, key=editor_key,
                                    on_change=widgets.keep_selection, args=(picker_key, editor_key))
            gallery.variant_editor(page, next(v for v in variants if v.id == selected))
            gallery.edit_notice()


# ------------------------------------------------------------------------------ upload

with upload_tab:
    limits = ws.settings.limits
    st.markdown(
        f"Drop one or more images. **JPEG, PNG or WebP**, up to {limits.max_bytes / 2**20:.0f} MB and "
        f"{limits.max_pixels / 1e6:.0f} megapixels each. Every file is checked on its own: a bad one "
        "never blocks the others. New images arrive as **drafts**."
    )
    generation = st.session_state.get(state.UPLOADER_GENERATION, 0)
    with st.form(f"upload-{title_id}-{generation}", clear_on_submit=True):
        files = st.file_uploader("Artwork files", accept_multiple_files=True, key=f"uploader-{generation}",
                                 max_upload_size=max(1, math.ceil(limits.max_bytes / 2**20)),
                                 help="Box art is 2:3 (e.g. 1000×1500), billboards 16:9 (e.g. 1920×1080).")
        submitted = st.form_submit_button("Upload", type="primary", disabled=not can_edit)
    if submitted:
        if not files:
            st.warning("Choose at least one file first (drag it onto the box above).")
        else:
            bar = st.progress(0.0, text=f"Checking {len(files)} file(s)…")
            report = catalog.upload_files(
                ws.sessions, ws.store, title_id, [(f.name, f.getvalue()) for f in files], actor, limits,
                progress=lambda done, total, name: bar.progress(done / total, text=f"{done}/{total}: {name}"))
            bar.empty()
            st.session_state[state.UPLOAD_REPORT] = (title_id, report)
            st.session_state[state.UPLOADER_GENERATION] = generation + 1
            st.rerun()

    last = st.session_state.get(state.UPLOAD_REPORT)
    if last and last[0] == title_id:
        upload_report.show(ws, title_id, last[1])


with compare_tab:  # variants side by side, and how each slot crops them
    compare_view.render(page)

with discover_tab:  # candidate stills from a trailer or an episode
    discover_view.render(ws, title_id, actor, can_edit)


# ------------------------------------------------------------------------------ bulk tagging

with bulk_tab:
    if not variants:
        st.info("Upload artwork first; then tag several variants, or change their status, at once here.")
    else:
        picked_key = f"bulk-variants-{title_id}"

        def preselect(choice_key=f"bulk-pick-{title_id}"):
            choice = st.session_state.get(choice_key)
            st.session_state[picked_key] = [v.id for v in variants if choice == "all" or v.status == choice]

        st.segmented_control("Select", ["draft", "active", "retired", "all"], key=f"bulk-pick-{title_id}",
                             format_func=lambda c: "every variant" if c == "all" else f"every {md(c)} variant",
                             on_change=preselect, help="Fills the list below; add or take out variants there.")
        st.session_state.setdefault(picked_key, [])
        bulk_key = widgets.labelled_key(picked_key, variant_label)
        chosen_variants = st.multiselect("Variants", [v.id for v in variants], format_func=variant_label.get,
                                         key=bulk_key, on_change=widgets.keep_selection, args=(picked_key, bulk_key),
                                         help="The variants both forms below change.")
        with st.form(f"bulk-{title_id}"):
            st.markdown("**Tags and status**")
            add = st.multiselect("Add tags", list(tag_label), format_func=tag_label.get)
            remove = st.multiselect("Remove tags", list(tag_label), format_func=tag_label.get)
            new_status = st.selectbox("Set status", ["(keep)", "active", "retired", "draft"], key=f"bulk-status-{title_id}",
                                      help="All selected variants, or none if one cannot make the move.")
            if st.form_submit_button("Apply to selected variants", type="primary", disabled=not can_edit):
                if new_status == "(keep)":
                    widgets.act(ws, lambda s: catalog.bulk_tag(s, chosen_variants, actor, add, remove),
                                lambda n: f"Updated the tags of {n} variant(s).")
                else:
                    def tag_and_move(s):
                        if add or remove:
                            catalog.bulk_tag(s, chosen_variants, actor, add, remove)
                        return catalog.bulk_status(s, chosen_variants, new_status, actor)
                    widgets.act(ws, tag_and_move, lambda n: f"{n[0]} variant(s) now {new_status}"
                                + (f" ({n[1]} already were)." if n[1] else "."))
        with st.form(f"bulk-where-{title_id}"):
            st.markdown("**Where and when they may be shown**")
            rules = st.multiselect("Rules to change", list(eligibility_ui.RULES), format_func=eligibility_ui.RULES.get,
                                   key=f"bulk-rules-{title_id}",
                                   help="Only these are set on the variants selected above; the others stay as they are.")
            values = eligibility_ui.rule_inputs(f"bulk-elig-{title_id}", Eligibility())
            if st.form_submit_button("Set on selected variants", disabled=not can_edit):
                picked = chosen_variants
                if not rules:
                    st.warning("Choose the rules to change first (e.g. Territories).")
                else:
                    widgets.act(ws, lambda s: set_eligibility(s, picked, actor, **eligibility_ui.chosen(values, rules)),
                                lambda n: f"Set {', '.join(eligibility_ui.RULES[r].lower() for r in rules)} on "
                                          f"{len(picked)} variant(s) ({n} changed).")
        grid(pd.DataFrame([{"variant": variant_label[v.id], "tags": ", ".join(t.label for t in v.tags),
                                    "where and when": v.eligibility.summary()}
                                   for v in variants]), hide_index=True, width="stretch")


# ------------------------------------------------------------------------------ details

with details_tab:
    genre_names = [t.name for t in all_tags if t.facet == "genre"]
    other_tags = [t for t in all_tags if t.facet in ("theme", "tone")]
    # The form's fields live in session state under keys of their own, seeded from the title:
    # a stale save is refused with the newer value shown, and what the person typed stays in
    # the form to re-apply (the version they then save against is the one they have seen).
    opened_key, conflict_key = f"details_opened_{title_id}", f"details_conflict_{title_id}"
    field = {f: f"details_{f}_{title_id}" for f in ("name", "year", "kind", "synopsis", "genres", "others", "cast")}
    seeded = {field["name"]: title.name, field["year"]: str(title.year or ""), field["kind"]: title.kind,
              field["synopsis"]: title.synopsis, field["genres"]: [g for g in title.genres if g in genre_names],
              field["others"]: [t.id for t in title.tags if t.facet in ("theme", "tone")],
              field["cast"]: ", ".join(title.cast)}
    untouched = st.session_state.get(f"{opened_key}_seeded") == {k: st.session_state.get(k) for k in seeded}
    if opened_key not in st.session_state or (untouched and st.session_state[opened_key] != title.version):
        # First look, or someone saved while this form sat unchanged: show the title as it is now.
        st.session_state[opened_key] = title.version
        st.session_state[f"{opened_key}_seeded"] = seeded
        st.session_state.update(seeded)
    if conflict_key in st.session_state:
        st.warning(md(st.session_state[conflict_key]))
    with st.form(f"details-{title_id}"):
        c1, c2, c3 = st.columns([3, 1, 1])
        name = c1.text_input("Name *", max_chars=200, key=field["name"])
        year = c2.text_input("Year", key=field["year"])
        kind = c3.selectbox("Kind", ["movie", "series"], key=field["kind"])
        synopsis = st.text_area("Synopsis", max_chars=5000, key=field["synopsis"])
        genres = st.multiselect("Genres", genre_names, key=field["genres"])
        others = st.multiselect("Themes and tone", [t.id for t in other_tags], format_func=tag_label.get,
                                key=field["others"])
        cast = st.text_input("Cast (comma-separated)", key=field["cast"])
        if st.form_submit_button("Save details", type="primary", disabled=not can_edit):
            try:
                with ws.transaction() as s:
                    catalog.update_title(s, title_id, actor=actor, expected_version=st.session_state[opened_key],
                                         name=name, year=year, kind=kind, synopsis=synopsis, genres=genres,
                                         cast=[c.strip() for c in cast.split(",") if c.strip()], tag_ids=others)
            except ConflictError as exc:
                newer = exc.current
                if newer is not None:
                    st.session_state[opened_key] = newer.version  # they have now seen this version
                    st.session_state[conflict_key] = (
                        f"Not saved — {md(exc)}. The saved version now reads: **{md(newer.display_name)}** — "
                        f"{md(newer.synopsis) or 'no synopsis'} (genres: {md_list(newer.genres) or 'none'}). "
                        "Your edit is still in the form: check it against theirs and save again to apply it.")
                st.rerun()
            except ArtdashError as exc:
                st.error(f"Not saved — {md(exc)}")
            else:
                for key in (opened_key, f"{opened_key}_seeded", conflict_key, *field.values()):
                    st.session_state.pop(key, None)  # the next run shows the saved title afresh
                widgets.flash("success", "Saved the title's details.")
                st.rerun()
