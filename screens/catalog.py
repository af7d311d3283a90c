"""Catalog: every title at a glance, filters, a CSV of what is shown, a form for a new title and an import of many."""

import pandas as pd
import streamlit as st

from artdash import catalog, export
from artdash.catalog.taxonomy import list_tags
from artdash.errors import ArtdashError
from artdash.ui import manifest_import, widgets
from artdash.ui.text import md, md_list

ws = widgets.page("Catalog", needs="editor", doing="adding titles")

with ws.session() as s:
    counts = catalog.catalog_counts(s)
    genres = [t.name for t in list_tags(s, "genre")]
    theme_and_tone = list_tags(s, "theme") + list_tags(s, "tone")

cols = st.columns(5)
for col, (label, key) in zip(cols, [("Titles", "titles"), ("Variants", "variants"), ("Active", "active"),
                                    ("Drafts", "draft"), ("Retired", "retired")]):
    col.metric(md(label), counts[key])

with st.expander("New title", icon=":material/add:", expanded=counts["titles"] == 0):
    with st.form("new_title", clear_on_submit=False):
        c1, c2, c3 = st.columns([3, 1, 1])
        name = c1.text_input("Name *", placeholder="e.g. Harbour Lights", max_chars=200)
        year = c2.text_input("Year", placeholder="2017")
        kind = c3.selectbox("Kind", ["movie", "series"])
        synopsis = st.text_area("Synopsis", max_chars=5000, height=80)
        c4, c5 = st.columns(2)
        title_genres = c4.multiselect("Genres", genres)
        other = c5.multiselect("Themes and tone", [t.id for t in theme_and_tone],
                               format_func=widgets.tag_options(theme_and_tone).get)
        cast_text = st.text_input("Cast", placeholder="Names separated by commas; new names join the taxonomy")
        if st.form_submit_button("Create title", type="primary", disabled=not widgets.may("editor")):
            cast = [c.strip() for c in cast_text.split(",") if c.strip()]
            try:
                with ws.transaction() as session:
                    view = catalog.create_title(session, name=name, year=year, kind=kind, synopsis=synopsis,
                                                genres=title_genres, cast=cast, tag_ids=other,
                                                actor=widgets.actor())
            except ArtdashError as exc:
                st.error(f"Not created — {md(exc)}")
            else:
                widgets.flash("success", f"Created {md(view.display_name)}. Upload its artwork below.")
                st.switch_page("screens/title.py", query_params={"title": str(view.id), "tab": "Upload"})

with st.expander("Import many titles (a manifest and a ZIP of images)", icon=":material/upload_file:"):
    manifest_import.manifest_section(ws)

if counts["titles"] == 0:
    st.info("The catalog is empty. Create a title above, or load the demo catalog "
            "(14 titles with generated artwork).")
    if st.button("Load demo catalog", disabled=not widgets.may("editor")):
        from artdash.demo import DEMO_TITLES, load_demo

        bar = st.progress(0.0, text="Generating demo artwork…")
        load_demo(ws, progress=lambda done, total, name: bar.progress(done / total, text=f"Loaded {name}"))
        widgets.flash("success", f"Loaded {len(DEMO_TITLES)} demo titles.")
        st.rerun()
    st.stop()

f1, f2, f3 = st.columns([3, 2, 1])
search = f1.text_input("Search titles", placeholder="Name contains…")
genre = f2.selectbox("Genre", ["All genres"] + genres)
kind_filter = f3.selectbox("Kind", ["All", "movie", "series"])

with ws.session() as s:
    titles = catalog.list_titles(s, search=search, genre=None if genre == "All genres" else genre,
                                 kind=None if kind_filter == "All" else kind_filter)

if not titles:
    st.warning("No title matches these filters. Clear the search or pick another genre.")
    st.stop()

table = pd.DataFrame([
    {"id": t.id, "title": t.name, "year": t.year, "kind": t.kind, "genres": ", ".join(t.genres),
     "cast": ", ".join(t.cast), "variants": t.n_variants, "active": t.n_active, "draft": t.n_draft,
     "retired": t.n_retired}
    for t in titles
])
with st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"):
    st.caption(f"{len(titles):,} of {counts['titles']:,} titles")
    st.download_button("Download CSV", export.csv_bytes(table), "artdash-catalog.csv", "text/csv", width="content",
                       icon=":material/download:", help="The titles shown (this search and filter): name, year, "
                                                        "kind, genres, cast and their variants by status.")

PER_PAGE, CARD_WIDTH = 24, 172
n_pages = (len(titles) + PER_PAGE - 1) // PER_PAGE
page_no = 1
if n_pages > 1:
    page_no = st.segmented_control("Page", list(range(1, n_pages + 1)), default=1, key="catalog_page") or 1
shown = titles[(page_no - 1) * PER_PAGE:page_no * PER_PAGE]
# Cards of a fixed width that wrap: as many per row as the window holds (1024 to 1920 px),
# so a name never breaks mid-word in a squeezed column.
with st.container(horizontal=True, gap="small"):
    for t in shown:
        with st.container(border=True, width=CARD_WIDTH):
            if t.cover is not None:
                st.image(widgets.tile_image(ws.store.thumbnail_path(t.cover.sha256)), width="stretch")
            else:
                st.markdown(":material/hide_image: _no artwork yet_")
            st.markdown(f"**{md(t.name)}**  \n{md(t.year or '')} · {md(t.kind)}")
            st.caption(md_list(t.genres) or "no genre")
            st.caption(f"{t.n_active} active · {t.n_draft} draft · {t.n_retired} retired")
            st.page_link("screens/title.py", label="Open", icon=":material/arrow_forward:", query_params={"title": str(t.id)})
