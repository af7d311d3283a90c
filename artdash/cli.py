"""The `artdash` command. Each command's docstring is its --help.

Settings come from ARTDASH_* environment variables (see `artdash --help`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from artdash import catalog
from artdash.config import Settings
from artdash.errors import ArtdashError, NotFoundError, ValidationError

EPILOG = """\b
Environment:
  ARTDASH_DATA_DIR       where embedded data lives (default ./data)
  ARTDASH_DATABASE_URL   catalog database URL (default sqlite:///<data>/artdash.db)
  ARTDASH_MEDIA_DIR      image store (default <data>/media)
  ARTDASH_MAX_UPLOAD_MB  largest accepted image file in MB (default 40)
  ARTDASH_MAX_PIXELS     largest accepted image in pixels (default 50000000)
  ARTDASH_USER           name recorded as the acting user (default local-admin)
"""


def _workspace(migrate: bool = True):
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env(), migrate=migrate)
    ws.trusted = True  # the command line has the database itself: it acts as an admin
    return ws


def _echo_issues(issues, limit: int = 50) -> None:
    """Row problems of a refused file, one line each, on stderr."""
    for issue in issues[:limit]:
        click.echo(f"line {issue.line} ({issue.column}): {issue.problem}", err=True)
    if len(issues) > limit:
        click.echo(f"… and {len(issues) - limit} more", err=True)


class _Group(click.Group):
    """Turns ArtdashError into a one-line message and exit code 2, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ArtdashError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=_Group, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="artdash")
def main():
    """ArtDash: titles, artwork variants and tags for artwork personalization."""


# --------------------------------------------------------------------------------- db

@main.group(cls=_Group)
def db():
    """Database schema: upgrade, downgrade, show the revision."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision):
    """Apply migrations (safe to run any number of times) and seed the default taxonomy."""
    from artdash.catalog.taxonomy import load_default_taxonomy
    from artdash.db.migrate import current_revision, upgrade_database

    ws = _workspace(migrate=False)
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
    ws = _workspace(migrate=False)
    downgrade_database(ws.engine, revision)
    click.echo(f"database at revision {current_revision(ws.engine) or 'base (empty)'}")


@db.command("current")
def db_current():
    """Print the schema revision of the database."""
    from artdash.db.migrate import current_revision, head_revision

    ws = _workspace(migrate=False)
    current = current_revision(ws.engine)
    click.echo(f"{current or 'empty'} (newest: {head_revision()})")


# --------------------------------------------------------------------------------- demo

@main.command()
@click.option("--if-empty", is_flag=True, help="Only when the catalog has no titles yet (used by `make run`).")
@click.option("--impressions", "demo_impressions", default=200_000, show_default=True,
              help="Simulated impressions for the results database (added only when it is empty).")
def demo(if_empty, demo_impressions):
    """Load the demo catalog: 14 titles with generated, tagged artwork (skips titles already there)."""
    from artdash.demo import DEMO_TITLES, load_demo

    ws = _workspace()
    if if_empty:
        with ws.session() as s:
            if catalog.catalog_counts(s)["titles"]:
                click.echo("the catalog has titles already; demo not loaded")
                return
    with click.progressbar(length=len(DEMO_TITLES), label="demo titles") as bar:
        added = load_demo(ws, progress=lambda done, total, name: bar.update(1))
    with ws.session() as s:
        counts = catalog.catalog_counts(s)
    click.echo(f"added {added} demo titles; the catalog has {counts['titles']} titles and "
               f"{counts['variants']} variants ({counts['active']} active)")
    from artdash.demo.results import load_demo_results
    from artdash.results import queries

    with ws.results_engine.connect() as conn:
        has_results = queries.count_impressions(conn) > 0
    if not has_results:
        click.echo(f"simulating {demo_impressions:,} impressions for the results database…")
        report = load_demo_results(ws, n=demo_impressions)
        click.echo(f"added {report.n_inserted:,} simulated impressions over 30 days to the results database")


# --------------------------------------------------------------------------------- titles

@main.group(cls=_Group)
def title():
    """Titles: add and list."""


@title.command("add")
@click.argument("name")
@click.option("--year", type=int, help="Release year, e.g. 2017.")
@click.option("--kind", type=click.Choice(["movie", "series"]), default="movie", show_default=True)
@click.option("--synopsis", default="", help="One or two sentences.")
@click.option("--genre", "genres", multiple=True, help="A genre from the taxonomy (repeat for several).")
@click.option("--cast", "cast", multiple=True, help="A cast member (repeat for several; added to the taxonomy).")
def title_add(name, year, kind, synopsis, genres, cast):
    """Add a title called NAME."""
    ws = _workspace()
    settings = ws.settings
    with ws.transaction() as s:
        view = catalog.create_title(s, name=name, year=year, kind=kind, synopsis=synopsis, genres=genres,
                                    cast=cast, actor=settings.user)
    click.echo(f"added title #{view.id}: {view.display_name}")


@title.command("list")
def title_list():
    """List titles with their variant counts."""
    ws = _workspace()
    with ws.session() as s:
        titles = catalog.list_titles(s)
    if not titles:
        click.echo("no titles yet: run `artdash demo` or `artdash title add NAME`")
        return
    click.echo(f"{'id':>4}  {'title':<36} {'kind':<7} {'genres':<26} variants (active/draft/retired)")
    for t in titles:
        click.echo(f"{t.id:>4}  {t.display_name[:36]:<36} {t.kind:<7} {', '.join(t.genres)[:26]:<26} "
                   f"{t.n_variants} ({t.n_active}/{t.n_draft}/{t.n_retired})")


def _find_title_id(session, ref: str) -> int:
    if ref.isdigit():
        return catalog.get_title(session, int(ref)).id
    matches = [t for t in catalog.list_titles(session, search=ref) if t.name.casefold() == ref.strip().casefold()]
    if not matches:
        raise NotFoundError(f"no title is called {ref!r}; `artdash title list` shows ids and names")
    if len(matches) > 1:
        ids = ", ".join(f"#{t.id} {t.display_name}" for t in matches)
        raise ValidationError(f"several titles are called {ref!r} ({ids}); give the id instead")
    return matches[0].id


# --------------------------------------------------------------------------------- upload

@main.command()
@click.argument("title_ref", metavar="TITLE")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def upload(title_ref, files):
    """Upload image FILES as draft variants of TITLE (an id or an exact name).

    Each file is validated on its own (JPEG, PNG or WebP; size and pixel limits; full
    decode; duplicates) and reported as accepted, accepted with warnings, or refused with
    the reason. Exit code 0 when every file was accepted, 1 when any was refused.
    """
    ws = _workspace()
    with ws.session() as s:
        title_id = _find_title_id(s, title_ref)
    payload = []
    for path in files:
        try:
            payload.append((path.name, path.read_bytes()))
        except OSError as exc:
            payload.append((path.name, None, f"cannot read the file: {exc.strerror}"))
    readable = [(n, d) for n, d, *_ in payload if d is not None]
    report = catalog.upload_files(ws.sessions, ws.store, title_id, readable, ws.settings.user, ws.settings.limits)
    results = list(report.results) + [
        catalog.UploadResult(file_name=p[0], accepted=False, reason=p[2]) for p in payload if p[1] is None
    ]
    for r in results:
        mark = click.style("✓", fg="green") if r.accepted else click.style("✗", fg="red")
        what = f"variant #{r.variant_id} ({r.width}×{r.height})" if r.accepted else f"refused: {r.reason}"
        click.echo(f"{mark} {r.file_name}: {what}")
        for w in r.warnings:
            click.echo(f"    warning: {w}")
    n_refused = sum(not r.accepted for r in results)
    click.echo(f"{len(results) - n_refused} accepted, {n_refused} refused")
    sys.exit(1 if n_refused else 0)


# --------------------------------------------------------------------------------- members

@main.group(cls=_Group)
def members():
    """Real members: import viewing histories (their tastes are derived from them)."""


@members.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def members_import(file):
    """Import a viewing-history FILE (CSV or Parquet: member_id, title, watched_at, minutes).

    Titles match by catalog id or exact name. Any bad row is reported with its line number
    and nothing is imported (exit code 2).
    """
    from artdash.catalog import history

    ws = _workspace()
    try:
        with ws.transaction() as s:
            report = history.import_history(s, file.read_bytes(), file.name, ws.settings.user)
    except history.HistoryImportError as exc:
        _echo_issues(exc.issues)
        raise
    click.echo(f"imported {report.n_new_views} new views for {report.n_members} member(s) "
               f"({report.n_new_members} new)")


# --------------------------------------------------------------------------------- results

@main.group(cls=_Group)
def results():
    """The results database: import impression logs."""


@results.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mappings", multiple=True, metavar="FILE_COLUMN=COLUMN",
              help="Read a differently named column, e.g. --map ts=timestamp (repeatable).")
@click.option("--skip-unknown", is_flag=True, help="Skip (and count) rows whose variant is not in the catalog.")
def results_import(file, mappings, skip_unknown):
    """Import an impression log FILE (CSV or Parquet), streamed in chunks, in one transaction.

    Columns: event_id, timestamp, member_id, title_id, variant_id, policy, propensity, played,
    play_seconds (experiment, cell, country, device optional). Re-importing adds nothing; any
    bad row is reported with its line number and nothing is imported (exit code 2).
    """
    from artdash.results.ingest import IngestError
    from artdash.results.service import import_log

    try:
        mapping = dict(m.split("=", 1) for m in mappings)
    except ValueError:
        raise ValidationError("--map takes FILE_COLUMN=COLUMN, e.g. --map ts=timestamp") from None
    ws = _workspace()
    try:
        report = import_log(ws, file, file.name, ws.settings.user, mapping=mapping, skip_unknown=skip_unknown,
                            progress=lambda n: click.echo(f"  {n:,} rows checked", err=True))
    except IngestError as exc:
        _echo_issues(exc.issues)
        raise
    click.echo(f"imported {report.n_inserted:,} new impressions of {report.n_rows:,} rows "
               f"({report.n_already_present:,} already present, {report.n_skipped_unknown:,} skipped)")


@results.command("remove")
@click.argument("import_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def results_remove(import_id, yes):
    """Remove one import (its impressions and their share of the rollups), e.g. a log imported
    by mistake. `artdash results imports` lists them; the Import tab of Results shows them too."""
    from artdash.results.service import remove_import

    ws = _workspace()
    if not yes and not click.confirm(f"Remove import #{import_id} and all its impressions?", default=False):
        raise SystemExit(1)
    removed = remove_import(ws, import_id, ws.settings.user)
    click.echo(f"removed import #{import_id}: {removed:,} impressions")


@results.command("imports")
def results_imports():
    """List the imports in the results database, newest first."""
    from artdash.results import queries

    ws = _workspace()
    with ws.results_engine.connect() as conn:
        _print_table(queries.import_history(conn))


@results.command("rebuild")
def results_rebuild():
    """Recompute the daily rollups from the stored impressions, e.g. after changing
    ARTDASH_QUALITY_PLAY_SECONDS (quality plays are otherwise counted at import time)."""
    from artdash.access import audit
    from artdash.results.ingest import rebuild_rollups

    ws = _workspace()
    seconds = ws.settings.quality_play_seconds
    count = rebuild_rollups(ws.results_engine, seconds)
    with ws.transaction() as s:
        audit.record(s, ws.settings.user, "rebuild", "rollups", "", after={"impressions": count,
                                                                        "quality seconds": seconds})
    click.echo(f"rebuilt the rollups from {count:,} impressions (quality plays: at least {seconds:g} s)")


# --------------------------------------------------------------------------------- policy lab

def _lab_config(ws, world, impressions, batch, seed, policies, mixes, noise, strength, members):
    from artdash import lab

    ids = {name.casefold(): int(pid) for pid, name in world.archetypes}
    mix: dict[int, float] = {}
    for item in mixes:
        name, _, weight = item.rpartition("=")
        if not name:
            raise ValidationError(f"--mix takes ARCHETYPE=SHARE, e.g. --mix 'Romance lover=2' (got {item!r})")
        key = name.strip().casefold()
        if key not in ids:
            raise ValidationError(f"no archetype called {name.strip()!r}; archetypes: "
                                  + ", ".join(n for _, n in world.archetypes))
        try:
            mix[ids[key]] = float(weight)
        except ValueError:
            raise ValidationError(f"the share in {item!r} must be a number") from None
    if not mixes:
        mix = {pid: 1.0 for pid, _ in world.archetypes}
    return lab.LabConfig(mix=mix, impressions=impressions, batch_size=min(batch, max(impressions, 1)), seed=seed,
                         policies=tuple(policies), noise_sd=noise, strength=strength, n_members=members,
                         quality_seconds=ws.settings.quality_play_seconds).check(world)


def _print_table(frame) -> None:
    import pandas as pd

    with pd.option_context("display.max_colwidth", 90, "display.width", 200):
        click.echo(frame.to_string(index=False) if not frame.empty else "(nothing to show)")


_LAB_POLICIES = ("uniform", "editors-pick", "best-single", "linucb", "vw")


@main.command()
@click.option("--impressions", default=20_000, show_default=True, help="Impressions per policy.")
@click.option("--batch", default=2_000, show_default=True, help="Policies learn every this many impressions.")
@click.option("--seed", default=0, show_default=True, help="Same seed, same run.")
@click.option("--policy", "policies", multiple=True, type=click.Choice(_LAB_POLICIES),
              default=("uniform", "editors-pick", "best-single", "linucb"), show_default=True,
              help="A policy to run (repeatable).")
@click.option("--mix", "mixes", multiple=True, metavar="ARCHETYPE=SHARE",
              help="Population share of an archetype, e.g. --mix 'Romance lover=2' (repeatable; default: equal).")
@click.option("--noise", default=0.3, show_default=True, help="How far members' tastes stray from their archetype.")
@click.option("--strength", default=1.5, show_default=True, help="How strongly taste match drives takes.")
@click.option("--members", default=5_000, show_default=True, help="Members in the population.")
@click.option("--save/--no-save", default=True, show_default=True, help="Keep the run in the lab's history.")
@click.option("--log/--no-log", "log_data", default=False, show_default=True,
              help="Also write the simulated impressions to the results database (removable in one step).")
@click.option("--name", default="", help="A name for the saved run.")
def simulate(impressions, batch, seed, policies, mixes, noise, strength, members, save, log_data, name):
    """Run policies against a simulated population drawn from the persona archetypes, on the
    same stream of members and titles, and print take rates with 95 % intervals and regret
    (the table the Policy lab page shows). With the uniform policy in the run, also print the
    offline estimates on its log."""
    from artdash import lab
    from artdash.lab import store as lab_store

    ws = _workspace()
    with ws.session() as s:
        world = lab.load_world(s)
    config = _lab_config(ws, world, impressions, batch, seed, policies, mixes, noise, strength, members)

    def progress(result):
        click.echo(f"  {result.n_done:,} / {config.impressions:,} impressions", err=True)

    result = lab.run_online(world, config, progress)
    click.echo(f"online: {result.n_done:,} impressions per policy in {result.seconds:.1f} s")
    _print_table(lab.summary_for_display(result.summary()))
    offline = None
    if "uniform" in config.policies:
        offline = lab.offline_on_run(world, result)
        click.echo("\noffline, on the uniform policy's log (trained on its first half, evaluated on the rest):")
        _print_table(lab.offline_for_display(offline))
    if save:
        with ws.transaction() as s:
            run = lab_store.save_run(s, result, ws.settings.user, name, offline)
        click.echo(f"\nsaved as lab run #{run.id}")
        if log_data:
            report = _log_lab_run(ws, world, result, run.id)
            click.echo(f"wrote {report.n_inserted:,} simulated impressions to the results database "
                       f"(experiment lab-{run.id})")


def _log_lab_run(ws, world, result, run_id):
    from artdash.lab import store as lab_store

    return lab_store.log_run(ws, world, result, run_id, ws.settings.user)


@main.command()
@click.option("--run", "run_id", type=int, help="A saved lab run: rerun it (same seed) and evaluate on its log.")
@click.option("--logger", default="uniform", show_default=True, type=click.Choice(_LAB_POLICIES),
              help="With --run: whose log to evaluate on.")
@click.option("--experiment", help="Evaluate on this experiment's impressions in the results database.")
@click.option("--cell", help="With --experiment: only this cell (the logging policy's impressions).")
@click.option("--policy", "policies", multiple=True, type=click.Choice(_LAB_POLICIES),
              default=("uniform", "editors-pick", "best-single", "linucb"), show_default=True,
              help="A candidate policy to evaluate (repeatable).")
@click.option("--seed", default=0, show_default=True, help="Seed for cross-fitting and replay sampling.")
def evaluate(run_id, logger, experiment, cell, policies, seed):
    """Offline policy evaluation: each candidate policy is trained on the first half of a log
    and its value (quality plays per impression) estimated on the second half by replay, IPS,
    SNIPS, the direct method and doubly robust, with 95 % intervals and effective sample
    sizes. Logs from a lab run also show the true value."""
    from artdash import lab
    from artdash.lab import store as lab_store

    if (run_id is None) == (experiment is None):
        raise ValidationError("give either --run ID (a saved lab run) or --experiment NAME (logged impressions)")
    ws = _workspace()
    with ws.session() as s:
        world = lab.load_world(s)
        run = lab_store.get_run(s, run_id) if run_id is not None else None
    if run is not None:
        config = run.config
        if logger not in config.policies:
            raise ValidationError(f"run #{run.id} did not run {logger!r}; it ran {', '.join(config.policies)}")
        result = lab.run_online(world, config)
        table = lab.offline_on_run(world, result, logger, policies)
        click.echo(f"offline, on run #{run.id}'s {logger} log ({result.n_done:,} impressions):")
    else:
        with ws.results_engine.connect() as conn:
            rounds, info = lab.rounds_from_results(conn, world, experiment, cell)
        config = lab.LabConfig(mix={pid: 1.0 for pid, _ in world.archetypes}, seed=seed)
        table = lab.offline_table(world, config, rounds, policies)
        click.echo(f"offline, on {info['used']:,} impressions of experiment {experiment!r}"
                   + (f", cell {cell!r}" if cell else "")
                   + (f" ({info['left_out']:,} left out: titles or images no longer active)" if info["left_out"] else "")
                   + (f"; {info['unknown_members']:,} from members of unknown taste" if info["unknown_members"] else "")
                   + ":")
    _print_table(lab.offline_for_display(table))


# --------------------------------------------------------------------------------- users

def _new_password() -> str:
    """From ARTDASH_NEW_PASSWORD (scripts) or asked twice, hidden."""
    return os.environ.get("ARTDASH_NEW_PASSWORD") or click.prompt("Password", hide_input=True,
                                                                  confirmation_prompt=True)


@main.group(cls=_Group)
def user():
    """Accounts and roles (viewer, editor, admin). Once one account exists, the app asks
    everyone to sign in; the first account must be an admin."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), required=True)
@click.option("--password", "ask_password", is_flag=True, default=True, show_default=True,
              help="Ask for a password (--no-password for an OIDC identity, which signs in through the provider).")
@click.option("--no-password", "ask_password", flag_value=False)
def user_add(name, role, ask_password):
    """Add a local account NAME (or the role of an OIDC e-mail address, with --no-password)."""
    from artdash.access import auth

    password = None
    if ask_password:
        password = _new_password()
    ws = _workspace()
    with ws.transaction() as s:
        view = auth.add_user(s, name, role, ws.settings.user, password)
    click.echo(f"added {view.name} ({view.role}{', with a password' if view.has_password else ''})")


@user.command("remove")
@click.argument("name")
def user_remove(name):
    """Remove an account (the last admin cannot be removed)."""
    from artdash.access import auth

    ws = _workspace()
    with ws.transaction() as s:
        auth.remove_user(s, name, ws.settings.user)
    click.echo(f"removed {name}")


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(["viewer", "editor", "admin"]))
def user_set_role(name, role):
    """Change an account's role."""
    from artdash.access import auth

    ws = _workspace()
    with ws.transaction() as s:
        view = auth.set_role(s, name, role, ws.settings.user)
    click.echo(f"{view.name} is now {view.role}")


@user.command("passwd")
@click.argument("name")
def user_passwd(name):
    """Set a new password (also unlocks an account locked by failed sign-ins)."""
    from artdash.access import auth

    password = _new_password()
    ws = _workspace()
    with ws.transaction() as s:
        auth.set_password(s, name, password, ws.settings.user)
    click.echo(f"password of {name} changed")


@user.command("list")
def user_list():
    """Accounts and their roles."""
    from artdash.access import auth

    ws = _workspace()
    with ws.session() as s:
        users = auth.list_users(s)
    if not users:
        click.echo("no accounts: the app runs as the local admin for everyone")
    for u in users:
        click.echo(f"{u.name}\t{u.role}\t{'password' if u.has_password else 'OIDC'}")


# --------------------------------------------------------------------------------- safety

@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--results/--no-results", default=False, show_default=True,
              help="Also include the results database (impressions and rollups; can be large).")
def backup_command(file, results):
    """Write the catalog, personas, taxonomy, lab runs, users, audit trail and media to one
    archive FILE (ZIP, with a checksum for every member)."""
    from artdash.ops import backup

    ws = _workspace()
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

    ws = _workspace()
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

    ws = _workspace()
    report = doc.examine(ws, verify_hashes=not quick)
    if repair:
        report = doc.repair(ws, report)
    for line in report.lines():
        click.echo(line)
    if not report.healthy:
        sys.exit(1)


# --------------------------------------------------------------------------------- tags

@main.group(cls=_Group)
def tag():
    """The tag taxonomy: list and add tags."""


@tag.command("list")
@click.option("--facet", help="Only this facet.")
def tag_list(facet):
    """List facets and their tags with usage counts."""
    from artdash.catalog.taxonomy import list_facets

    ws = _workspace()
    with ws.session() as s:
        for f in list_facets(s):
            if facet and f.name != facet:
                continue
            tags = ", ".join(f"{t.name} ({t.n_titles}t/{t.n_variants}v)" for t in f.tags) or "(none yet)"
            click.echo(f"{f.name}: {tags}")


@tag.command("add")
@click.argument("facet")
@click.argument("name")
def tag_add(facet, name):
    """Add tag NAME to FACET (names are compared ignoring case and spacing)."""
    from artdash.catalog.taxonomy import add_tag

    ws = _workspace()
    with ws.transaction() as s:
        view = add_tag(s, facet, name, ws.settings.user)
    click.echo(f"added {view.label}")


if __name__ == "__main__":
    main()
