"""Packages whose modules load on first use keep every public name, and a process that needs
one part does not load the rest (the decision service starts without the catalog's video and
face code, the lab's simulator, Alembic or pandas)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from artdash.cli.base import COMMANDS


@pytest.mark.parametrize("package", ["artdash.catalog", "artdash.lab", "artdash.db"])
def test_every_public_name_resolves_from_its_module(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert value is not None
        assert name in dir(module)
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    return set(subprocess.check_output([sys.executable, "-c", code], text=True).split())


def test_the_decision_service_loads_without_the_video_the_simulator_or_pandas():
    loaded = loaded_after("import artdash.serve.http")
    assert not loaded & {"cv2", "pandas", "alembic", "artdash.catalog.stills", "artdash.catalog.annotations",
                         "artdash.simulator", "artdash.discover"}, sorted(loaded & {"cv2", "pandas", "alembic"})


def test_each_command_is_defined_by_the_module_the_cli_loads_for_it():
    from artdash.cli import main

    for module in set(COMMANDS.values()):
        importlib.import_module(f"artdash.cli.{module}")
    assert set(main.commands) == set(COMMANDS)
    for name, command in main.commands.items():
        assert command.callback.__module__ == f"artdash.cli.{COMMANDS[name]}", name
