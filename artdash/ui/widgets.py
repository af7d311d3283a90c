"""Widgets shared by the pages."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from artdash.catalog import VariantView
from artdash.catalog.taxonomy import TagView
from artdash.errors import ArtdashError, ConflictError, RowsRefused
from artdash.ui import state
from artdash.ui.flash import flash, show_flash
from artdash.ui.signin import oidc_configured, sign_out
from artdash.ui.text import md
from artdash.workspace import Workspace

__all__ = ["act", "actor", "flash", "image_file", "may", "original_path", "page", "role", "role_note", "show_flash",
           "sidebar", "swatches", "tag_chips", "tag_options", "thumbnail_path"]

STATUS_BADGES = {"draft": ":gray-badge[draft]", "active": ":green-badge[active]", "retired": ":orange-badge[retired]"}


def actor() -> str:
    """The name changes are made and recorded under in this run."""
    who = st.session_state.get(state.ACTOR)
    return who[0] if who else "local-admin"


def role() -> str:
    """The role of whoever is acting in this run."""
    who = st.session_state.get(state.ACTOR)
    return who[1] if who else "admin"


def may(needs: str) -> bool:
    """Whether the person in this run holds at least the role ``needs`` (to hide or disable
    controls they cannot use; the data layer enforces it either way)."""
    from artdash.access.auth import RANK

    return RANK.get(role(), -1) >= RANK[needs]


def role_note(needs: str, what: str) -> None:
    """Say, once at the top of a page, why its controls are greyed out for this person."""
    if not may(needs):
        article = "an" if role()[0] in "aeiou" else "a"
        st.info(f"You are signed in as {md(article)} **{md(role())}**: you can look at everything here; {md(what)} needs "
                f"{'an' if needs[0] in 'aeiou' else 'a'} {md(needs)}. An admin can change your role.",
                icon=":material/lock:")


def page(title: str, caption: str | None = None, needs: str | None = None, doing: str = "") -> Workspace:
    """The start of a screen: the sidebar, the title (and caption), the message the last run
    left, and — when the person's role falls short of ``needs`` — why the controls are grey.
    Returns the workspace."""
    from artdash.ui import resources

    ws = resources.workspace()
    sidebar(ws)
    st.title(title)
    if caption:
        st.caption(caption)
    show_flash()
    if needs:
        role_note(needs, doing)
    return ws


def sidebar(ws: Workspace) -> None:
    """Who is signed in (with Sign out) and which database this is, in the sidebar."""
    with st.sidebar:
        who = st.session_state.get(state.ACTOR) or (ws.settings.user, "admin")
        if st.session_state.get(state.SIGNED_IN) or oidc_configured():
            st.caption(f"Signed in as **{md(who[0])}** ({md(who[1])}).")
            if st.button("Sign out", icon=":material/logout:", key="sign_out",
                         help="Ends this account's sign-in in every browser."):
                sign_out(ws)
        else:
            st.caption(f"Signed in as **{md(who[0])}** — no sign-in is configured, so everyone here is an admin.")
        st.caption(f"Database: {md(ws.engine.url.render_as_string(hide_password=True))}")


def act(ws: Workspace, change: Callable[..., Any], success: str | Callable[[Any], str],
        then: Callable[[Any], None] | None = None) -> bool:
    """Run ``change(session)`` in one transaction; on success flash a message, call ``then``
    with the result (e.g. to open what was just made) and rerun; on a person's mistake show why
    (nothing is saved)."""
    try:
        with ws.transaction() as session:
            result = change(session)
    except ConflictError as exc:
        st.error(f"Not saved — {md(exc)}")
        return False
    except ArtdashError as exc:
        st.error(f"Not saved — {md(exc)}")
        return False
    flash("success", success(result) if callable(success) else success)
    if then is not None:
        then(result)
    st.rerun()
    return True


@st.cache_resource
def _missing_image() -> bytes:
    """A grey card shown where an image file is missing (``artdash doctor`` says which and
    rebuilds thumbnails) — a page never fails over one lost file."""

    from PIL import Image, ImageDraw

    card = Image.new("RGB", (200, 300), (70, 70, 70))
    ImageDraw.Draw(card).text((40, 140), "image missing", fill=(220, 220, 220))
    buffer = io.BytesIO()
    card.save(buffer, "PNG")
    return buffer.getvalue()


def image_file(path) -> str | bytes:
    """An image file for st.image, or a placeholder when the file is missing."""
    return str(path) if path.is_file() else _missing_image()


@st.cache_data(max_entries=4096, show_spinner=False)
def _tile(path: str, stamp: float) -> bytes:
    from artdash.media.images.encode import letterboxed

    with open(path, "rb") as f:
        return letterboxed(f.read())


def tile_image(path) -> str | bytes:
    """A thumbnail letterboxed into a 2:3 tile (transparent bands), so a row of tiles lines up
    whatever each upload's shape; a placeholder when the file is missing."""
    if not path.is_file():
        return _missing_image()
    return _tile(str(path), path.stat().st_mtime)


_NOTHING_IMPORTED = re.compile(r"^nothing imported\s*[:—–-]?\s*|,\s*nothing imported(?=\s*[—–:-])", re.I)


def refusal(exc: ArtdashError, limit: int = 200) -> None:
    """A refused file, the one way every import shows it: "Nothing imported — what was wrong"
    (said once, whatever the message's own wording), then its bad rows as a table (line,
    column, problem) when it has them."""
    text = _NOTHING_IMPORTED.sub("", str(exc), count=1).strip()
    issues = exc.issues if isinstance(exc, RowsRefused) else ()
    more = " Each is listed below." if issues else ""
    stop = "" if text.endswith(".") else "."
    st.error(f"Nothing imported — {md(text + stop + more)}")
    if issues:
        import pandas as pd

        from artdash.ui.numbers import grid

        grid(pd.DataFrame([{"line": i.line, "column": i.column, "problem": i.problem} for i in issues[:limit]]),
             hide_index=True, width="stretch")


def thumbnail_path(ws: Workspace, variant: VariantView) -> str | bytes:
    """The thumbnail's file, or a placeholder when it is missing."""
    return image_file(ws.store.thumbnail_path(variant.sha256))


def original_path(ws: Workspace, variant: VariantView) -> str | bytes:
    """The stored image to show full size (a placeholder when it is missing)."""
    return image_file(ws.store.original_path(variant.sha256, variant.media_ext))


def swatches(colours) -> None:
    """The dominant colours of an image as small squares."""
    spans = "".join(
        f'<span title="{html.escape(c)} · {share:.0%}" style="display:inline-block;width:{max(8, int(share * 90))}px;'
        f'height:14px;background:{html.escape(c)};border:1px solid #444"></span>'
        for c, share in colours
    )
    st.markdown(f'<div style="line-height:0">{spans}</div>', unsafe_allow_html=True)


CHIP_STYLE = ("display:inline-block;max-width:100%;margin:0 4px 4px 0;padding:1px 8px;border-radius:10px;"
              "background:rgba(128,128,128,0.18);font-size:0.85em;overflow-wrap:anywhere")


def tag_chips(tags: tuple[TagView, ...]) -> None:
    """Tags as chips: HTML-escaped text in styled spans (never Markdown, so a tag name is
    shown exactly as typed — a backtick or a bracket in it cannot break out)."""
    if not tags:
        st.caption("untagged")
        return
    chips = "".join(f'<span style="{CHIP_STYLE}">{html.escape(f"{t.facet}: {t.name}")}</span>' for t in tags)
    st.html(f"<div>{chips}</div>")


def tag_options(tags: list[TagView]) -> dict[int, str]:
    """Tag id → ``facet: name`` for pickers."""
    return {t.id: t.label for t in tags}


def labelled_key(base: str, labels: Mapping[Any, str]) -> str:
    """The key for a select widget whose option labels can change (a variant's status in its label):
    a new key when they do — the browser keeps showing the old labels of a widget it already has —
    with the selection kept under ``base``, the state callbacks (Edit, presets) write to. Pass
    ``on_change=keep_selection, args=(base, key)`` to the widget."""
    key = f"{base}-{abs(hash(tuple(labels.items()))):x}"
    if base in st.session_state:
        st.session_state[key] = st.session_state[base]
    return key


def keep_selection(base: str, key: str) -> None:
    """The widget's new value, kept under ``base`` (see :func:`labelled_key`)."""
    st.session_state[base] = st.session_state[key]
