"""A date window chosen by preset — last 7, 30 or 90 days of the data, everything — or, only
when asked for, by a calendar range (the calendar is a heavy widget: a page that shows it on
every view makes every browser load it)."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from artdash.ui import sticky

PRESETS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Everything": None, "Custom range…": -1}


def choose_window(span: tuple[date, date], key: str, default: str = "Last 30 days") -> tuple[date, date]:
    """The (first, last) day chosen within ``span`` — the data's own first and last day, so
    "last 7 days" means the data's last week, whatever today is. The preset lives in the URL."""
    low, high = span
    names = list(PRESETS)
    sticky.restore("results_window", names, "window")
    if "results_window" not in st.session_state:
        st.session_state["results_window"] = default
    preset = st.selectbox("Dates", names, key="results_window",
                          help="Counted back from the last day with impressions in this selection.")
    sticky.keep("results_window", "window")
    days = PRESETS[preset]
    if days == -1:
        kept = st.session_state.get(f"{key}__kept")
        if key not in st.session_state and kept and all(low <= d <= high for d in kept):
            st.session_state[key] = kept
        chosen = st.date_input("From – to", value=(max(low, high - timedelta(days=29)), high), min_value=low,
                               max_value=high, key=key)
        sticky.keep(key)
        return chosen if isinstance(chosen, tuple) and len(chosen) == 2 else (low, high)
    start = low if days is None else max(low, high - timedelta(days=days - 1))
    st.caption(f"{start:%Y-%m-%d} – {high:%Y-%m-%d}")
    return start, high
