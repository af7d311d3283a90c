"""A non-editable install works: the wheel carries the package data (taxonomy, archetypes,
both migration histories), and `artdash --help` and `artdash demo` run outside the repository.

The wheel is built from a copy of the sources (setuptools writes `build/` beside them: two builds of the
checkout at once collide there). The fresh venv gets the wheel only; its third-party dependencies are borrowed from the
running environment through a path entry (not a site directory: the editable install's
finder there is never loaded), so the test needs no network.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# One worker builds the wheel once for the whole module.
pytestmark = pytest.mark.xdist_group("wheel")


def copy_sources(target: Path) -> Path:
    """What the wheel is built from — the package and its metadata — without caches or build leftovers."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(ROOT / "artdash", target / "artdash", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    sources = copy_sources(work / "sources")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            str(sources), "-w", str(work / "dist")], cwd=work, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((work / "dist").glob("artdash-*.whl"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    target = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                          text=True).strip())
    # The wheel, unpacked as an installer would (no pip in the fresh venv, no network).
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    # Dependencies from this environment, after the wheel on the path.
    (target / "zz_borrowed_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python, work


def run(installed, *args, **env):
    python, work = installed
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ARTDASH_") and k != "PYTHONPATH"}
    environ |= {"ARTDASH_DATA_DIR": str(work / "data"), **env}
    return subprocess.run([python, "-m", "artdash", *args], cwd=work, env=environ, capture_output=True, text=True,
                          timeout=600)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    python, work = installed
    where = subprocess.check_output([python, "-c", "import artdash; print(artdash.__file__)"], cwd=work, text=True,
                                    env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert str(ROOT) not in where and "site-packages" in where


def test_help_and_demo_run_from_the_wheel(installed):
    shown = run(installed, "--help")
    assert shown.returncode == 0, shown.stderr
    assert "simulate" in shown.stdout and "ARTDASH_DATA_DIR" in shown.stdout
    demo = run(installed, "demo", "--impressions", "2000")
    assert demo.returncode == 0, demo.stderr[-3000:]
    listed = run(installed, "title", "list")
    assert listed.returncode == 0 and listed.stdout.strip(), listed.stderr
    tags = run(installed, "tag", "list")
    assert "genre:" in tags.stdout  # the default taxonomy came from the wheel's package data
