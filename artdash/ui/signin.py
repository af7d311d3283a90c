"""Who is using ArtDash in this browser: the sign-in form (local accounts) or the OIDC
provider's sign-in, a "stay signed in" cookie, and the role read afresh on every run."""

from __future__ import annotations

from urllib.parse import urlparse

import streamlit as st

from artdash.errors import ArtdashError
from artdash.ui import state
from artdash.ui.flash import flash, show_flash
from artdash.ui.text import md
from artdash.workspace import Workspace


def oidc_configured() -> bool:
    """Whether sign-in goes through an OpenID Connect provider (Streamlit's auth settings)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def require_user(ws: Workspace) -> tuple[str, str]:
    """Who is acting in this run, as (name, role). With no accounts and no OIDC provider
    configured, the local admin; otherwise the signed-in user — or a sign-in form, and the
    page stops here. Called by app.py before every page."""
    from artdash.access import auth

    who: tuple[str, str] | None
    if oidc_configured():
        if not st.user.is_logged_in:
            st.title("ArtDash")
            st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
            st.stop()
        email = str(st.user.get("email") or st.user.get("name") or "")
        with ws.session() as s:
            who = (email, auth.oidc_role(s, email))
    else:
        with ws.session() as s:  # one session per run for both questions
            accounts = auth.accounts_enabled(s)
            who = _current(s, st.session_state.get(state.SIGNED_IN)) if accounts else (ws.settings.user, "admin")
        if accounts:
            if who is None and not st.session_state.get(state.SIGNED_OUT):
                who = _from_cookie(ws)
            if who is None:
                _remember_deep_link()
                _sign_in_form(ws)
                st.stop()
            _store_pending_cookie(ws)
    assert who is not None  # signed in, or the page stopped above
    st.session_state[state.ACTOR] = who
    return who


def _current(session, who: tuple[str, str] | None) -> tuple[str, str] | None:
    """The signed-in account as it is now: an admin may have changed its role (the page
    follows at once) or removed it (signed out, with the reason)."""
    from artdash.access import auth

    if who is None:
        return None
    role = auth.current_role(session, who[0])
    if role is None:
        st.session_state.pop(state.SIGNED_IN, None)
        flash("warning", f"The account {md(who[0])} no longer exists: sign in with another one.")
        return None
    if role != who[1]:
        who = (who[0], role)
        st.session_state[state.SIGNED_IN] = who
    return who


SESSION_COOKIE = "artdash_session"


def _from_cookie(ws: Workspace) -> tuple[str, str] | None:
    """Sign in from this browser's "stay signed in" cookie, if it holds a valid token."""
    from artdash.access import auth

    try:
        token = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # no browser behind this run (tests, bare mode)
        return None
    if not token:
        return None
    with ws.session() as s:
        user = auth.verify_token(s, token, ws.settings.signing_key())
    if user is None:
        return None
    st.session_state[state.SIGNED_IN] = (user.name, user.role)
    return user.name, user.role


def _cookie_script(value: str, max_age: int) -> None:
    """Set (or, with max_age 0, clear) the sign-in cookie in the browser. The value is a
    token of base64url and hex characters only."""
    secure = "; Secure" if str(getattr(st.context, "url", "") or "").startswith("https:") else ""
    st.html(f"<script>document.cookie = '{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; "
            f"SameSite=Strict{secure}';</script>", unsafe_allow_javascript=True, width=1)


def signed_in_as(ws: Workspace, name: str, role: str) -> None:
    """Sign this browser session in as a local account (after its password was checked); the
    next run also stores a "stay signed in" cookie in the browser."""
    from artdash.access import auth

    st.session_state[state.SIGNED_IN] = (name, role)
    st.session_state.pop(state.SIGNED_OUT, None)
    with ws.session() as s:
        st.session_state[state.PENDING_COOKIE] = auth.issue_token(s, name, ws.settings.signing_key(),
                                                                  ws.settings.session_hours)


def _store_pending_cookie(ws: Workspace) -> None:
    """Keep the browser's "stay signed in" cookie set: on every run while this session is
    signed in with a fresh token (a script sent once can be lost when a rerun replaces the
    page before the browser ran it: the sign-in would then not survive a reload)."""
    token = st.session_state.get(state.PENDING_COOKIE)
    if token:
        _cookie_script(token, int(ws.settings.session_hours * 3600))


def sign_out(ws: Workspace) -> None:
    """Sign out here and in every other browser of the account (its cookies become void),
    then show the sign-in form."""
    from artdash.access import auth

    signed_in = st.session_state.pop(state.SIGNED_IN, None)
    st.session_state.pop(state.PENDING_COOKIE, None)
    if signed_in:
        with ws.session() as s:
            auth.sign_out(s, signed_in[0])
    st.session_state[state.SIGNED_OUT] = True
    if oidc_configured():
        st.logout()
    st.rerun()


def _sign_in_form(ws: Workspace) -> None:
    from artdash.access import auth

    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Sign in to ArtDash")
        show_flash()
        if st.session_state.get(state.SIGNED_OUT):
            _cookie_script("", 0)  # signed out here: this browser forgets the sign-in
        with st.form("sign_in"):
            name = st.text_input("User name")
            password = st.text_input("Password", type="password")
            if st.form_submit_button("Sign in", type="primary", icon=":material/login:"):
                try:
                    with ws.session() as s:
                        user = auth.sign_in(s, name, password)
                except ArtdashError as exc:
                    st.error(f"Not signed in — {md(exc)}")
                else:
                    signed_in_as(ws, user.name, user.role)
                    st.rerun()
        st.caption("No account? An admin adds one on the **Users** page (or `artdash user add NAME`).")


def _remember_deep_link() -> None:
    """The page and the query the address bar asked for before the sign-in form took its
    place (``/results?title=2&method=bayesian``: both are given back after sign-in)."""

    if state.DEEP_LINK not in st.session_state:
        path = urlparse(st.context.url or "").path.strip("/")
        query = {k: st.query_params.get_all(k) for k in st.query_params}
        st.session_state[state.DEEP_LINK] = (path.rsplit("/", 1)[-1] if path else "", query)


def take_deep_link() -> tuple[str, dict[str, list[str]]]:
    """The page ('' if none) and query asked for before signing in, once: app.py goes there
    after sign-in, with the query as it was."""
    found = st.session_state.pop(state.DEEP_LINK, None)
    if not found:
        return "", {}
    path, query = found
    return str(path or ""), dict(query or {})

