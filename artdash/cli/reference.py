"""The command line's reference, written from the commands themselves (their usage, help and
options as ``--help`` prints them): ``docs/cli-reference.md``, kept true by a test that fails
when it is stale (`make reference` writes it again)."""

from __future__ import annotations

import click

HEADER = """# CLI reference

Generated from the commands by `make reference` (`python -m artdash.cli.reference > docs/cli-reference.md`);
a test fails when it is stale. Every command also answers `--help`. Exit code 2 means ArtDash
refused the input and said why; nothing was changed.
"""


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def reference_markdown(root: click.Command | None = None) -> str:
    """Every command's ``--help``, in command order, as one Markdown page."""
    if root is None:
        from artdash.cli import main

        root = main
    parts = [HEADER]
    for path, command in _walk(root, ["artdash"]):
        name = " ".join(path)
        with click.Context(command, info_name=name, terminal_width=100, max_content_width=100) as ctx:
            text = command.get_help(ctx)
        parts.append(f"## `{name}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference_markdown(), end="")
