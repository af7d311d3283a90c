"""Choices that survive: a widget not drawn in a run (another tab was open) loses its state in
Streamlit, so a page's selection is kept beside it and in the URL, and given back when the
widget is drawn again (or when someone opens a link to the selection)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st


def _kept(key: str) -> str:
    return f"{key}__kept"


def restore(key: str, options: Sequence[Any], param: str | None = None,
            parse: Callable[[str], Any] = str) -> None:
    """Before drawing the widget ``key``: give it back the URL's value (``param``) or the value
    it had when it was last drawn, if that is still one of ``options``."""
    if key in st.session_state:
        return
    candidates = []
    if param and param in st.query_params:
        try:
            candidates.append(parse(st.query_params[param]))
        except (TypeError, ValueError):
            pass  # a hand-edited URL: ignored
    if _kept(key) in st.session_state:
        candidates.append(st.session_state[_kept(key)])
    for value in candidates:
        if value in options:
            st.session_state[key] = value
            return


def keep(key: str, param: str | None = None, show: Callable[[Any], str] = str) -> None:
    """After drawing the widget ``key``: remember its value, and put it in the URL (``param``;
    a None value takes the parameter out)."""
    value = st.session_state.get(key)
    st.session_state[_kept(key)] = value
    if param:
        if value is None:
            st.query_params.pop(param, None)
        else:
            st.query_params[param] = show(value)
