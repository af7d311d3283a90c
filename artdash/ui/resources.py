"""Cached resources: one Workspace (engine + media store) per server process."""

from __future__ import annotations

import streamlit as st

from artdash.config import Settings
from artdash.workspace import Workspace


@st.cache_resource(show_spinner="Opening the catalog database…")
def _workspace_for(database_url: str, media_dir: str, data_dir: str) -> Workspace:
    # Keyed by the settings so a changed environment (tests, a new database URL) gets its own.
    return Workspace.open(Settings.from_env())


def workspace() -> Workspace:
    """The workspace for the current ARTDASH_* settings (migrated, taxonomy seeded)."""
    settings = Settings.from_env()
    return _workspace_for(settings.database_url, str(settings.media_dir), str(settings.data_dir))


@st.cache_resource(show_spinner="Training the policies on the catalog…", max_entries=4)
def _policies_for(database_url: str, fingerprint: tuple):
    from artdash import preview
    from artdash.catalog import personas

    ws = workspace()
    with ws.session() as s:
        catalog = preview.load_preview_catalog(s)
        return catalog, preview.build_policies(s, catalog, personas.list_personas(s))


def preview_policies():
    """(preview catalog, trained PolicySet), rebuilt only when the catalog or personas change."""
    from artdash import preview

    ws = workspace()
    with ws.session() as s:
        fingerprint = preview.catalog_fingerprint(s)
    return _policies_for(ws.settings.database_url, fingerprint)
