"""A small real catalog (three demo titles, their drawn artwork) for the decision service."""

from __future__ import annotations

import pytest
from workspaces import make_settings

from artdash.demo import DEMO_TITLES, load_demo
from artdash.workspace import Workspace


@pytest.fixture
def catalog_ws(tmp_path, database_url):
    """A workspace with three demo titles and their active artwork, on each backend."""
    ws = Workspace.open(make_settings(tmp_path, database_url))
    load_demo(ws, titles=DEMO_TITLES[:3])
    yield ws
    ws.close()


@pytest.fixture
def sqlite_catalog_ws(tmp_path):
    """The same on a SQLite file only."""
    ws = Workspace.open(make_settings(tmp_path))
    load_demo(ws, titles=DEMO_TITLES[:3])
    yield ws
    ws.close()
