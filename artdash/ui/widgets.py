"""Widgets shared by the pages."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import streamlit as st

from artdash.catalog import VariantView
from artdash.errors import ArtdashError, ConflictError
from artdash.taxonomy import TagView
from artdash.ui import state
from artdash.workspace import Workspace

STATUS_BADGES = {"draft": ":gray-badge[draft]", "active": ":green-badge[active]", "retired": ":orange-badge[retired]"}


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def require_user(ws: Workspace) -> tuple[str, str]:
    """Who is acting in this run, as (name, role). With no accounts and no OIDC provider
    configured, the local admin; otherwise the signed-in user — or a sign-in form, and the
    page stops here. Called by app.py before every page."""
    from artdash import auth

    if oidc_configured():
        if not st.user.is_logged_in:
            st.title("ArtDash")
            st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
            st.stop()
        email = str(st.user.get("email") or st.user.get("name") or "")
        with ws.session() as s:
            who = (email, auth.oidc_role(s, email))
    else:
        with ws.session() as s:
            accounts = auth.accounts_enabled(s)
        if not accounts:
            who = (ws.settings.user, "admin")
        else:
            who = _current(ws, st.session_state.get(state.SIGNED_IN))
            if who is None and not st.session_state.get(state.SIGNED_OUT):
                who = _from_cookie(ws)
            if who is None:
                _sign_in_form(ws)
                st.stop()
            _store_pending_cookie(ws)
    st.session_state[state.ACTOR] = who
    return who


def _current(ws: Workspace, who: tuple[str, str] | None) -> tuple[str, str] | None:
    """The signed-in account as it is now: an admin may have changed its role (the page
    follows at once) or removed it (signed out, with the reason)."""
    from artdash import auth

    if who is None:
        return None
    with ws.session() as s:
        role = auth.current_role(s, who[0])
    if role is None:
        st.session_state.pop(state.SIGNED_IN, None)
        flash("warning", f"The account {who[0]} no longer exists: sign in with another one.")
        return None
    if role != who[1]:
        who = (who[0], role)
        st.session_state[state.SIGNED_IN] = who
    return who


SESSION_COOKIE = "artdash_session"


def _from_cookie(ws: Workspace) -> tuple[str, str] | None:
    """Sign in from this browser's "stay signed in" cookie, if it holds a valid token."""
    from artdash import auth

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
    from artdash import auth

    st.session_state[state.SIGNED_IN] = (name, role)
    st.session_state.pop(state.SIGNED_OUT, None)
    with ws.session() as s:
        st.session_state[state.PENDING_COOKIE] = auth.issue_token(s, name, ws.settings.signing_key(),
                                                                  ws.settings.session_hours)


def _store_pending_cookie(ws: Workspace) -> None:
    token = st.session_state.pop(state.PENDING_COOKIE, None)
    if token:
        _cookie_script(token, int(ws.settings.session_hours * 3600))


def _sign_in_form(ws: Workspace) -> None:
    from artdash import auth

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
                    st.error(f"Not signed in — {exc}")
                else:
                    signed_in_as(ws, user.name, user.role)
                    st.rerun()
        st.caption("No account? An admin adds one on the **Users** page (or `artdash user add NAME`).")


def actor() -> str:
    """The name changes are made and recorded under in this run."""
    who = st.session_state.get(state.ACTOR)
    return who[0] if who else "local-admin"


def role() -> str:
    who = st.session_state.get(state.ACTOR)
    return who[1] if who else "admin"


def may(needs: str) -> bool:
    """Whether the person in this run holds at least the role ``needs`` (to hide or disable
    controls they cannot use; the data layer enforces it either way)."""
    from artdash.auth import RANK

    return RANK.get(role(), -1) >= RANK[needs]


def role_note(needs: str, what: str) -> None:
    """Say, once at the top of a page, why its controls are greyed out for this person."""
    if not may(needs):
        article = "an" if role()[0] in "aeiou" else "a"
        st.info(f"You are signed in as {article} **{role()}**: you can look at everything here; {what} needs "
                f"{'an' if needs[0] in 'aeiou' else 'a'} {needs}. An admin can change your role.",
                icon=":material/lock:")


def sidebar(ws: Workspace) -> None:
    with st.sidebar:
        who = st.session_state.get(state.ACTOR) or (ws.settings.user, "admin")
        if st.session_state.get(state.SIGNED_IN) or oidc_configured():
            st.caption(f"Signed in as **{who[0]}** ({who[1]}).")
            if st.button("Sign out", icon=":material/logout:", key="sign_out"):
                st.session_state.pop(state.SIGNED_IN, None)
                st.session_state[state.SIGNED_OUT] = True
                if oidc_configured():
                    st.logout()
                st.rerun()
        else:
            st.caption(f"Signed in as **{who[0]}** — no sign-in is configured, so everyone here is an admin.")
        st.caption(f"Database: `{ws.engine.url.render_as_string(hide_password=True)}`")


def flash(kind: str, message: str) -> None:
    """Show ``message`` at the top of the next run (after st.rerun)."""
    st.session_state[state.FLASH] = (kind, message)


def show_flash() -> None:
    kind, message = st.session_state.pop(state.FLASH, (None, None))
    if message:
        {"success": st.success, "warning": st.warning, "error": st.error}.get(kind, st.info)(message)


def act(ws: Workspace, change: Callable[[Any], Any], success: str | Callable[[Any], str]) -> bool:
    """Run ``change(session)`` in one transaction; on success flash a message and rerun,
    on a person's mistake show why (nothing is saved)."""
    try:
        with ws.transaction() as session:
            result = change(session)
    except ConflictError as exc:
        st.error(f"Not saved — {exc}")
        return False
    except ArtdashError as exc:
        st.error(f"Not saved — {exc}")
        return False
    flash("success", success(result) if callable(success) else success)
    st.rerun()
    return True


@st.cache_resource
def _missing_image() -> bytes:
    """A grey card shown where an image file is missing (``artdash doctor`` says which and
    rebuilds thumbnails) — a page never fails over one lost file."""
    import io

    from PIL import Image, ImageDraw

    card = Image.new("RGB", (200, 300), (70, 70, 70))
    ImageDraw.Draw(card).text((40, 140), "image missing", fill=(220, 220, 220))
    buffer = io.BytesIO()
    card.save(buffer, "PNG")
    return buffer.getvalue()


def image_file(path) -> str | bytes:
    """An image file for st.image, or a placeholder when the file is missing."""
    return str(path) if path.is_file() else _missing_image()


def thumbnail_path(ws: Workspace, variant: VariantView) -> str | bytes:
    """The thumbnail's file, or a placeholder when it is missing."""
    return image_file(ws.store.thumbnail_path(variant.sha256))


def original_path(ws: Workspace, variant: VariantView) -> str | bytes:
    return image_file(ws.store.original_path(variant.sha256, variant.media_ext))


def swatches(colours) -> None:
    spans = "".join(
        f'<span title="{html.escape(c)} · {share:.0%}" style="display:inline-block;width:{max(8, int(share * 90))}px;'
        f'height:14px;background:{html.escape(c)};border:1px solid #444"></span>'
        for c, share in colours
    )
    st.markdown(f'<div style="line-height:0">{spans}</div>', unsafe_allow_html=True)


def tag_chips(tags: tuple[TagView, ...]) -> str:
    if not tags:
        return "_untagged_"
    return " ".join(f"`{t.facet}: {t.name}`" for t in tags)


def tag_options(tags: list[TagView]) -> dict[int, str]:
    return {t.id: t.label for t in tags}
