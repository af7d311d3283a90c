"""Settings for throwaway workspaces in tests (importable: tests/ is on the path)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from artdash.config import Settings

# The moment every test runs at (conftest freezes artdash.clock here; e2e servers get it through
# ARTDASH_NOW). Deliberately weeks after the hand-built logs of November 2026 and far from any
# real "today", so a test that silently relied on the wall clock fails at once, not next month.
FROZEN_NOW = datetime(2027, 3, 15, 9, 30, tzinfo=UTC)


def make_settings(tmp_path: Path, database_url: str | None = None, **limits) -> Settings:
    env = {"ARTDASH_DATA_DIR": str(tmp_path / "data")}
    if database_url:
        env["ARTDASH_DATABASE_URL"] = database_url
    if "max_mb" in limits:
        env["ARTDASH_MAX_UPLOAD_MB"] = str(limits["max_mb"])
    return Settings.from_env(env)


_DEMO_TEMPLATES: dict[tuple[str, ...], Path] = {}


def copy_demo(data: Path, titles=None) -> Path:
    """Fill the data folder ``data`` (absent or empty) with a SQLite workspace holding the demo
    catalog — every demo title, or ``titles`` — as :func:`artdash.demo.load_demo` makes it. The
    demo is loaded once per process into a template folder and copied after: its images are
    rendered, analysed and face-searched once (4 s for the whole demo), not in every test."""
    import shutil
    import tempfile

    from artdash.demo import DEMO_TITLES, load_demo
    from artdash.workspace import Workspace

    chosen = tuple(titles if titles is not None else DEMO_TITLES)
    key = tuple(t.name for t in chosen)
    template = _DEMO_TEMPLATES.get(key)
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="artdash-demo-")) / "data"
        ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(template)}))
        try:
            load_demo(ws, titles=chosen)
        finally:
            ws.close()
        _DEMO_TEMPLATES[key] = template
    if data.exists():
        data.rmdir()                      # only an empty folder is replaced
    shutil.copytree(template, data)
    return data


def run_at_once(code: str, argvs: list[list[str]], timeout: float = 180) -> list[str]:
    """Run ``code`` in one fresh Python process per argument list, released together: each
    child prints ``ready`` when it is set up and waits for a line on its stdin; when all are
    ready, all are told to go. Returns the last line each printed (a child that fails prints
    its error instead, so a test shows it rather than hanging)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests'}"}
    wrapped = ("import sys, traceback\ntry:\n" + "".join(f"    {line}\n" for line in code.strip().splitlines())
               + "except BaseException:\n    print('crashed: ' + traceback.format_exc()[-1500:].replace(chr(10), ' | '),"
               " flush=True)\n")
    procs = [subprocess.Popen([sys.executable, "-c", wrapped, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env) for argv in argvs]
    first = [p.stdout.readline().strip() for p in procs]  # "ready", or why not
    for p in procs:
        if p.poll() is None:
            p.stdin.write("go\n")
            p.stdin.flush()
    out = []
    for p, line in zip(procs, first):
        rest, _ = p.communicate(timeout=timeout)
        lines = [line, *rest.strip().splitlines()]
        out.append(lines[-1] if line == "ready" else line)
    return out

IN_CI = __import__("os").environ.get("CI", "").lower() in ("1", "true", "yes")   # CI must run every test
