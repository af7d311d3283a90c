"""Policy-lab commands: `artdash simulate` and `artdash evaluate`."""

from __future__ import annotations

import click

from artdash.cli.base import main, open_workspace, print_table
from artdash.errors import ValidationError
from artdash.policy import registry

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



_LAB_POLICIES = tuple(registry.names())


@main.command()
@click.option("--impressions", default=20_000, show_default=True, help="Impressions per policy.")
@click.option("--batch", default=2_000, show_default=True, help="Policies learn every this many impressions.")
@click.option("--seed", default=0, show_default=True, help="Same seed, same run.")
@click.option("--policy", "policies", multiple=True, type=click.Choice(_LAB_POLICIES),
              default=registry.DEFAULT_LINEUP, show_default=True,
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
    same stream of members and titles, and print take rates with 95% intervals and regret
    (the table the Policy lab page shows). With the uniform policy in the run, also print the
    offline estimates on its log."""
    from artdash import lab

    ws = open_workspace()
    with ws.session() as s:
        world = lab.load_world(s)
    config = _lab_config(ws, world, impressions, batch, seed, policies, mixes, noise, strength, members)

    def progress(result):
        click.echo(f"  {result.n_done:,} / {config.impressions:,} impressions", err=True)

    result = lab.run_online(world, config, progress)
    click.echo(f"online: {result.n_done:,} impressions per policy in {result.seconds:.1f} s")
    print_table(lab.summary_for_display(result.summary()))
    if save:
        from artdash.lab import service

        finished = service.finish_run(ws, world, result, ws.settings.user, name, log_data)
        offline = finished.run.offline
    else:
        offline = lab.offline_on_run(world, result) if "uniform" in config.policies else None
    if offline is not None:
        click.echo("\noffline, on the uniform policy's whole log (each half scored by the policy trained on the other):")
        print_table(lab.offline_for_display(offline))
    if save:
        click.echo(f"\nsaved as lab run #{finished.run.id}")
        if finished.logged is not None:
            click.echo(f"wrote {finished.logged.n_inserted:,} simulated impressions to the results database "
                       f"(experiment lab-{finished.run.id})")


@main.command()
@click.option("--run", "run_id", type=int, help="A saved lab run: rerun it (same seed) and evaluate on its log.")
@click.option("--logger", default="uniform", show_default=True, type=click.Choice(_LAB_POLICIES),
              help="With --run: whose log to evaluate on.")
@click.option("--experiment", help="Evaluate on this experiment's impressions in the results database.")
@click.option("--cell", help="With --experiment: only this cell (the logging policy's impressions).")
@click.option("--policy", "policies", multiple=True, type=click.Choice(_LAB_POLICIES),
              default=registry.DEFAULT_LINEUP, show_default=True,
              help="A candidate policy to evaluate (repeatable).")
@click.option("--seed", default=0, show_default=True, help="Seed for cross-fitting and replay sampling.")
def evaluate(run_id, logger, experiment, cell, policies, seed):
    """Offline policy evaluation on the whole log: each candidate policy's value (quality
    plays per impression) estimated by replay, IPS, SNIPS, the direct method and doubly robust,
    with 95% intervals and effective sample sizes; each half of the log is scored by the
    policy trained on the other half (cross-fitting). Logs from a lab run also show the true
    value."""
    from artdash import lab

    if (run_id is None) == (experiment is None):
        raise ValidationError("give either --run ID (a saved lab run) or --experiment NAME (logged impressions)")
    from artdash.lab.service import evaluate_log, evaluate_run

    ws = open_workspace()
    with ws.session() as s:
        world = lab.load_world(s)
    if run_id is not None:
        table, result = evaluate_run(ws, world, run_id, logger, policies)
        click.echo(f"offline, on run #{run_id}'s {logger} log ({result.n_done:,} impressions):")
    else:
        table, info = evaluate_log(ws, world, experiment, cell, policies, seed)
        click.echo(f"offline, on {info.used:,} impressions of experiment {experiment!r}"
                   + (f", cell {cell!r}" if cell else "")
                   + "".join(f"; {note}" for note in lab.log_notes(info)) + ":")
    print_table(lab.offline_for_display(table))
