"""ArtDash: the router. Screens live in screens/ — not pages/, which Streamlit would also serve
by itself, around this router (no page config, no sign-in) — and the domain in artdash/."""

import streamlit as st

from artdash.ui import failsafe, resources, signin

st.set_page_config(page_title="ArtDash", page_icon="🎨", layout="wide")
failsafe.guarded(lambda: signin.require_user(resources.workspace()))  # the sign-in form, when accounts exist

pages_by_section = {
    "Catalog": [
        st.Page("screens/catalog.py", title="Catalog", icon=":material/grid_view:", default=True),
        st.Page("screens/title.py", title="Title & artwork", icon=":material/photo_library:"),
        st.Page("screens/taxonomy.py", title="Taxonomy", icon=":material/sell:"),
    ],
    "Marketing": [
        st.Page("screens/results.py", title="Results", icon=":material/monitoring:"),
    ],
    "Personalization": [
        st.Page("screens/preview.py", title="Preview", icon=":material/preview:"),
        st.Page("screens/personas.py", title="Personas", icon=":material/group:"),
        st.Page("screens/lab.py", title="Policy lab", icon=":material/science:"),
    ],
    "Admin": [
        st.Page("screens/users.py", title="Users", icon=":material/manage_accounts:"),
        st.Page("screens/api_keys.py", title="API keys", icon=":material/key:"),
        st.Page("screens/audit.py", title="Audit trail", icon=":material/history:"),
    ],
}
pages = st.navigation(pages_by_section)
# A visitor who followed a link to a page and had to sign in first lands on that page.
asked_for, asked_query = signin.take_deep_link()
if asked_for and asked_for != pages.url_path:
    for page in (p for section in pages_by_section.values() for p in section):
        if page.url_path == asked_for:
            st.switch_page(page, query_params=asked_query)
elif asked_query and asked_query != {k: st.query_params.get_all(k) for k in st.query_params}:
    st.query_params.from_dict(asked_query)      # the same page: its title, tab, method … as linked
failsafe.guarded(pages.run)
