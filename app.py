"""ArtDash: the router. Pages live in pages/; the domain in artdash/."""

import streamlit as st

from artdash.ui import resources, widgets

st.set_page_config(page_title="ArtDash", page_icon="🎨", layout="wide")
widgets.require_user(resources.workspace())  # the sign-in form, when accounts exist

st.navigation(
    {
        "Catalog": [
            st.Page("pages/catalog.py", title="Catalog", icon=":material/grid_view:", default=True),
            st.Page("pages/title.py", title="Title & artwork", icon=":material/photo_library:"),
            st.Page("pages/taxonomy.py", title="Taxonomy", icon=":material/sell:"),
        ],
        "Marketing": [
            st.Page("pages/results.py", title="Results", icon=":material/monitoring:"),
        ],
        "Personalization": [
            st.Page("pages/preview.py", title="Preview", icon=":material/preview:"),
            st.Page("pages/personas.py", title="Personas", icon=":material/group:"),
            st.Page("pages/lab.py", title="Policy lab", icon=":material/science:"),
        ],
        "Admin": [
            st.Page("pages/audit.py", title="Audit trail", icon=":material/history:"),
        ],
    }
).run()
