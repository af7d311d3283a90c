"""Workspaces for the screen tests (the app reads them through ARTDASH_DATA_DIR)."""

import pytest
from workspaces import copy_demo

from artdash.demo import DEMO_TITLES
from artdash.workspace import Workspace


@pytest.fixture
def demo_ws(app_env):
    copy_demo(app_env, DEMO_TITLES[:2])      # loaded once per process, copied here
    ws = Workspace.open()
    yield ws
    ws.close()


@pytest.fixture
def empty_ws(app_env):
    ws = Workspace.open()
    yield ws
    ws.close()
