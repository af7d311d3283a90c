"""What `make` tells a newcomer, read from the Makefile's own dry run (nothing is installed)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dry_run(target: str, tmp_path: Path) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'fresh-venv'}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_first_make_run_says_it_is_installing_before_pip_starts(tmp_path):
    """It was silent for a minute or more while pip installed."""
    out = dry_run("run", tmp_path)
    said, pip = out.find("Installing ArtDash and what it needs"), out.find("pip install")
    assert said != -1 and pip != -1 and said < pip
    assert "Creating the virtual environment" in out
    assert "--server.fileWatcherType none" in out     # the server watches no folder


def test_make_walk_uses_the_projects_own_script(tmp_path):
    """It needed ../shared/tools/walk.py, a file outside the repository."""
    out = dry_run("walk", tmp_path)
    assert "scripts/walk.py" in out and "../" not in out
    assert (ROOT / "scripts" / "walk.py").is_file()
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "walk.py"), "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "--widths" in done.stdout
