"""Workspaces for the screen tests (the app reads them through ARTDASH_DATA_DIR)."""

import pytest

from artdash.demo import DEMO_TITLES, load_demo
from artdash.workspace import Workspace


@pytest.fixture
def demo_ws(app_env):
    ws = Workspace.open()
    load_demo(ws, titles=DEMO_TITLES[:2])
    yield ws
    ws.close()


@pytest.fixture
def empty_ws(app_env):
    ws = Workspace.open()
    yield ws
    ws.close()
