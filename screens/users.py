"""Users: local accounts and roles (admins manage them; everyone can change their own password)."""

import pandas as pd
import streamlit as st

from artdash import export
from artdash.access import auth
from artdash.access.auth import ROLES
from artdash.errors import ArtdashError
from artdash.ui import signin, widgets
from artdash.ui.numbers import grid
from artdash.ui.text import md

ws = widgets.page("Users")
actor = widgets.actor()

ROLE_HELP = ("**viewer** reads everything · **editor** also adds titles, uploads and tags artwork, edits personas "
             "and runs simulations · **admin** also changes the taxonomy, users, imports, deletions and which "
             "policy Preview serves.")

with ws.session() as s:
    users = auth.list_users(s)
open_mode = not users and not signin.oidc_configured()
st.caption(ROLE_HELP)
if open_mode:
    st.info("No accounts yet: sign-in is off and everyone who can open ArtDash is an admin. Adding the first "
            "account — an admin — turns sign-in on for every page; you are then signed in as that admin.",
            icon=":material/lock_open:")
else:
    widgets.role_note("admin", "managing users")
can_admin = widgets.may("admin")


def change(what: str, apply) -> None:
    """Run one account change; say what happened or why not (nothing is saved on a refusal)."""
    try:
        with ws.transaction() as s:
            apply(s)
    except ArtdashError as exc:
        st.error(f"Not saved — {md(exc)}")
    else:
        widgets.flash("success", what)
        st.rerun()


if users:
    table = pd.DataFrame([{
        "name": u.name, "role": u.role, "signs in with": "password" if u.has_password else "single sign-on",
        "created": u.created_at, "failed sign-ins": u.failed_sign_ins,
        "locked until": u.locked_until.strftime("%Y-%m-%d %H:%M:%S") if u.locked_until else "",
    } for u in users])
    grid(table, hide_index=True, width="stretch")
    st.download_button("Download CSV", export.csv_bytes(table), "users.csv", "text/csv")

left, right = st.columns(2)
with left, st.form("add_user", clear_on_submit=True):
    st.markdown("**Add a user**")
    name = st.text_input("User name", help="2–120 letters, digits or . _ @ + - ; with single sign-on, their e-mail.")
    role = st.selectbox("Role", ROLES, index=ROLES.index("admin") if open_mode else 0)
    password = st.text_input("Password", type="password",
                             help=f"At least {auth.MIN_PASSWORD} characters. Leave empty for a single-sign-on "
                                  "identity (its role only).")
    again = st.text_input("Password again", type="password")
    if st.form_submit_button("Add user", type="primary", icon=":material/person_add:", disabled=not can_admin):
        if password != again:
            st.error("Not saved — the two passwords differ; type the same password twice.")
        elif not password and not signin.oidc_configured():
            st.error("Not saved — a local account needs a password (single sign-on is not configured).")
        else:
            try:
                with ws.transaction() as s:
                    added = auth.add_user(s, name, role, actor, password or None)
            except ArtdashError as exc:
                st.error(f"Not saved — {md(exc)}")
            else:
                message = f"Added {added.name} ({added.role})."
                if open_mode:  # the first account: sign-in is on from the next run, as this admin
                    signin.signed_in_as(ws, added.name, added.role)
                    message += f" Sign-in is now on; you are signed in as {added.name}."
                widgets.flash("success", message)
                st.rerun()

names = [u.name for u in users]
with right:
    if names:
        with st.form("set_role"):
            st.markdown("**Change a role**")
            who = st.selectbox("User", names, key="role_user")
            new_role = st.selectbox("New role", ROLES, key="role_new")
            if st.form_submit_button("Change role", disabled=not can_admin):
                change(f"{who} is now {'an' if new_role[0] in 'aeiou' else 'a'} {new_role}.",
                       lambda s: auth.set_role(s, who, new_role, actor))
        with st.form("remove_user"):
            st.markdown("**Remove a user**")
            who_goes = st.selectbox("User", names, key="remove_user_name")
            sure = st.checkbox("Yes, remove this account (their past changes stay in the audit trail)")
            if st.form_submit_button("Remove user", icon=":material/person_remove:", disabled=not can_admin):
                if not sure:
                    st.warning("Tick the box to confirm.")
                else:
                    change(f"Removed {who_goes}.", lambda s: auth.remove_user(s, who_goes, actor))

if names:
    own = actor in names
    with st.form("password", clear_on_submit=True):
        st.markdown("**Set a password**" + ("" if can_admin else " (your own)"))
        whose = st.selectbox("User", names if can_admin else [actor] if own else [], key="password_user",
                             index=names.index(actor) if can_admin and own else 0)
        first = st.text_input("New password", type="password", help=f"At least {auth.MIN_PASSWORD} characters. "
                              "Setting a password also lifts a sign-in lock.")
        second = st.text_input("New password again", type="password")
        if st.form_submit_button("Set password", disabled=not (can_admin or own)):
            if first != second:
                st.error("Not saved — the two passwords differ; type the same password twice.")
            else:
                change(f"Set a new password for {whose}.", lambda s: auth.set_password(s, whose, first, actor))
