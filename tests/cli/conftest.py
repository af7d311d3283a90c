"""The `artdash` command, run in-process against a real SQLite file and media folder."""

import pytest
from click.testing import CliRunner

from artdash.cli import main


@pytest.fixture
def run(tmp_path):
    """``run(*args)``: the command's result, with its data under ``tmp_path / "data"``."""
    runner = CliRunner()
    env = {"ARTDASH_DATA_DIR": str(tmp_path / "data"), "ARTDASH_DATABASE_URL": "", "ARTDASH_MEDIA_DIR": "",
           "ARTDASH_USER": "cli-tester"}

    def invoke(*args):
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke
