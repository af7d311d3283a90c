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


def sidebar(ws: Workspace) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{ws.settings.user}** — no sign-in is configured, so everyone here is an admin.")
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


def thumbnail_path(ws: Workspace, variant: VariantView) -> str:
    return str(ws.store.thumbnail_path(variant.sha256))


def original_path(ws: Workspace, variant: VariantView) -> str:
    return str(ws.store.original_path(variant.sha256, variant.media_ext))


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
