"""Catalog commands: `artdash demo`, `title`, `upload`, `members`, `tag`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from artdash import catalog
from artdash.cli.base import CommandGroup, main, open_workspace
from artdash.errors import ArtdashError, NotFoundError, ValidationError

# --------------------------------------------------------------------------------- demo

@main.command()
@click.option("--if-empty", is_flag=True, help="Only when the catalog has no titles yet (used by `make run`).")
@click.option("--impressions", "demo_impressions", default=200_000, show_default=True,
              help="Simulated impressions for the results database (added only when it is empty).")
def demo(if_empty, demo_impressions):
    """Load the demo catalog: 14 titles with generated, tagged artwork (skips titles already there)."""
    from artdash.demo import DEMO_TITLES, load_demo

    ws = open_workspace()
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
    from artdash.demo import load_demo_models

    version = load_demo_models(ws)
    if version is not None:
        click.echo(f"trained model version {version} of the default policy on a simulated log (what Preview shows "
                   "and the decision service serves until it has learnt from live traffic)")
    from artdash.demo.results import load_demo_results
    from artdash.results import queries

    with ws.results_engine.connect() as conn:
        has_results = queries.count_impressions(conn) > 0
    if not has_results:
        click.echo(f"simulating {demo_impressions:,} impressions for the results database…")
        report = load_demo_results(ws, n=demo_impressions, actor=ws.settings.user)
        click.echo(f"added {report.n_inserted:,} simulated impressions over 30 days to the results database")


# --------------------------------------------------------------------------------- titles

@main.group(cls=CommandGroup)
def title():
    """Titles: add, import many (a manifest), list."""


@title.command("add")
@click.argument("name")
@click.option("--year", type=int, help="Release year, e.g. 2017.")
@click.option("--kind", type=click.Choice(["movie", "series"]), default="movie", show_default=True)
@click.option("--synopsis", default="", help="One or two sentences.")
@click.option("--genre", "genres", multiple=True, help="A genre from the taxonomy (repeat for several).")
@click.option("--cast", "cast", multiple=True, help="A cast member (repeat for several; added to the taxonomy).")
def title_add(name, year, kind, synopsis, genres, cast):
    """Add a title called NAME."""
    ws = open_workspace()
    settings = ws.settings
    with ws.transaction() as s:
        view = catalog.create_title(s, name=name, year=year, kind=kind, synopsis=synopsis, genres=genres,
                                    cast=cast, actor=settings.user)
    click.echo(f"added title #{view.id}: {view.display_name}")


@title.command("import")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--images", "images", required=True, type=click.Path(exists=True, path_type=Path),
              help="A folder of the images the manifest names, or a ZIP of them.")
def title_import(manifest, images):
    """Create many titles and variants from MANIFEST (CSV or JSON) and a folder or ZIP of
    images: one step, all or nothing, every image validated as an upload.

    \b
    CSV columns: title,year,kind,synopsis,genres,cast,image,label,status
    (title and image required; genres and cast separated by ';'; status draft or active).
    A title the catalog has (same name, year and kind) is reused, not changed.
    """
    ws = open_workspace()
    if images.is_dir():
        source = catalog.ImageSource.folder(images)
    else:
        source = catalog.ImageSource.archive(images.read_bytes(), ws.settings.limits)
    report = catalog.import_manifest(ws.sessions, ws.store, manifest.read_bytes(), manifest.name, source,
                                     ws.settings.user, ws.settings.limits,
                                     progress=lambda done, total: click.echo(f"  {done:,}/{total:,} images",
                                                                             err=True) if done % 50 == 0 else None)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"imported {len(report.variant_ids):,} variants: {len(report.titles_created):,} new titles, "
               f"{len(report.titles_reused):,} already in the catalog")


@title.command("list")
def title_list():
    """List titles with their variant counts."""
    ws = open_workspace()
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
    ws = open_workspace()
    with ws.session() as s:
        title_id = _find_title_id(s, title_ref)
    readable: list[tuple[str, bytes]] = []
    unreadable: list[catalog.UploadResult] = []
    for path in files:
        try:
            readable.append((path.name, path.read_bytes()))
        except OSError as exc:
            unreadable.append(catalog.UploadResult(file_name=path.name, accepted=False,
                                                   reason=f"cannot read the file: {exc.strerror}"))
    report = catalog.upload_files(ws.sessions, ws.store, title_id, readable, ws.settings.user, ws.settings.limits)
    results = list(report.results) + unreadable
    for r in results:
        mark = click.style("✓", fg="green") if r.accepted else click.style("✗", fg="red")
        what = f"variant #{r.variant_id} ({r.width}×{r.height})" if r.accepted else f"refused: {r.reason}"
        click.echo(f"{mark} {r.file_name}: {what}")
        for w in r.warnings:
            click.echo(f"    warning: {w}")
    n_refused = sum(not r.accepted for r in results)
    click.echo(f"{len(results) - n_refused} accepted, {n_refused} refused")
    sys.exit(1 if n_refused else 0)


# --------------------------------------------------------------------------------- variants

@main.group()
def variants():
    """Variants (artwork images) in bulk."""


@variants.command("status")
@click.argument("status", type=click.Choice(["draft", "active", "retired"]))
@click.argument("variant_ids", nargs=-1, type=int)
@click.option("--title", "title_ref", default=None, metavar="TITLE",
              help="Every variant of this title (an id or an exact name) instead of listing ids.")
@click.option("--from", "from_status", type=click.Choice(["draft", "active", "retired"]), default=None,
              help="Only the variants that have this status now (e.g. --from draft to activate every draft).")
def variants_status(status, variant_ids, title_ref, from_status):
    """Move several variants to STATUS at once: all of them, or none if any cannot make the
    move (draft → active → retired; a retired one may be reactivated).

    \b
    artdash variants status active 12 13 14
    artdash variants status active --title "Harbour Lights" --from draft
    """
    ws = open_workspace()
    with ws.session() as s:
        ids = list(variant_ids)
        if title_ref is not None:
            ids += [v.id for v in catalog.list_variants(s, _find_title_id(s, title_ref))]
        if from_status is not None:
            found = catalog.variants_by_id(s, ids)
            ids = [i for i in ids if i in found and found[i].status == from_status]
    if not ids:
        raise ValidationError("no variant to change: give variant ids, or --title (with --from, some of them must "
                              "have that status)")
    with ws.transaction() as s:
        changed, already = catalog.bulk_status(s, ids, status, ws.settings.user)
    click.echo(f"{changed:,} variant(s) now {status}" + (f" ({already:,} already were)" if already else ""))


@variants.command("pick")
@click.argument("title_ref", metavar="TITLE")
@click.argument("variant", required=False, type=int, metavar="VARIANT_ID")
@click.option("--clear", is_flag=True, help="Clear the title's pick (the editor's-pick policy then shows its first active variant).")
def variants_pick(title_ref, variant, clear):
    """Make VARIANT_ID the editor's pick of TITLE (an id or an exact name) — the image the
    editor's-pick policy shows and Results' default control — as the gallery's star does.

    \b
    artdash variants pick "Harbour Lights" 14
    artdash variants pick 3 --clear
    """
    if (variant is None) == (not clear):
        raise click.UsageError("give the variant's id, or --clear")
    ws = open_workspace()
    with ws.transaction() as s:
        title_id = _find_title_id(s, title_ref)
        chosen = catalog.set_editors_pick(s, title_id, None if clear else variant, ws.settings.user)
        name = catalog.get_title(s, title_id).name
    click.echo(f"{name} (#{title_id}): " + (f"the editor's pick is now variant #{chosen}" if chosen is not None
                                            else "no editor's pick"))


@variants.command("where")
@click.argument("variant_ids", nargs=-1, type=int)
@click.option("--title", "title_ref", default=None, metavar="TITLE",
              help="Every variant of this title (an id or an exact name) instead of listing ids.")
@click.option("--territories", default=None, metavar="CODES",
              help="Two-letter country codes, comma-separated (FR,BE); '' for every country.")
@click.option("--languages", default=None, metavar="TAGS", help="Language tags (fr,pt-BR); '' for every language.")
@click.option("--from", "available_from", default=None, metavar="WHEN",
              help="Shown from this moment (ISO 8601, e.g. 2027-01-01 or 2027-01-01T06:00Z); '' for no start.")
@click.option("--until", "available_until", default=None, metavar="WHEN",
              help="Not shown from this moment on (a takedown); '' for no end.")
@click.option("--maturity", type=click.Choice(["all", "7+", "13+", "16+", "18+"]), default=None)
@click.option("--hold/--approve", "hold", default=None, help="Hold back (never shown) or approve to be shown.")
def variants_where(variant_ids, title_ref, territories, languages, available_from, available_until, maturity, hold):
    """Set where, when and to whom variants may be shown — only the rules given; all the
    variants or none. The decision service picks it up at its next refresh (a window's end
    applies at once).

    \b
    artdash variants where 12 13 --territories FR,BE --languages fr
    artdash variants where --title "Harbour Lights" --until 2027-06-30
    """
    from artdash import clock
    from artdash.catalog.eligibility import set_eligibility

    ws = open_workspace()
    with ws.session() as s:
        ids = list(variant_ids) + ([v.id for v in catalog.list_variants(s, _find_title_id(s, title_ref))]
                                   if title_ref is not None else [])
    rules: dict = {}
    for name, value in (("territories", territories), ("languages", languages)):
        if value is not None:
            rules[name] = value
    for name, value in (("available_from", available_from), ("available_until", available_until)):
        if value is not None:
            try:
                rules[name] = clock.parse_moment(value) if value.strip() else None
            except ArtdashError:
                raise ValidationError(f"--{name.split('_')[1]} must be a date or time such as 2027-01-01 or "
                                      f"2027-01-01T06:00Z (got {value!r})") from None
    if maturity is not None:
        rules["maturity"] = maturity
    if hold is not None:
        rules["approved"] = not hold
    if not rules:
        raise ValidationError("say what to set: --territories, --languages, --from, --until, --maturity, --hold or --approve")
    with ws.transaction() as s:
        changed = set_eligibility(s, ids, ws.settings.user, **rules)
        views = catalog.variants_by_id(s, ids)
    click.echo(f"{changed:,} of {len(ids):,} variant(s) changed")
    for i in ids:
        click.echo(f"#{i} {views[i].label}: {views[i].eligibility.summary()}")


# --------------------------------------------------------------------------------- members

@main.group(cls=CommandGroup)
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

    ws = open_workspace()
    with ws.transaction() as s:
        report = history.import_history(s, file.read_bytes(), file.name, ws.settings.user)
    click.echo(f"imported {report.n_new_views} new views for {report.n_members} member(s) "
               f"({report.n_new_members} new)")


# --------------------------------------------------------------------------------- tags

@main.group(cls=CommandGroup)
def tag():
    """The tag taxonomy: list and add tags."""


@tag.command("list")
@click.option("--facet", help="Only this facet.")
def tag_list(facet):
    """List facets and their tags with usage counts."""
    from artdash.catalog.taxonomy import list_facets

    ws = open_workspace()
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

    ws = open_workspace()
    with ws.transaction() as s:
        view = add_tag(s, facet, name, ws.settings.user)
    click.echo(f"added {view.label}")
