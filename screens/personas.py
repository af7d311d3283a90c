"""Personas: the member profiles Preview asks the policy about."""

import pandas as pd
import streamlit as st

from artdash.catalog import DEVICES, history, personas
from artdash.catalog.taxonomy import list_tags
from artdash.errors import ArtdashError
from artdash.ui import charts, widgets
from artdash.ui.affinity_editor import affinity_sliders
from artdash.ui.numbers import grid
from artdash.ui.text import md

ws = widgets.page("Personas", "Each persona is a set of tastes over the tag taxonomy — how much they like (up to "
                  "+1) or avoid (down to −1) each genre, theme, tone and kind of image — plus a country and a device.",
                  needs="editor", doing="creating, editing and importing personas")
actor = widgets.actor()
can_edit = widgets.may("editor")

with ws.session() as s:
    people = personas.list_personas(s)
    tags = [t for t in list_tags(s) if t.facet != "cast"]

with st.expander("New persona", icon=":material/person_add:", expanded=not people):
    with st.form("new_persona", clear_on_submit=True):
        c1, c2, c3 = st.columns([3, 1, 1])
        name = c1.text_input("Name *", max_chars=120, placeholder="e.g. Late-night thriller watcher")
        country = c2.text_input("Country", max_chars=2, placeholder="FR")
        device = c3.selectbox("Device", DEVICES)
        description = st.text_input("Description")
        if st.form_submit_button("Create persona", type="primary", disabled=not can_edit):
            widgets.act(ws, lambda s: personas.create_persona(s, name=name, description=description, country=country,
                                                              device=device, actor=actor),
                        lambda p: f"Created {md(p.name)}. Set their tastes below.",
                        then=lambda p: st.session_state.update(persona_choice=p.id))  # open the new one

with st.expander("Import real members' viewing history", icon=":material/upload_file:"):
    st.markdown("A CSV or Parquet file with columns **member_id**, **title** (catalog id or exact name), "
                "**watched_at** (date or timestamp, UTC if no zone) and **minutes**. Each member becomes a "
                "persona whose tastes come from the tags of what they watched, weighted by minutes and "
                "recency (a view 90 days older counts half). A file with any bad row imports nothing.")
    with st.form("history_import", clear_on_submit=True):
        upload = st.file_uploader("Viewing history", type=["csv", "parquet"])
        if st.form_submit_button("Import", disabled=not can_edit):
            if upload is None:
                st.warning("Choose a file first.")
            else:
                try:
                    with ws.transaction() as s:
                        report = history.import_history(s, upload.getvalue(), upload.name, actor)
                except ArtdashError as exc:
                    widgets.refusal(exc)
                else:
                    widgets.flash("success", f"Imported {report.n_new_views} new views for {report.n_members} "
                                             f"member(s) ({report.n_new_members} new).")
                    st.rerun()

if not people:
    st.info("No personas yet. Create one above, or run `artdash demo` to load the eight shipped archetypes.")
    st.stop()

by_id = {p.id: p for p in people}
chosen = st.selectbox("Persona", list(by_id), format_func=lambda i: f"{by_id[i].name} ({by_id[i].kind})",
                      key="persona_choice")
persona = by_id[chosen]
weights = persona.weight_by_tag_id()

left, right = st.columns([3, 2], gap="large")
with right:
    st.markdown(f"**{md(persona.name)}** · {md(persona.country) or 'any country'} · {md(persona.device)}")
    if persona.description:
        st.caption(md(persona.description))
    profile = pd.DataFrame([{"tag": f"{t.facet}: {t.name}", "facet": t.facet, "affinity": w}
                            for t, w in persona.affinities])
    if persona.kind == "member":
        with ws.session() as s:
            watched = history.last_watched(s, persona.id)
        st.markdown("**Last watched**")
        grid(pd.DataFrame([{"title": v.title_name, "watched": v.watched_at.strftime("%Y-%m-%d %H:%M"),
                                    "minutes": v.minutes} for v in watched]), hide_index=True, width="stretch")
        st.caption("Tastes are derived from this history; editing them here lasts until the next import.")
    if profile.empty:
        st.warning("This persona has no tastes yet: Preview will show them the non-personalised choice. "
                   "Set some affinities on the left.")
    else:
        st.plotly_chart(charts.taste_profile(profile), width="stretch")

with left:
    needle = st.text_input("Find a tag", key=f"affinity-search-{persona.id}", placeholder="e.g. funny, tone, space",
                           help="Shows the sliders of matching tags only; the others keep their values.")
    with st.form(f"persona-{persona.id}-{persona.version}"):
        new_name = st.text_input("Name *", value=persona.name, max_chars=120)
        c2, c3 = st.columns(2)   # beside the name they were cut at 1024 px ("Countr y")
        new_country = c2.text_input("Country", value=persona.country, max_chars=2)
        new_device = c3.selectbox("Device", DEVICES, index=DEVICES.index(persona.device))
        new_description = st.text_input("Description", value=persona.description)
        st.markdown("**Affinities** — from −1 (avoids) to +1 (loves); 0 means indifferent.")
        new_weights = affinity_sliders(f"affinity-{persona.id}-{persona.version}", tags, weights, needle)
        if st.form_submit_button("Save persona", type="primary", disabled=not can_edit):
            try:
                with ws.transaction() as s:
                    personas.update_persona(s, persona.id, actor=actor, expected_version=persona.version,
                                            name=new_name, description=new_description, country=new_country,
                                            device=new_device, affinities=new_weights)
            except ArtdashError as exc:
                st.error(f"Not saved — {md(exc)}")
            else:
                widgets.flash("success", f"Saved {md(new_name)}.")
                st.rerun()
