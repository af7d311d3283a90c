"""A damaged database: one plain sentence everywhere — the pages, the command line, the doctor —
never a traceback with SQL and file paths."""

import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from artdash.cli import main
from artdash.config import Settings
from artdash.db import health
from artdash.demo import DEMO_TITLES, load_demo
from artdash.ops import doctor
from artdash.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def damaged_data_dir(tmp_path: Path, where: str) -> Path:
    """A data folder whose SQLite catalog was damaged after a demo load: its header overwritten
    (``header``: not a database any more) or pages in the middle (``pages``)."""
    data = tmp_path / "data"
    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(data)}))
    load_demo(ws, titles=DEMO_TITLES[:2])
    ws.close()
    db = data / "artdash.db"
    for suffix in ("-wal", "-shm"):  # checkpointed on close; make sure nothing masks the damage
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    noise = random.Random(7)  # the same damage on every run
    with db.open("r+b") as f:
        if where == "header":
            f.write(noise.randbytes(100))
        else:
            size = db.stat().st_size
            for offset in range(4096 * 4, size - 4096, 4096 * 5):
                f.seek(offset + 64)
                f.write(noise.randbytes(2048))
    return data


def test_the_doctor_runs_the_integrity_check_and_says_what_to_do(tmp_path):
    data = damaged_data_dir(tmp_path, "pages")
    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(data)}), migrate=False)
    try:
        found = health.problems(ws.engine)
        assert found and all(p.startswith(("integrity check:", "the database cannot be read")) for p in found)
        report = doctor.examine(ws)
        assert not report.healthy and report.database_problems
        assert "restore the last backup" in report.lines()[0]
    finally:
        ws.close()


def test_the_command_line_answers_in_one_line_with_exit_code_2(tmp_path):
    data = damaged_data_dir(tmp_path, "header")
    env = {"ARTDASH_DATA_DIR": str(data), "ARTDASH_DATABASE_URL": "", "ARTDASH_MEDIA_DIR": ""}
    result = CliRunner().invoke(main, ["title", "list"], env=env, catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the database cannot be read")
    assert str(data) not in result.output and "SELECT" not in result.output
    current = CliRunner().invoke(main, ["db", "current"], env=env, catch_exceptions=False)
    assert current.exit_code in (1, 2) and "newest" not in current.output  # never "all is well"


def test_a_page_shows_a_plain_sentence_not_a_traceback(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    data = damaged_data_dir(tmp_path, "header")
    monkeypatch.setenv("ARTDASH_DATA_DIR", str(data))
    monkeypatch.delenv("ARTDASH_DATABASE_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("cannot read its database" in e.value for e in at.error)
    assert not any(str(data) in e.value or "SELECT" in e.value for e in at.error)


@pytest.mark.parametrize("page", ["catalog", "results"])
def test_damage_found_after_sign_in_is_shown_the_same_way(tmp_path, monkeypatch, page):
    """The workspace opened fine (the header is intact) but the pages' queries hit damage."""
    from streamlit.testing.v1 import AppTest

    data = damaged_data_dir(tmp_path, "pages")
    monkeypatch.setenv("ARTDASH_DATA_DIR", str(data))
    monkeypatch.delenv("ARTDASH_DATABASE_URL", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if not at.error:
        at.switch_page(f"screens/{page}.py").run()
    assert not at.exception
