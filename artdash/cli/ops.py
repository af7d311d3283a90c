"""Safety commands: `artdash backup`, `restore` and `doctor`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from artdash.cli.base import main, open_workspace

# --------------------------------------------------------------------------------- safety

@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--results/--no-results", default=False, show_default=True,
              help="Also include the results database (impressions and rollups; can be large).")
def backup_command(file, results):
    """Write the catalog, personas, taxonomy, lab runs, users, audit trail and media to one
    archive FILE (ZIP, with a checksum for every member)."""
    from artdash.ops import backup

    ws = open_workspace()
    manifest = backup.backup(ws, file, include_results=results,
                             progress=lambda what: click.echo(f"  {what}", err=True))
    rows = sum(manifest["tables"].values()) + sum(manifest["results_tables"].values())
    click.echo(f"wrote {file}: {rows:,} rows, {len(manifest['media']):,} media files")


@main.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(file):
    """Restore an archive made by `artdash backup` into an empty database and media folder.
    A damaged or foreign archive is refused before anything is written."""
    from artdash.access import audit
    from artdash.ops import backup

    ws = open_workspace()
    manifest = backup.restore(ws, file, progress=lambda what: click.echo(f"  {what}", err=True))
    with ws.transaction() as s:
        audit.record(s, ws.settings.user, "restore", "backup", file.name,
                     after={"made": manifest["created_at"], "rows": sum(manifest["tables"].values())})
    click.echo(f"restored {file}: {sum(manifest['tables'].values()):,} catalog rows, "
               f"{len(manifest['media']):,} media files (backup of {manifest['created_at'][:19]})")


@main.command()
@click.option("--repair", is_flag=True, help="Delete orphan and temporary files, rebuild missing thumbnails.")
@click.option("--quick", is_flag=True, help="Skip re-hashing every image (faster, finds fewer problems).")
def doctor(repair, quick):
    """Check the media store against the catalog: orphan and leftover files, missing and
    damaged images. Exit code 1 if a problem remains."""
    from artdash.ops import doctor as doc

    ws = open_workspace()
    report = doc.examine(ws, verify_hashes=not quick)
    if repair:
        report = doc.repair(ws, report)
    for line in report.lines():
        click.echo(line)
    if not report.healthy:
        sys.exit(1)
