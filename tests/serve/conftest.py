"""A small real catalog (three demo titles, their drawn artwork) for the decision service."""

from __future__ import annotations

import pytest
from workspaces import copy_demo, make_settings

from artdash.demo import DEMO_TITLES, load_demo
from artdash.workspace import Workspace


@pytest.fixture
def catalog_ws(tmp_path, database_url):
    """A workspace with three demo titles and their active artwork, on each backend (on SQLite,
    a copy of the demo loaded once per process: the file in the data folder)."""
    if database_url.startswith("sqlite"):
        copy_demo(tmp_path / "data", DEMO_TITLES[:3])
        ws = Workspace.open(make_settings(tmp_path))
    else:
        ws = Workspace.open(make_settings(tmp_path, database_url))
        load_demo(ws, titles=DEMO_TITLES[:3])
    yield ws
    ws.close()


@pytest.fixture
def sqlite_catalog_ws(tmp_path):
    """The same on a SQLite file only."""
    copy_demo(tmp_path / "data", DEMO_TITLES[:3])
    ws = Workspace.open(make_settings(tmp_path))
    yield ws
    ws.close()


@pytest.fixture
def full_demo_ws(tmp_path):
    """A SQLite workspace with the whole demo catalog (fourteen titles, their artwork)."""
    copy_demo(tmp_path / "data")
    ws = Workspace.open(make_settings(tmp_path))
    yield ws
    ws.close()
