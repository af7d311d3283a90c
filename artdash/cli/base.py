"""The `artdash` command group, how it opens the workspace and how it reports errors (one line, exit code 2)."""

from __future__ import annotations

import importlib
import sys

import click

from artdash.config import Settings
from artdash.errors import ArtdashError, RowsRefused

EPILOG = """\b
Environment:
  ARTDASH_DATA_DIR       where embedded data lives (default ./data)
  ARTDASH_DATABASE_URL   catalog database URL (default sqlite:///<data>/artdash.db)
  ARTDASH_MEDIA_DIR      image store (default <data>/media)
  ARTDASH_MAX_UPLOAD_MB  largest accepted image file in MB (default 40)
  ARTDASH_MAX_PIXELS     largest accepted image in pixels (default 50000000)
  ARTDASH_MAX_VIDEO_MB   largest video searched for stills, in MB (default 2048)
  ARTDASH_MAX_VIDEO_MINUTES  longest video searched for stills (default 180)
  ARTDASH_USER           name recorded as the acting user (default local-admin)
  ARTDASH_RESULTS_DATABASE_URL  results database (default: the catalog's own)
  ARTDASH_QUALITY_PLAY_SECONDS  a play at least this long is a quality play (default 300)
  ARTDASH_STICKY_HOURS   a member keeps a title's image this long (default 24; 0: off)
  ARTDASH_NOW            a fixed "now" (ISO 8601) for reproducible demos and tests
"""


def open_workspace(migrate: bool = True):
    """The workspace of the ARTDASH_* settings; the command line acts as an admin."""
    from artdash.workspace import Workspace

    return Workspace.open(Settings.from_env(), migrate=migrate, trusted=True)  # it has the database itself


def echo_issues(issues, limit: int = 50) -> None:
    """Row problems of a refused file, one line each, on stderr."""
    for issue in issues[:limit]:
        click.echo(f"line {issue.line} ({issue.column}): {issue.problem}", err=True)
    if len(issues) > limit:
        click.echo(f"… and {len(issues) - limit} more", err=True)


class CommandGroup(click.Group):
    """Turns ArtdashError into a one-line message and exit code 2, never a traceback (a refused
    file's bad rows listed before it)."""

    def invoke(self, ctx):
        from sqlalchemy.exc import DatabaseError

        from artdash.db.health import unreadable

        try:
            return super().invoke(ctx)
        except ArtdashError as exc:
            if isinstance(exc, RowsRefused):      # a refused file: its bad rows first, one line each
                echo_issues(exc.issues)
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)
        except DatabaseError as exc:  # a damaged or foreign database file: one line, no SQL
            click.secho(f"error: {unreadable(exc)}; run `artdash doctor`, and restore the last backup into a "
                        "new data folder if it says the database is damaged", fg="red", err=True)
            sys.exit(2)


# The module that defines each command: it is imported when that command runs or a help page
# lists it, so `artdash serve` starts without the video, image and lab code.
COMMANDS = {"demo": "catalog", "title": "catalog", "upload": "catalog", "variants": "catalog", "members": "catalog",
            "tag": "catalog", "db": "db", "discover": "discover", "annotate": "discover", "simulate": "lab",
            "evaluate": "lab", "backup": "ops", "restore": "ops", "doctor": "ops", "results": "results",
            "serve": "serve", "learn": "serve", "keys": "serve", "preview": "serve", "models": "serve", "user": "users"}


class MainGroup(CommandGroup):
    """The `artdash` group: its commands' modules load on demand (:data:`COMMANDS`)."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx, cmd_name):
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"artdash.cli.{COMMANDS[cmd_name]}")
        return super().get_command(ctx, cmd_name)


@click.group(cls=MainGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="artdash")
def main():
    """ArtDash: titles, artwork variants and tags for artwork personalization."""


def print_table(frame) -> None:
    """A table on stdout, as the pages show it (or a note that it is empty)."""
    import pandas as pd

    with pd.option_context("display.max_colwidth", 90, "display.width", 200):
        click.echo(frame.to_string(index=False) if not frame.empty else "(nothing to show)")
