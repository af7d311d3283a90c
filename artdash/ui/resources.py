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


@st.cache_resource(max_entries=4, show_spinner=False)
def _catalog_for(database_url: str, fingerprint: tuple):
    from artdash.decision.catalog import load_preview_catalog

    with workspace().session() as s:
        return load_preview_catalog(s)


def preview_catalog():
    """Every title with its active variants, images and limits (Preview's tiles), read again
    only when the catalog changes."""
    from artdash.decision.catalog import catalog_fingerprint

    ws = workspace()
    with ws.session() as s:
        fingerprint = catalog_fingerprint(s)
    return _catalog_for(ws.settings.database_url, fingerprint)


@st.cache_resource(show_spinner="Loading what the decision service serves…", max_entries=4)
def _served_for(database_url: str, fingerprint: tuple, versions: tuple, promotion: tuple, tick: int,
                sticky_hours: float):
    from artdash import clock
    from artdash.serve.served import load_served_view

    return load_served_view(workspace(), clock.now(), sticky_hours)


def served_view():
    """What the decision service serves now (:class:`artdash.serve.served.ServedView`): loaded
    again only when the catalog, the stored versions, the promotion, the holdout or the quarter hour change
    (versions take effect on quarter-hour ticks), each version loaded once."""
    from sqlalchemy import func, select

    from artdash import clock
    from artdash.db.models import PolicyPromotion, ServiceHoldout
    from artdash.db.results_schema import policy_models
    from artdash.decision.catalog import catalog_fingerprint
    from artdash.decision.timeline import TICK

    ws = workspace()
    with ws.session() as s:
        fingerprint = catalog_fingerprint(s)
        promotion = (*s.execute(select(func.max(PolicyPromotion.id), func.count())).one(),
                     s.scalar(select(func.max(ServiceHoldout.id))))      # and the holdout in force
    with ws.results_engine.connect() as conn:
        versions = tuple(conn.execute(select(func.max(policy_models.c.version), func.count())).one())
    tick = int(clock.now().timestamp() // TICK.total_seconds())
    return _served_for(ws.settings.database_url, fingerprint, versions, promotion, tick, ws.settings.sticky_hours)
