"""Messages that survive a rerun: a page flashes one, the next run shows it at the top."""

from __future__ import annotations

import streamlit as st

from artdash.ui import state


def flash(kind: str, message: str) -> None:
    """Show ``message`` at the top of the next run (after st.rerun)."""
    st.session_state[state.FLASH] = (kind, message)


def show_flash() -> None:
    """Show (once) the message the previous run flashed, if any."""
    kind, message = st.session_state.pop(state.FLASH, (None, None))
    if message:
        {"success": st.success, "warning": st.warning, "error": st.error}.get(kind, st.info)(message)
