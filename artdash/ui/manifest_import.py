"""The Catalog page's "Import many titles" section: a manifest and a ZIP of images, one step."""

from __future__ import annotations

import streamlit as st

from artdash import catalog
from artdash.catalog.manifest import COLUMNS
from artdash.errors import ArtdashError
from artdash.ui import widgets
from artdash.workspace import Workspace

EXAMPLE = ("title,year,kind,genres,cast,image,label,status\n"
           "Harbour Lights,2019,movie,Drama;Romance,Ana Ruiz;Tom Ek,couple.jpg,Couple at dusk,active\n"
           "Harbour Lights,2019,movie,,,lighthouse.jpg,,draft\n")


def manifest_section(ws: Workspace) -> None:
    """Upload a manifest (CSV or JSON) and a ZIP of its images; create everything or nothing."""
    st.markdown(f"One row per image: `{','.join(COLUMNS)}` (**title** and **image** required; genres and cast "
                "separated by `;`; status `draft` or `active`). A title the catalog already has — same name, year "
                "and kind — is reused as it is. Every image is checked as an upload is; if any row or image is "
                "refused, nothing is created and every problem is listed.")
    st.download_button("Download an example manifest", EXAMPLE.encode(), "artdash-manifest-example.csv", "text/csv",
                       key="manifest_example")
    with st.form("manifest_import"):
        c1, c2 = st.columns(2)
        manifest = c1.file_uploader("Manifest (CSV or JSON)", type=["csv", "json"], key="manifest_file")
        images = c2.file_uploader("Images (a ZIP)", type=["zip"], key="manifest_images")
        go = st.form_submit_button("Import titles and images", type="primary", disabled=not widgets.may("editor"))
    if not go:
        return
    if manifest is None or images is None:
        st.error("Choose both files: the manifest and the ZIP of the images it names.")
        return
    bar = st.progress(0.0, text="Checking the images…")

    def advance(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{done:,} of {total:,} images")

    try:
        source = catalog.ImageSource.archive(images.getvalue(), ws.settings.limits)
        report = catalog.import_manifest(
            ws.sessions, ws.store, manifest.getvalue(), manifest.name, source, widgets.actor(), ws.settings.limits,
            progress=advance)
    except ArtdashError as exc:
        bar.empty()
        widgets.refusal(exc)
    else:
        bar.empty()
        n, warned = len(report.variant_ids), report.images_with_warnings
        note = (f" {warned:,} of the {n:,} images came with warnings ({len(report.warnings):,} in all): see each "
                "title's gallery." if warned else "")
        widgets.flash("success", f"Imported {len(report.variant_ids):,} images: {len(report.titles_created):,} new "
                                 f"titles, {len(report.titles_reused):,} already in the catalog.{note}")
        st.rerun()
