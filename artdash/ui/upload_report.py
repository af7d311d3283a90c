"""The Upload tab's report: one line per file, said once — its thumbnail, what happened and why —
with the way on to the gallery and the same report as a CSV of raw values."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from artdash import export
from artdash.catalog import UploadReport
from artdash.ui import widgets
from artdash.ui.text import md
from artdash.workspace import Workspace

OUTCOME_MARK = {"accepted": ":green[accepted]", "accepted with warnings": ":orange[accepted with warnings]",
                "refused": ":red[refused]"}


def _open_gallery() -> None:
    st.session_state["tab"] = "Gallery"   # the tabs' own key (bound to ?tab=)


def show(ws: Workspace, title_id: int, report: UploadReport) -> None:
    """The report of the last upload to this title."""
    summary = f"{report.n_accepted} accepted, {report.n_refused} refused."
    (st.success if not report.n_refused else st.warning if report.n_accepted else st.error)(
        f"Upload report: {summary}")
    thumbnails = {}
    if report.n_accepted:
        with ws.session() as s:
            from artdash import catalog

            thumbnails = {i: widgets.thumbnail_path(ws, v)
                          for i, v in catalog.variants_by_id(s, [r.variant_id for r in report.results
                                                                 if r.variant_id]).items()}
    for r in report.results:
        with st.container(border=True, horizontal=True, vertical_alignment="center", gap="medium"):
            if r.variant_id in thumbnails:
                st.image(thumbnails[r.variant_id], width=72)
            else:
                st.markdown(":material/block:", width=72)
            lines = [f"**{md(r.file_name)}** — {OUTCOME_MARK[r.outcome]}"
                     + (f" as draft #{r.variant_id} ({r.width}×{r.height})" if r.accepted else "")]
            if r.reason:
                lines.append(md(r.reason))
            lines += [f":material/warning: {md(w)}" for w in r.warnings]
            lines += [f":material/check: {md(n)}" for n in r.notes]
            st.markdown("  \n".join(lines), width="stretch")
    c1, c2 = st.columns(2)
    if report.n_accepted:
        c1.button("Open them in the gallery", key=f"to-gallery-{title_id}", on_click=_open_gallery,
                  icon=":material/photo_library:", type="primary")
    c2.download_button("Download the report (CSV: one row per file, raw values)",
                       export.csv_bytes(pd.DataFrame(report.rows())), f"upload-report-title-{title_id}.csv",
                       "text/csv")
