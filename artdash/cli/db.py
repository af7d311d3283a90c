"""`artdash db`: migrations of the catalog database."""

from __future__ import annotations

import sys

import click

from artdash.cli.base import CommandGroup, main, open_workspace

# --------------------------------------------------------------------------------- db

@main.group(cls=CommandGroup)
def db():
    """Database schema: upgrade, downgrade, show the revision."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision):
    """Apply migrations (safe to run any number of times) and seed the default taxonomy."""
    from artdash.catalog.taxonomy import load_default_taxonomy
    from artdash.db.migrate import current_revision, upgrade_database

    ws = open_workspace(migrate=False)
    upgrade_database(ws.engine, revision)
    if revision == "head":
        with ws.transaction() as s:
            added = load_default_taxonomy(s)
    else:
        added = 0
    click.echo(f"database {ws.engine.url.render_as_string(hide_password=True)} at revision "
               f"{current_revision(ws.engine)}" + (f"; {added} default tags added" if added else ""))


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_downgrade(revision, yes):
    """Take the schema back to REVISION ("base" drops every table: data is lost)."""
    from artdash.db.migrate import current_revision, downgrade_database

    if not yes:
        click.confirm(f"Downgrade to {revision}? Tables dropped on the way lose their data", abort=True)
    ws = open_workspace(migrate=False)
    downgrade_database(ws.engine, revision)
    click.echo(f"database at revision {current_revision(ws.engine) or 'base (empty)'}")


@db.command("current")
def db_current():
    """Print the schema revision of the database, after checking it can be read (SQLite's
    integrity check). Exit code 1 if it is damaged."""

    from artdash.db.health import problems
    from artdash.db.migrate import current_revision, head_revision

    ws = open_workspace(migrate=False)
    found = problems(ws.engine)
    if found:
        for problem in found:
            click.secho(f"damaged: {problem}", fg="red", err=True)
        click.echo("run `artdash doctor`; restore the last backup into a new data folder", err=True)
        sys.exit(1)
    current = current_revision(ws.engine)
    click.echo(f"{current or 'empty'} (newest: {head_revision()})")
