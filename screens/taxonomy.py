"""Taxonomy: the one tag vocabulary shared by titles, artwork and member tastes."""

import pandas as pd
import plotly.express as px
import streamlit as st

from artdash import export
from artdash.catalog import taxonomy
from artdash.ui import charts, widgets
from artdash.ui.numbers import grid
from artdash.ui.text import md

ws = widgets.page("Taxonomy", "Titles, artwork variants and member tastes all speak this vocabulary. Names are "
                  "compared ignoring case and spacing, so 'Dark' and ' dark ' are the same tag.",
                  needs="admin", doing="changing the taxonomy")
actor = widgets.actor()
can_admin = widgets.may("admin")

with ws.session() as s:
    facets = taxonomy.list_facets(s)

facet_names = [f.name for f in facets]
facet_name = st.segmented_control("Facet", facet_names, format_func=md, default=facet_names[0] if facet_names else None,
                                  key="facet_choice") or (facet_names[0] if facet_names else None)
if facet_name is None:
    st.info("There are no facets yet. Add one below.")
    facet = None
else:
    facet = next(f for f in facets if f.name == facet_name)
    if facet.description:
        st.caption(md(facet.description))

if facet is not None:
    left, right = st.columns([3, 2], gap="large")
    with left:
        if facet.tags:
            frame = pd.DataFrame([{"tag": t.name, "titles": t.n_titles, "variants": t.n_variants} for t in facet.tags])
            grid(frame, hide_index=True, width="stretch")
            used = frame[(frame.titles + frame.variants) > 0]
            if not used.empty:
                chart = px.bar(used.assign(total=used.titles + used.variants).sort_values("total"), x=["titles", "variants"], y="tag", orientation="h",
                               barmode="group", labels={"value": "uses", "variable": ""},
                               title=f"How often each {facet.name} tag is used",
                               height=max(260, 26 * len(used) + 120))
                st.plotly_chart(charts.plain(chart), width="stretch")
            st.download_button("Download CSV", export.csv_bytes(frame), f"taxonomy-{facet.name}.csv",
                               "text/csv")
        else:
            st.info(f"{md(facet.name)} has no tags yet; add the first one on the right.")

    with right:
        tag_by_id = {t.id: t for t in facet.tags}
        with st.form(f"add-tag-{facet.name}", clear_on_submit=True):
            st.markdown(f"**Add a tag to {md(facet.name)}**")
            new_name = st.text_input("Name", key=f"new-tag-{facet.name}", max_chars=80)
            if st.form_submit_button("Add tag", type="primary", disabled=not can_admin):
                widgets.act(ws, lambda s: taxonomy.add_tag(s, facet.name, new_name, actor),
                            lambda t: f"Added {t.label}.")
        if tag_by_id:
            with st.form(f"rename-tag-{facet.name}"):
                st.markdown("**Rename a tag**")
                tag_id = st.selectbox("Tag", list(tag_by_id), format_func=lambda i: tag_by_id[i].name)
                renamed = st.text_input("New name", max_chars=80)
                if st.form_submit_button("Rename", disabled=not can_admin):
                    widgets.act(ws, lambda s: taxonomy.rename_tag(s, tag_id, renamed, actor,
                                                                   tag_by_id[tag_id].version),
                                lambda t: f"Renamed to {t.label}.")
        if len(tag_by_id) >= 2:
            with st.form(f"merge-tags-{facet.name}"):
                st.markdown("**Merge two tags** — every title and image tagged with the first gets the second; "
                            "the first disappears.")
                ids = list(tag_by_id)
                source = st.selectbox("Merge", ids, format_func=lambda i: f"{tag_by_id[i].name} "
                                      f"({tag_by_id[i].n_titles} titles, {tag_by_id[i].n_variants} variants)")
                target = st.selectbox("into", ids, index=1, format_func=lambda i: tag_by_id[i].name)
                if st.form_submit_button("Merge", disabled=not can_admin):
                    widgets.act(ws, lambda s: taxonomy.merge_tags(s, source, target, actor),
                                lambda t: f"Merged {md(tag_by_id[source].name)} into {md(t.name)}.")

with st.expander("Add a facet"):
    with st.form("add-facet", clear_on_submit=True):
        name = st.text_input("Facet name", max_chars=40)
        description = st.text_input("What it describes")
        if st.form_submit_button("Add facet", disabled=not can_admin):
            widgets.act(ws, lambda s: taxonomy.add_facet(s, name, description, actor),
                        lambda f: f"Added the facet {f.name}.")
