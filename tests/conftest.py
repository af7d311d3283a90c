"""Shared fixtures: real SQLite files, the machine's PostgreSQL when configured, real images."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from workspaces import FROZEN_NOW, make_settings  # noqa: F401  (fixtures below and tests use it)

from artdash import clock
from artdash.config import Settings
from artdash.workspace import Workspace

# `make test` is the same for everyone, everywhere: property tests replay one fixed sequence of
# examples (and keep no example database), so a run never depends on luck or on the machine.
# Exploring new examples is `make fuzz`'s job (it sets ARTDASH_FUZZ_EXAMPLES); each failure it
# finds is kept as an @example or a test of its own, then fixed.
hypothesis_settings.register_profile("replay", derandomize=True, database=None)
if not os.environ.get("ARTDASH_FUZZ_EXAMPLES"):
    hypothesis_settings.load_profile("replay")

ROOT = Path(__file__).resolve().parents[1]
# Tests that share a heavy session fixture run on one worker each under `pytest -n` (`make test`
# uses --dist loadgroup): every browser test shares one app server, every Spark test one JVM.
SERIAL_GROUPS = {"e2e": "browser", "test_spark.py": "spark"}
POSTGRES_ENV = "ARTDASH_TEST_POSTGRES_URL"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """Every test runs at FROZEN_NOW: in this process (artdash.clock) and in any process it
    starts (ARTDASH_NOW). No test depends on the wall clock or on today's date."""
    monkeypatch.setenv(clock.ENV, FROZEN_NOW.isoformat())
    with clock.frozen(FROZEN_NOW) as now:
        yield now


def postgres_base_url() -> str:
    """The PostgreSQL URL from the environment; skips the test where none is set (fails under CI)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if IN_CI:
            pytest.fail(f"{POSTGRES_ENV} is not set; CI must run the PostgreSQL tests (see .ci/run)")
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests skipped")
    return url


@pytest.fixture
def postgres_url():
    """A fresh, empty schema in the test PostgreSQL database; dropped afterwards."""
    base = postgres_base_url()
    schema = f"artdash_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    """Each data-layer test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'artdash.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def ws(tmp_path, database_url):
    """A migrated workspace with the default taxonomy, on each backend."""
    workspace = Workspace.open(make_settings(tmp_path, database_url))
    yield workspace
    workspace.close()


@pytest.fixture
def sqlite_ws(tmp_path):
    workspace = Workspace.open(make_settings(tmp_path))
    yield workspace
    workspace.close()


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Point the app (AppTest runs in this process) at a temporary data folder."""
    data = tmp_path / "appdata"
    monkeypatch.setenv("ARTDASH_DATA_DIR", str(data))
    monkeypatch.delenv("ARTDASH_DATABASE_URL", raising=False)
    monkeypatch.delenv("ARTDASH_MEDIA_DIR", raising=False)
    return data


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory):
    """One workspace with the demo catalog and archetypes for the whole session (read-only use)."""
    from artdash.demo import load_demo

    workspace = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path_factory.mktemp("demo"))}))
    load_demo(workspace)
    yield workspace
    workspace.close()


def pytest_collection_modifyitems(config, items):
    """Give the tests of each serial group one xdist group (one worker, one shared fixture)."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        for part, group in SERIAL_GROUPS.items():
            if part in parts:
                item.add_marker(pytest.mark.xdist_group(group))
