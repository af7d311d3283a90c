"""What a visitor sees when the database cannot be read: one plain page, no traceback, no SQL,
no file paths (those go to the server's log for whoever runs it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from sqlalchemy.exc import DatabaseError

from artdash.db.health import unreadable
from artdash.ui.text import md

T = TypeVar("T")
log = logging.getLogger("artdash")


def guarded(run: Callable[[], T]) -> T:
    """``run()``, or — if the database cannot be read — a plain error page, and the page stops."""
    try:
        return run()
    except DatabaseError as exc:
        log.error("database error on a page: %s", exc, exc_info=exc)
        st.error(f"ArtDash cannot read its database right now: {md(unreadable(exc))}. Nothing was changed. "
                 "If this persists, the person who runs ArtDash can check it with `artdash doctor`.")
        st.stop()
        raise  # not reached: st.stop() ends the run
