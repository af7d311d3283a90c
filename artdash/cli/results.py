"""`artdash results`: import, list, remove and rebuild impression logs."""

from __future__ import annotations

from pathlib import Path

import click

from artdash.cli.base import CommandGroup, main, open_workspace, print_table
from artdash.errors import ValidationError
from artdash.numbers import counted

# --------------------------------------------------------------------------------- results

@main.group(cls=CommandGroup)
def results():
    """The results database: import impression logs, declare experiment plans."""


@results.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mappings", multiple=True, metavar="FILE_COLUMN=COLUMN",
              help="Read a differently named column, e.g. --map ts=timestamp or --map userId=member_id "
                   "(repeatable; the file's unnamed column is --map =event_id). Only the columns ArtDash uses are "
                   "read, however wide the file.")
@click.option("--skip-unknown", is_flag=True, help="Skip (and count) rows whose variant is not in the catalog.")
@click.option("--event-id-prefix", default="", metavar="TEXT",
              help="Put TEXT before every event id of the file, e.g. b- (for a second export that numbers its "
                   "events from 0 again: its ids would collide with the first's).")
def results_import(file, mappings, skip_unknown, event_id_prefix):
    """Import an impression log FILE (CSV or Parquet), streamed in chunks, in one transaction.

    Columns: event_id, timestamp, member_id, title_id, variant_id, policy, propensity, played
    (play_seconds, experiment, cell, country, device optional: a log of clicks has no play
    durations and is read by its take rate). Re-importing adds nothing; any
    bad row is reported with its line number and nothing is imported (exit code 2); so is an
    event id imported before with a different row (give such a file --event-id-prefix).
    """
    from artdash.results.read import parse_column_mapping
    from artdash.results.service import import_log

    mapping = parse_column_mapping(mappings)
    ws = open_workspace()
    report = import_log(ws, file, file.name, ws.settings.user, mapping=mapping, skip_unknown=skip_unknown,
                        progress=lambda n: click.echo(f"  {n:,} rows checked", err=True),
                        event_id_prefix=event_id_prefix)
    if report.import_id is None:
        click.echo(f"nothing new: all {report.n_rows:,} rows were imported before "
                   f"({report.n_already_present:,} already present, {report.n_skipped_unknown:,} skipped); "
                   "no import was added")
    else:
        click.echo(f"imported {report.n_inserted:,} new impressions of {report.n_rows:,} rows as import "
                   f"#{report.import_id} ({report.n_already_present:,} already present, "
                   f"{report.n_skipped_unknown:,} skipped)")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


@results.command("report")
@click.argument("title", required=False)
@click.option("--experiment", default=None, metavar="NAME",
              help="Read one experiment (default: all real traffic, simulated runs left out).")
@click.option("--method", type=click.Choice(["sequential", "fixed", "bayesian"]), default=None,
              help="How lifts are judged (default: as the page — sequential, or fixed horizon once the "
                   "experiment's planned end has passed).")
@click.option("--confidence", type=click.Choice(["0.9", "0.95", "0.99"]), default="0.95", show_default=True)
@click.option("--control", type=int, default=None, metavar="VARIANT_ID",
              help="The variant lifts are measured against (default: the editor's pick, else the variant "
                   "with the most impressions).")
@click.option("--days", type=click.IntRange(min=0), default=30, show_default=True,
              help="The last N days of the selection's own data (0: everything).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--metric", type=click.Choice(["quality", "plays"]), default=None,
              help="What counts as success: quality plays (quality take rate) or any play (take rate). Default: "
                   "the experiment plan's metric, else what the log supports (a log without play durations is "
                   "read by take rate).")
@click.option("--cells", is_flag=True,
              help="Read the experiment's cells as arms (TITLE optional): each cell's members and take rate and "
                   "its lift over the control cell with its interval, across all titles and per title, and the "
                   "members' split against the plan. With --experiment live: the decision service's traffic as "
                   "served against holdout.")
@click.option("--calibration", is_flag=True,
              help="With --experiment live --cells: the calibration history instead — for each promotion, the "
                   "lab's, the offline and the shadow estimate of the promoted policy beside the quality take rate "
                   "it realised while it served, and whether each estimate's interval covered it.")
def results_report(title, experiment, method, confidence, control, days, fmt, metric, cells, calibration):
    """Print the A/B readout of TITLE (its id or exact name) as the Results page shows it: per
    variant the impressions, plays, quality take rate and the lift against the control with its
    interval, under one named method; a variant that cannot be judged says why in `note`.

    \b
    Examples:
      artdash results report "Harbour Lights"
      artdash results report 3 --experiment artwork-personalisation --method bayesian --format csv
      artdash results report --experiment artwork-personalisation --cells
      artdash results report --experiment live --cells
      artdash results report --experiment live --cells --calibration --format csv
    """
    import pandas as pd

    from artdash import numbers
    from artdash.results.review import title_review

    ws = open_workspace()
    if calibration and not cells:
        raise click.UsageError("--calibration reads the live traffic: add --experiment live --cells")
    if cells:
        if calibration:
            _calibration_report(ws, experiment, float(confidence), fmt)
        else:
            _holdout_report(ws, title, experiment, method, float(confidence), days, fmt, metric)
        return
    if title is None:
        raise click.UsageError("say which title (its id or exact name), or --experiment live --cells")
    review = title_review(ws, title, experiment=experiment, method=method, confidence=float(confidence),
                          control=control, days=days or None, metric=metric)
    frame = review.frame()
    if echo_frame(frame, fmt):
        return
    report = review.report
    click.echo(f"{review.title} (#{review.title_id}) — {frame['experiment'].iloc[0] if len(frame) else 'no data'}"
               + (f", {frame['date_from'].iloc[0]} – {frame['date_to'].iloc[0]}" if len(frame) else ""))
    if report.empty:
        click.echo("No impressions of this title in this selection.")
        return
    click.echo(f"Metric: {report.metric.rate_name} — {review.metric_reason}")
    click.echo(f"Method: {report.method}")
    name = report.metric.rate_name
    print_table(pd.DataFrame([{
        "variant": f"#{r.variant_id}", "impressions": numbers.count(r.impressions), "plays": numbers.count(r.plays),
        "quality plays": numbers.count(r.quality_plays), name: numbers.rate(r.estimate.rate),
        f"{name} CI": numbers.rate_range(r.estimate.interval.low, r.estimate.interval.high),
        "lift": "control" if r.is_control else numbers.change(r.lift),
        "lift CI": "control" if r.is_control else numbers.change_range(r.lift_low, r.lift_high),
        "significant": "yes" if r.significant else "no", "P(best)": numbers.rate(r.p_best),
        "note": "" if r.is_control else r.note,
    } for r in report.rows]))


def echo_frame(frame, fmt: str) -> bool:
    """Print ``frame`` as CSV or JSON when ``fmt`` asks for one; False for a table (the caller's)."""
    from artdash.export import csv_bytes

    if fmt == "csv":
        click.echo(csv_bytes(frame).decode(), nl=False)
        return True
    if fmt == "json":
        click.echo(frame.to_json(orient="records", indent=2))
        return True
    return False


def _holdout_report(ws, title, experiment, method, confidence, days, fmt, metric=None) -> None:
    """`report --cells`: the live traffic as served against holdout."""
    import pandas as pd

    from artdash import numbers
    from artdash.serve.holdout_readout import LIVE, holdout_table

    if experiment is None:
        raise ValidationError("--cells compares an experiment's cells: say which with --experiment NAME, or "
                              "--experiment live for the decision service's traffic served against holdout")
    if experiment != LIVE:
        _cells_report(ws, title, experiment, method, confidence, fmt, metric)
        return
    readout, frame = holdout_table(ws, title, method, confidence, days or None)
    if echo_frame(frame, fmt):
        return
    click.echo(f"Live traffic, served against holdout: {readout.holdout.describe()}.")
    click.echo(f"Method: {readout.method.describe(readout.confidence)}; members are the unit (clustered).")
    if readout.srm is not None:
        click.echo(("Members' split: " + readout.srm.reason) if readout.srm.mismatch else
                   f"Members' split matches the holdout's share (χ² p = {readout.srm.p_value:.2f}; a mismatch is "
                   "p < 0.001: assignment or logging broken)")
    print_table(pd.DataFrame([{
        "title": r["title"], "members (served / holdout)": f"{numbers.count(r['served members'])} / "
                                                            f"{numbers.count(r['holdout members'])}",
        "served rate": numbers.rate(r["served rate"]), "holdout rate": numbers.rate(r["holdout rate"]),
        "lift": numbers.change(r["lift"]), "lift CI": numbers.change_range(r["lift low"], r["lift high"]),
        "note": r["note"]} for r in frame.to_dict(orient="records")]))


def _cells_report(ws, title, experiment, method, confidence, fmt, metric=None) -> None:
    """`report --experiment NAME --cells`: the experiment's cells as arms, lifts over the control cell."""
    import pandas as pd

    from artdash import numbers
    from artdash.results.cells import cell_comparison
    from artdash.results.review import find_title

    readout, frame = cell_comparison(ws, experiment, method, confidence, metric=metric)
    if title is not None:
        chosen = find_title(ws, title)[0]
        frame = frame[frame["title_id"].isna() | (frame["title_id"] == chosen)]
    if echo_frame(frame, fmt):
        return
    click.echo(f"{experiment}: its cells as arms, lift over {readout.control} (members are the unit, clustered).")
    click.echo(f"Metric: {readout.metric.replace('_', ' ')} per impression")
    click.echo(f"Method: {readout.method.describe(readout.confidence)}")
    if readout.srm is not None:
        click.echo(("Members' split: " + readout.srm.reason) if readout.srm.mismatch else
                   f"Members' split matches the {readout.split_name} (χ² p = {readout.srm.p_value:.2f}; a mismatch is "
                   "p < 0.001: assignment or logging broken)")
    print_table(pd.DataFrame([{
        "title": r["title"], "cell": r["cell"] + (" (control)" if r["control"] else ""),
        "members": numbers.count(r["members"]), "impressions": numbers.count(r["impressions"]),
        "rate": numbers.rate(r["rate"]), "lift": "" if r["control"] else numbers.change(r["lift"]),
        "lift CI": numbers.change_range(r["lift low"], r["lift high"]),
        "note": "" if r["control"] else r["note"]} for r in frame.to_dict(orient="records")]))


def _calibration_report(ws, experiment, confidence, fmt) -> None:
    """`report --cells --calibration`: every promotion's estimates beside what came true."""
    import pandas as pd

    from artdash import numbers
    from artdash.lab.estimates import SOURCE_LABELS
    from artdash.serve.calibration import calibration_history, calibration_table, coverage
    from artdash.serve.holdout_readout import LIVE

    if experiment != LIVE:
        raise ValidationError("--calibration reads the decision service's live traffic: add --experiment live")
    history = calibration_history(ws, confidence)
    frame = calibration_table(history)
    if echo_frame(frame, fmt):
        return
    if frame.empty:
        click.echo("No policy has been promoted yet: nothing to calibrate.")
        return
    click.echo(f"Calibration history: each promotion's estimates of the promoted policy's quality take rate beside "
               f"what it realised while it served ({confidence:.0%} intervals; members not held out).")
    for source, (hit, judged) in coverage(history).items():
        click.echo(f"  {SOURCE_LABELS[source]}: {hit} of {judged} covered")
    print_table(pd.DataFrame([{
        "promotion": f"#{r['promotion']} {r['policy']}", "promoted": f"{r['promoted at']:%Y-%m-%d %H:%M}",
        "source": r["source"], "estimate": numbers.rate(r["estimate"]),
        "estimate CI": numbers.rate_range(r["estimate low"], r["estimate high"]),
        "realised": numbers.rate(r["realised rate"]),
        "realised CI": numbers.rate_range(r["realised low"], r["realised high"]),
        "covered": r["covered"] or "—", "note": r["note"]} for r in frame.to_dict(orient="records")]))


@results.command("remove")
@click.argument("import_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def results_remove(import_id, yes):
    """Remove one import (its impressions and their share of the rollups), e.g. a log imported
    by mistake. `artdash results imports` lists them; the Import tab of Results shows them too."""
    from artdash.results.service import remove_import

    ws = open_workspace()
    if not yes and not click.confirm(f"Remove import #{import_id} and all its impressions?", default=False):
        raise SystemExit(1)
    removed = remove_import(ws, import_id, ws.settings.user)
    click.echo(f"removed import #{import_id}: {counted(removed, 'impression')}")


@results.command("imports")
def results_imports():
    """List the imports in the results database, newest first."""
    from artdash.results import queries

    ws = open_workspace()
    with ws.results_engine.connect() as conn:
        print_table(queries.import_history(conn))


@results.command("rebuild")
def results_rebuild():
    """Recompute the daily rollups from the stored impressions, e.g. after changing
    ARTDASH_QUALITY_PLAY_SECONDS (quality plays are otherwise counted at import time)."""
    from artdash.access import audit
    from artdash.results.ingest import rebuild_rollups
    from artdash.results.service import impression_log

    ws = open_workspace()
    seconds = ws.settings.quality_play_seconds
    count = rebuild_rollups(impression_log(ws), seconds)
    with ws.transaction() as s:
        audit.record(s, ws.settings.user, "rebuild", "rollups", "", after={"impressions": count,
                                                                        "quality seconds": seconds})
    click.echo(f"rebuilt the rollups from {count:,} impressions (quality plays: at least {seconds:g} s)")


@results.command("rollup")
@click.option("--engine", "engine_name", default="embedded", show_default=True, metavar="NAME",
              help="A registered rollup engine (artdash.results.rollups.ROLLUP_ENGINES) — built in: embedded, "
                   "DuckDB over the Parquet log (or the database holding the impressions); spark, Apache Spark over "
                   "the same Parquet log.")
@click.option("--log", "log_path", default=None, metavar="PATH",
              help="Spark only: read the log from here instead of ARTDASH_RESULTS_LOG_DIR — the same "
                   "folder layout in HDFS or object storage (hdfs://…, s3a://…).")
@click.option("--master", default="local[2]", show_default=True, help="Spark only: the Spark master URL.")
def results_rollup(engine_name, log_path, master):
    """Recompute every rollup the pages read from the whole impression log, with the chosen
    engine, and replace the stored ones (quality plays at ARTDASH_QUALITY_PLAY_SECONDS).
    Spark is the path beyond one machine; its numbers equal the embedded engine's."""
    from artdash.access import audit
    from artdash.results.rollups import ROLLUP_ENGINES
    from artdash.results.service import impression_log

    if engine_name not in ROLLUP_ENGINES:
        raise click.BadParameter(f"{engine_name!r} is not a rollup engine; one of: {', '.join(ROLLUP_ENGINES)}",
                                 param_hint="--engine")
    ws = open_workspace()
    seconds = ws.settings.quality_play_seconds
    click.echo(f"rolling up with {engine_name}: {ROLLUP_ENGINES[engine_name].summary} …", err=True)
    count = ROLLUP_ENGINES[engine_name].run(impression_log(ws), seconds, path=log_path, master=master)
    with ws.transaction() as s:
        audit.record(s, ws.settings.user, "rebuild", "rollups", "", after={"impressions": count, "engine": engine_name,
                                                                        "quality seconds": seconds})
    click.echo(f"rolled up {count:,} impressions with {engine_name} (quality plays: at least {seconds:g} s)")


@results.command("plan")
@click.argument("experiment")
@click.option("--split", "split", metavar="CELL=WEIGHT,…",
              help="The planned share of traffic per cell, as weights: control=9,bandit=1 is 90% / 10%.")
@click.option("--end", "end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the experiment is planned to end (YYYY-MM-DD); until then Results reviews it with "
                   "sequential intervals.")
@click.option("--metric", type=click.Choice(["quality", "plays", "auto"]), default="auto", show_default=True,
              help="What its readout counts as success: quality plays, any play (take rate), or auto — what the "
                   "log supports (take rate when its plays carry no duration).")
def results_plan(experiment, split, end, metric):
    """Show or declare EXPERIMENT's plan: the split the sample-ratio check compares with, and
    its planned end. Without --split, prints the plan."""
    from artdash.results import plans

    ws = open_workspace()
    if split is None:
        if end is not None:
            raise ValidationError("give --split with --end (a plan is the split and its end together)")
        plan = plans.get_plan(ws.results_engine, experiment)
        if plan is None:
            click.echo(f"{experiment}: no plan declared (the sample-ratio check assumes an equal split)")
            return
    else:
        plan = plans.set_plan(ws, experiment, plans.parse_weights(split), end.date() if end else None,
                              ws.settings.user, None if metric == "auto" else metric)
    ending = f", ends {plan.planned_end:%Y-%m-%d}" if plan.planned_end else ", no planned end"
    counts = f"; metric: {plan.metric.replace('_', ' ')}" if plan.metric else "; metric: what the log supports"
    click.echo(f"{plan.experiment}: {plan.describe()}{ending}{counts} (by {plan.updated_by})")


@results.group("source", cls=CommandGroup)
def source():
    """Logs read where they live: a table or view in another database, aggregated there."""


@source.command("add")
@click.argument("name")
@click.option("--url", required=True,
              help="SQLAlchemy URL of the database (no password), or env:VARIABLE holding it (with one).")
@click.option("--table", "table", required=True, help="The table or view: NAME or SCHEMA.NAME.")
@click.option("--map", "mappings", multiple=True, metavar="SOURCE_COLUMN=COLUMN",
              help="Which source column is which: e.g. --map shown_at=timestamp --map viewer=member_id. Needed: "
                   "timestamp, member_id, title_id, variant_id, played, play_seconds; optional: experiment, cell, "
                   "country, device, policy. A column already named so needs no --map.")
def source_add(name, url, table, mappings):
    """Register source NAME and count it in: its rollups are computed by that database (only the
    sums come back) and reviewed on Results like any log."""
    from artdash.results.read import parse_column_mapping
    from artdash.results.sources import add_source

    given = parse_column_mapping(mappings)              # {source column: artdash column}
    mapping = {target: column for column, target in given.items()}
    ws = open_workspace()
    report = add_source(ws, name, url, table, mapping, ws.settings.user)
    _echo_refresh(report)


def _echo_refresh(report) -> None:
    click.echo(f"{report.name}: {counted(report.impressions, 'impression')} over {counted(report.days, 'day')} counted where they live"
               + (f" (experiments: {', '.join(report.experiments)})" if report.experiments else ""))
    if report.unknown_impressions:
        click.echo(f"warning: {report.unknown_impressions:,} impressions of variants this catalog does not have were "
                   "left out", err=True)


@source.command("refresh")
@click.argument("name")
def source_refresh(name):
    """Count source NAME in again (what it added last time is replaced)."""
    from artdash.results.sources import refresh_source

    ws = open_workspace()
    _echo_refresh(refresh_source(ws, name, ws.settings.user))


@source.command("list")
def source_list():
    """The registered sources."""
    from artdash.results.sources import list_sources

    rows = [{"name": s.name, "table": s.table, "url": s.url, "impressions": f"{s.impressions:,}",
             "refreshed": f"{s.refreshed_at:%Y-%m-%d %H:%M}" if s.refreshed_at else "never"}
            for s in list_sources(open_workspace().results_engine)]
    if not rows:
        click.echo("no sources: `artdash results source add NAME --url … --table …` registers one")
        return
    import pandas as pd

    print_table(pd.DataFrame(rows))


@source.command("remove")
@click.argument("name")
def source_remove(name):
    """Take source NAME's sums out of Results and forget it (its database is not touched)."""
    from artdash.results.sources import remove_source

    ws = open_workspace()
    n = remove_source(ws, name, ws.settings.user)
    click.echo(f"removed {name}: its {counted(n, 'impression')} are no longer counted")
