"""The real app in a real browser: a Streamlit server per test session, Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from workspaces import FROZEN_NOW

from artdash import clock

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("ARTDASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need_chromium() -> None:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        if IN_CI:
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must install Debian's chromium (see .ci/run)")
        pytest.skip("Chromium not installed (apt-get install chromium): browser tests skipped")


@pytest.fixture(scope="session")
def browser_type_launch_args():
    _need_chromium()
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serve(data: Path):
    """`streamlit run app.py` on a free port over the data directory ``data``."""
    _need_chromium()
    port = _free_port()
    env = {**os.environ, "ARTDASH_DATA_DIR": str(data), clock.ENV: FROZEN_NOW.isoformat()}
    env.pop("ARTDASH_DATABASE_URL", None)
    env.pop("ARTDASH_MEDIA_DIR", None)
    log = open(data / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "localhost"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{(data / 'server.log').read_text()}")
        else:
            raise RuntimeError("streamlit did not become healthy within 60 s")
        yield {"url": url, "data": data}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The app on an empty temporary database, shared by the session's browser tests."""
    with _serve(tmp_path_factory.mktemp("e2e-data")) as server:
        yield server


@pytest.fixture
def fresh_server(tmp_path):
    """The app on its own empty database (for tests that change who may sign in)."""
    data = tmp_path / "data"
    data.mkdir()
    with _serve(data) as server:
        yield server


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_server(app_server):
    """The server, with the demo catalog and its first model version loaded (once per session)."""
    from artdash.config import Settings
    from artdash.demo import load_demo, load_demo_models
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(app_server["data"])}))
    load_demo(ws)
    load_demo_models(ws)        # as `artdash demo` does: a first trained version for Preview and the service
    ws.close()
    return app_server
