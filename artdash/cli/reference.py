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


def _helps(command: click.Command, name: str, parent: click.Context | None) -> list[tuple[str, str]]:
    """(full name, help text) of ``command`` and every command under it, each in a context
    made as the command line makes it (the root's settings — ``-h`` — inherited)."""
    settings = {"terminal_width": 100, "max_content_width": 100, **command.context_settings}
    with click.Context(command, info_name=name.rsplit(" ", 1)[-1], parent=parent, **settings) as ctx:
        found = [(name, command.get_help(ctx))]
        if isinstance(command, click.Group):
            for sub in sorted(command.list_commands(ctx)):
                child = command.get_command(ctx, sub)
                if child is not None:
                    found += _helps(child, f"{name} {sub}", ctx)
    return found


def reference_markdown(root: click.Command | None = None) -> str:
    """Every command's ``--help``, in command order, as one Markdown page."""
    if root is None:
        from artdash.cli import main

        root = main
    parts = [HEADER]
    for name, text in _helps(root, "artdash", None):
        parts.append(f"## `{name}`\n\n```text\n{text.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference_markdown(), end="")
