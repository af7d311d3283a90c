"""The Results page's Sources tab: logs read where they live (a table or view in another
database, aggregated there — nothing copied): list, add, refresh, remove."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from artdash.errors import ArtdashError
from artdash.numbers import counted
from artdash.results import sources
from artdash.results.read import parse_column_mapping
from artdash.ui import widgets
from artdash.ui.numbers import count_column, grid
from artdash.ui.text import md
from artdash.workspace import Workspace

URL_HELP = ("An SQLAlchemy URL without a password, e.g. `postgresql+psycopg://analyst@warehouse:5432/events`; "
            "for a database that needs one, `env:VARIABLE`: the server reads the URL (with its password) from that "
            "environment variable at each refresh, and the password is never stored.")
MAPPING_HELP = ("Which of the source's columns is which, as `source_column=column`, separated by commas: e.g. "
                "`shown_at=timestamp, viewer=member_id, image=variant_id`. Needed: "
                f"{', '.join(sources.REQUIRED)}; optional: {', '.join(sources.OPTIONAL)}. A column that already "
                "has its ArtDash name needs no pair.")


def sources_section(ws: Workspace) -> None:
    """The registered sources with Refresh and Remove (admins), and the form that adds one."""
    st.markdown("A **source** is an impression log that stays where it lives — a table or view in your warehouse or "
                "the product's own database. ArtDash sends it one `GROUP BY` per rollup and keeps only the daily "
                "sums (read-only; nothing is copied). Refresh to count new rows in; what a source added before is "
                "replaced, never added twice.")
    found = sources.list_sources(ws.results_engine)
    admin = widgets.may("admin")
    if not admin:
        st.info(f"Adding, refreshing and removing sources is for admins; you are signed in as a {md(widgets.role())}.")
    if not found:
        st.caption("No sources yet." + (" Add one below, or with `artdash results source add`." if admin else ""))
    else:
        grid(pd.DataFrame([{"source": s.name, "table": s.table, "URL (as kept)": s.url,
                                    "impressions": s.impressions, "refreshed": s.refreshed_at} for s in found]),
                     hide_index=True, width="stretch",
                     column_config={"impressions": count_column(),
                                    "refreshed": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
        if admin:
            _actions(ws, found)
    if admin:
        _add_form(ws)


def _actions(ws: Workspace, found: list[sources.SourceView]) -> None:
    names = [s.name for s in found]
    chosen = st.selectbox("Source", names, key="source_pick", format_func=md, width=420)
    with st.container(horizontal=True):
        if st.button("Refresh", key="source_refresh", icon=":material/refresh:"):
            with st.spinner(f"Counting {chosen} where it lives…"):
                _run(lambda: sources.refresh_source(ws, chosen, widgets.actor()), "refreshed")
        with st.popover("Remove", icon=":material/delete:"):
            st.caption("Its sums leave every total on Results; its database is not touched.")
            if st.button(f"Remove {md(chosen)}", key="source_remove", type="primary"):
                try:
                    n = sources.remove_source(ws, chosen, widgets.actor())
                except ArtdashError as exc:
                    st.error(f"Not removed — {md(exc)}")
                else:
                    widgets.flash("success", f"Removed the source {md(chosen)}: its {counted(n, 'impression')} are no longer "
                                             "counted.")
                    st.rerun()


def _add_form(ws: Workspace) -> None:
    with st.expander("Add a source", icon=":material/add_link:", expanded=False, key="x-source-add"):
        with st.form("source_add"):
            name = st.text_input("Name", max_chars=80, placeholder="e.g. warehouse impressions")
            url = st.text_input("Database URL", placeholder="postgresql+psycopg://analyst@warehouse/events",
                                help=URL_HELP)
            table = st.text_input("Table or view", placeholder="e.g. analytics.artwork_impressions")
            mapping = st.text_input("Column mapping", placeholder="shown_at=timestamp, viewer=member_id",
                                    help=MAPPING_HELP)
            if st.form_submit_button("Add and count in", type="primary"):
                def add():
                    given = parse_column_mapping(mapping)          # {source column: artdash column}
                    return sources.add_source(ws, name, url, table, {t: c for c, t in given.items()},
                                              widgets.actor())
                with st.spinner("Checking the table and counting it where it lives…"):
                    _run(add, "added")


def _run(action, verb: str) -> None:
    """Run an add or a refresh; say what it counted (or, on a refusal, why — nothing changes)."""
    try:
        report = action()
    except ArtdashError as exc:
        st.error(f"Nothing changed — {md(exc)}")
        return
    left_out = (f" {counted(report.unknown_impressions, 'impression')} of variants this catalog does not have were "
                "left out."
                if report.unknown_impressions else "")
    widgets.flash("success", f"{md(report.name)} {verb}: {counted(report.impressions, 'impression')} over "
                             f"{counted(report.days, 'day')} "
                             f"counted where they live.{left_out}")
    st.rerun()
