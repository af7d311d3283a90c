"""API keys: who may call the decision service (`artdash serve`), with which scopes and how often."""

import pandas as pd
import streamlit as st

from artdash import export
from artdash.access import api_keys
from artdash.errors import ArtdashError
from artdash.ui import widgets
from artdash.ui.numbers import grid
from artdash.ui.text import md

ws = widgets.page("API keys", "A product's backend asks the decision service which image to show (POST /v1/decide) "
                  "and reports what the member did (POST /v1/outcomes), sending one of these keys as "
                  "`Authorization: Bearer <key>`. Start the service with `artdash serve`; its API is described "
                  "at /docs on the service.", needs="admin", doing="managing API keys")
actor = widgets.actor()
can_admin = widgets.may("admin")

NEW_KEY = "api_keys.new"
if NEW_KEY in st.session_state:
    name_made, secret_made = st.session_state.pop(NEW_KEY)
    st.success(f"Created **{md(name_made)}**. Copy the key now: it is shown only this once "
               "(ArtDash keeps only its hash).", icon=":material/key:")
    st.code(secret_made, language=None)

with ws.session() as s:
    keys = api_keys.list_keys(s)

if not keys:
    st.info("No API keys yet. Create one for each backend that calls the decision service, so each can be "
            "limited and revoked on its own.", icon=":material/key:")
else:
    table = pd.DataFrame([{
        "name": k.name, "prefix": k.prefix, "scopes": ", ".join(k.scopes), "requests/s": k.rate_per_second,
        "created": k.created_at, "by": k.created_by, "status": "active" if k.active else "revoked",
        "revoked": k.revoked_at or pd.NaT, "last used": k.last_used_at or pd.NaT,
    } for k in keys])
    grid(table, hide_index=True, width="stretch",
                 column_config={"requests/s": st.column_config.NumberColumn(format="localized"),
                                "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                                "revoked": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                                "last used": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
    st.download_button("Download CSV", export.csv_bytes(table), "api-keys.csv", "text/csv",
                       help="The keys' names, prefixes, scopes, limits and dates — never their secrets.")

left, right = st.columns(2)
with left, st.form("create_key", clear_on_submit=True):
    st.markdown("**Create a key**")
    name = st.text_input("Name", help="Who uses it, e.g. 'web homepage' or 'tv app (staging)'.")
    scopes = st.multiselect("Scopes", api_keys.SCOPES, default=list(api_keys.SCOPES),
                            help="decide: ask which image to show · outcomes: report what members did.")
    rate = st.number_input("Requests per second", min_value=1, max_value=api_keys.MAX_RATE,
                           value=api_keys.DEFAULT_RATE, step=100,
                           help="Above this the service answers 429 with Retry-After.")
    if st.form_submit_button("Create key", type="primary", icon=":material/key:", disabled=not can_admin):
        try:
            with ws.transaction() as s:
                new = api_keys.create_key(s, actor, name, scopes, int(rate))
        except ArtdashError as exc:
            st.error(f"Not created — {md(exc)}")
        else:   # shown once, at the top of the next run, then forgotten
            st.session_state[NEW_KEY] = (new.key.name, new.secret)
            st.rerun()

active = [k for k in keys if k.active]
with right:
    if active:
        with st.form("revoke_key"):
            st.markdown("**Revoke a key**")
            labels = {f"{k.name} ({k.prefix})": k.id for k in active}
            chosen = st.selectbox("Key", list(labels))
            sure = st.checkbox("Yes, revoke it: the service refuses it from its next refresh (seconds)")
            if st.form_submit_button("Revoke key", icon=":material/key_off:", disabled=not can_admin):
                if not sure:
                    st.warning("Tick the box to confirm.")
                else:
                    try:
                        with ws.transaction() as s:
                            gone = api_keys.revoke_key(s, actor, labels[chosen])
                    except ArtdashError as exc:
                        st.error(f"Not revoked — {md(exc)}")
                    else:
                        widgets.flash("success", f"Revoked **{md(gone.name)}**.")
                        st.rerun()
