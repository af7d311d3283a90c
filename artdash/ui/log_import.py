"""The Results page's Import tab: import an impression log, see and remove imports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from artdash import export
from artdash.errors import ArtdashError
from artdash.results.read import MAPPING_EXAMPLE, parse_column_mapping
from artdash.results.service import import_log, impression_log, remove_import
from artdash.ui import results_data, widgets
from artdash.ui.numbers import count_column, grid
from artdash.ui.text import md
from artdash.workspace import Workspace


def import_section(ws: Workspace) -> None:
    """The whole tab: the form (admins), the import history with its download, removal."""
    st.markdown("Import an impression log (CSV or Parquet). Columns: **event_id, timestamp, member_id, "
                "title_id, variant_id, policy, propensity, played**, and optionally play_seconds (a log of clicks has "
                "none: it is read by its take rate), experiment, cell, country, device. Titles may be given by name "
                "and images by label instead of ids. Re-importing the same events adds nothing; a file with any bad "
                "row imports nothing, and so does an event id imported before with a different row.")
    if not widgets.may("admin"):
        st.info("Importing logs is for admins; you are signed in as a "
                f"{md(widgets.role())}. The import history is below.")
    else:
        import_form(ws)
    history = results_data.import_history()
    if history.empty:
        return
    st.markdown("**Imports**")
    shown = pd.DataFrame({
        "import": history["id"], "kind": history["kind"], "file": history["source"], "when": history["created_at"],
        "by": history["created_by"], "rows": history["n_rows"],
        "new impressions": history["n_new"],
        "already there": history["n_already_present"], "skipped (unknown ids)": history["n_skipped"],
        "quality play from (s)": history["quality_seconds"]})
    grid(shown, hide_index=True, width="stretch", column_config={
        c: count_column() for c in ("rows", "new impressions", "already there", "skipped (unknown ids)")})
    st.caption(f"The impressions are kept as {md(impression_log(ws).describe())}; the pages read daily rollups of "
               "them.")
    st.download_button("Download CSV (the import history)", export.csv_bytes(shown), "imports.csv", "text/csv",
                       key="imports_csv")
    if widgets.may("admin"):
        remove_form(ws, shown)


def remove_form(ws: Workspace, shown: pd.DataFrame) -> None:
    """Remove one import (its impressions and their share of every total), after a confirmation."""
    with st.form("remove_import"):
        st.markdown("**Remove an import** — for a log imported by mistake: its impressions and their share of "
                    "every total go; the other imports stay as they are.")
        labels = {int(r["import"]): f"#{r['import']} {r['file']} ({r['new impressions']:,} impressions, "
                                    f"{r['when']:%Y-%m-%d %H:%M})" for _, r in shown.iterrows()}
        chosen: int | None = st.selectbox("Import", list(labels), format_func=lambda i: labels[i],
                                          key="remove_import_id")
        sure = st.checkbox("Yes, remove these impressions for good")
        if st.form_submit_button("Remove import", icon=":material/delete:"):
            if not sure or chosen is None:
                st.warning("Tick the box to confirm.")
                return
            try:
                with st.spinner("Removing…"):
                    removed = remove_import(ws, chosen, widgets.actor())
            except ArtdashError as exc:
                st.error(f"Nothing removed — {md(exc)}")
            else:
                widgets.flash("success", f"Removed import #{chosen}: {removed:,} impressions.")
                st.rerun()


def import_form(ws: Workspace) -> None:
    """Upload a log, optionally with a column mapping; every refusal says what was wrong."""
    with st.form("import_log", clear_on_submit=False):
        upload = st.file_uploader("Impression log", type=["csv", "parquet"])
        mapping_text = st.text_input("Column mapping (optional)", placeholder=MAPPING_EXAMPLE,
                                     help="For files that name columns differently: file column = ArtDash column.")
        skip_unknown = st.checkbox("Skip rows whose title or variant is not in the catalog (they are counted)")
        prefix = st.text_input("Prefix its event ids (optional)", max_chars=40, placeholder="e.g. b-",
                               help="For a second export that numbers its events from 0 again: every event id "
                                    "of this file gets the prefix, so it cannot collide with another file's.")
        submitted = st.form_submit_button("Import", type="primary")
    if not submitted:
        return
    if upload is None:
        st.warning("Choose a file first.")
        return
    try:
        mapping = parse_column_mapping(mapping_text)
    except ArtdashError as exc:
        st.error(f"Nothing imported — {md(exc)}.")
        return
    bar = st.progress(0.0, text="Reading…")
    def checked(n_rows: int) -> None:
        bar.progress(0.5, text=f"{n_rows:,} rows checked…")

    try:
        result = import_log(ws, upload.getvalue(), upload.name, widgets.actor(), mapping=mapping,
                            skip_unknown=skip_unknown, progress=checked, event_id_prefix=prefix)
    except ArtdashError as exc:
        bar.empty()
        widgets.refusal(exc)
    else:
        bar.empty()
        skipped = f"; {result.n_skipped_unknown:,} skipped (unknown ids)" if result.n_skipped_unknown else ""
        if result.import_id is None:
            widgets.flash("info", f"Nothing new: all {result.n_rows:,} rows of {md(upload.name)} were imported "
                                  f"before{skipped}; no import was added to the history.")
            st.rerun()
        done = (f"Imported {result.n_inserted:,} new impressions of {result.n_rows:,} rows "
                f"({result.n_already_present:,} were already there{skipped}).")
        if result.warnings:
            widgets.flash("warning", " ".join([done, *(f"But: {w}." for w in result.warnings)]))
        else:
            widgets.flash("success", done)
        st.rerun()
