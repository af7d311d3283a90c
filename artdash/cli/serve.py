"""`artdash serve` (the decision service), `artdash keys` (its API keys), `artdash learn`."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path

import click

from artdash.cli.base import CommandGroup, main, open_workspace, print_table
from artdash.errors import NotFoundError, ValidationError


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 to accept other machines; put TLS in front).")
@click.option("--port", default=8600, show_default=True, type=click.IntRange(1, 65535))
@click.option("--refresh-seconds", default=15.0, show_default=True, type=click.FloatRange(min=0.1),
              help="How often the service reloads the catalog, the promoted policy, its trained version and the keys.")
@click.option("--reward-window-seconds", default=3600.0, show_default=True, type=click.FloatRange(min=1),
              help="An outcome later than this after its decision is kept but flagged late (not counted as a play).")
@click.option("--retrain-every", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Retrain the served policy after this many outcomes …")
@click.option("--retrain-seconds", default=30.0, show_default=True, type=click.FloatRange(min=1),
              help="… or after this long, whichever comes first: what members did reaches a model version within "
                   "about this long (versions superseded within the same quarter hour, never served, are not kept).")
@click.option("--flush-seconds", default=60.0, show_default=True, type=click.FloatRange(min=1),
              help="How often resolved decisions are written to the impression log (Results shows them as live traffic).")
@click.option("--sticky-hours", default=None, type=click.FloatRange(0, 2160),
              help="A member keeps the image of a title this long, across retrains (a new model version reaches "
                   "them at their next window); 0 turns stickiness off. Default: ARTDASH_STICKY_HOURS, else 24.")
@click.option("--learn/--no-learn", default=True, show_default=True,
              help="Run the learner beside the service (run exactly one learner per results store).")
@click.option("--no-keys", is_flag=True, help="Accept requests without an API key (a trial on 127.0.0.1 only).")
@click.option("--journal-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where this machine's workers journal decisions and outcomes before they reach the results "
                   "store (a local disk). Default: the data directory's journal/.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processes sharing the port (about one per core). Each journals its own decisions; one of "
                   "them is the learner, and another takes over if it dies.")
@click.option("--holdout", default=None, type=click.FloatRange(0, 0.5),
              help="Hold out this share of members (e.g. 0.05), chosen by member id, and serve them "
                   "--holdout-policy instead: Results then measures what personalisation earns, live. Stored, so "
                   "every replica and Preview apply it; 0 ends it. Default: keep the stored setting (none at first).")
@click.option("--seed", default=None, type=click.IntRange(min=0),
              help="With --sticky-hours 0, draw from this seed instead of the system's randomness: one worker "
                   "answering the same requests in the same order answers them the same (simulations, tests). "
                   "Not for serving members.")
@click.option("--holdout-policy", default="uniform", show_default=True, metavar="POLICY",
              help="What held-out members are served: a fixed rule with exact propensities (uniform, editors-pick).")
def serve(host, port, refresh_seconds, reward_window_seconds, retrain_every, retrain_seconds, flush_seconds,
          sticky_hours, learn, no_keys, journal_dir, workers, holdout, seed, holdout_policy):
    """Run the decision service: POST /v1/decide, POST /v1/outcomes, GET /v1/health,
    GET /v1/policy; OpenAPI docs at /docs. Requests carry an API key
    (`Authorization: Bearer <key>`, see `artdash keys create`)."""
    import uvicorn

    from artdash.serve import DecisionService, ServiceSettings
    from artdash.serve.http import create_app

    if no_keys and host not in ("127.0.0.1", "localhost", "::1"):
        raise ValidationError("--no-keys only on 127.0.0.1: a service other machines reach needs API keys")
    ws = open_workspace()
    if holdout is not None:
        from artdash.decision.holdout import set_holdout

        with ws.transaction() as s:
            held = set_holdout(s, holdout, holdout_policy, ws.settings.user)
        click.echo(held.describe())
    sticky_hours = ws.settings.sticky_hours if sticky_hours is None else sticky_hours
    settings = ServiceSettings(refresh_seconds=refresh_seconds, reward_window_seconds=reward_window_seconds,
                               retrain_every=retrain_every, retrain_seconds=retrain_seconds,
                               flush_seconds=flush_seconds, sticky_hours=sticky_hours, learn=learn,
                               require_keys=not no_keys, seed=seed,
                               journal_dir=str(journal_dir or ws.settings.data_dir / "journal"))
    if workers > 1:
        from artdash.serve.http import SETTINGS_ENV

        ws.close()              # migrated once, here; each worker opens its own
        os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(settings))
        click.echo(f"serving on http://{host}:{port} with {workers} workers — docs at /docs")
        uvicorn.run("artdash.serve.http:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False)
        return
    service = DecisionService(ws, settings)
    info = service.policy_info()
    click.echo(f"serving {info['label']} (model version {info['model_version']}) on http://{host}:{port} "
               f"— docs at /docs; {service.snapshot.n_titles} titles with active artwork")
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: as SystemExit, so
    # that the journal is closed and taken into the results store before the process ends
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(create_app(service), host=host, port=port, log_level="warning", access_log=False)
    finally:
        service.close()


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)


@main.command("learn")
@click.option("--full", is_flag=True,
              help="Retrain from the whole log with today's tags (by default a retrain adds only the decisions "
                   "resolved since the last version).")
def learn_once(full):
    """Once, now: write resolved decisions to the impression log and retrain the served policy
    (what `artdash serve` does on its schedule)."""
    from artdash.serve import DecisionService, ServiceSettings

    ws = open_workspace()
    service = DecisionService(ws, ServiceSettings(learn=False, sticky_hours=ws.settings.sticky_hours),
                              background=False)
    try:
        flushed, trained = service.learn_now(full=full)
    finally:
        service.close()
    click.echo(f"{flushed.n_decisions:,} decisions written to the impression log"
               + (f" (import #{flushed.import_id})" if flushed.import_id else ""))
    if trained is None:
        click.echo(f"{service.served.name}: nothing to retrain on")
    else:
        how = (f"{trained.new_rows:,} new since the last version" if trained.incremental
               else "from the whole log")
        click.echo(f"{trained.policy}: version {trained.version} trained on {trained.n_rows:,} decisions "
                   f"({how}; {trained.n_groups:,} context × variant groups read) in {trained.seconds:.2f} s")


@main.group(cls=CommandGroup)
def keys():
    """API keys for the decision service (admins). A key is shown once, when created; only its
    hash is kept."""


@keys.command("create")
@click.argument("name")
@click.option("--scope", "scopes", default="decide,outcomes", show_default=True,
              help="Comma-separated: decide, outcomes.")
@click.option("--rate", default=1000, show_default=True, type=int, help="Requests per second this key may make.")
def keys_create(name, scopes, rate):
    """Create a key NAME (say who uses it, e.g. 'web homepage') and print it once."""
    from artdash.access.api_keys import create_key

    ws = open_workspace()
    with ws.transaction() as s:
        new = create_key(s, ws.settings.user, name, scopes, rate)
    click.echo(f"created {new.key.name!r} ({', '.join(new.key.scopes)}; {new.key.rate_per_second:,} requests/s). "
               "Keep this key now; it is never shown again:", err=True)
    click.echo(new.secret)


@keys.command("list")
def keys_list():
    """Every key: name, prefix, scopes, rate limit, created, revoked, last used."""
    import pandas as pd

    from artdash.access.api_keys import list_keys

    ws = open_workspace()
    with ws.session() as s:
        rows = list_keys(s)
    print_table(pd.DataFrame([{"name": k.name, "prefix": k.prefix, "scopes": ",".join(k.scopes),
                               "rate/s": k.rate_per_second, "created": f"{k.created_at:%Y-%m-%d %H:%M}",
                               "by": k.created_by, "revoked": f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""}
                              for k in rows]))


@keys.command("revoke")
@click.argument("key")
def keys_revoke(key):
    """Revoke KEY (its name, prefix or id); the service refuses it from its next refresh."""
    from artdash.access.api_keys import revoke_key

    ws = open_workspace()
    with ws.transaction() as s:
        view = revoke_key(s, ws.settings.user, key)
    click.echo(f"revoked {view.name!r} ({view.prefix})")


@main.command("preview")
@click.option("--member", "member_id", default=None, metavar="ID", help="The member's id (as the service is sent it).")
@click.option("--tastes", default=None, metavar="JSON",
              help='Their tastes, tag → weight in −1 … 1, e.g. \'{"genre:romance": 0.8}\' (default: an imported '
                   "member's own, else none).")
@click.option("--country", default="", help="Two-letter country code.")
@click.option("--device", default="", help="tv, mobile, tablet, web …")
@click.option("--locale", default="", help="e.g. fr-FR.")
@click.option("--maturity", default="", help="The member's maturity limit (all, 7+, 13+, 16+, 18+).")
@click.option("--title", "titles", multiple=True, type=int, metavar="TITLE_ID", help="A title of the row (repeatable).")
@click.option("--requests", "requests_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Many members at once: a file of /v1/decide request bodies, one JSON object a line.")
@click.option("--sticky-hours", default=None, type=click.FloatRange(0, 2160),
              help="As the service runs (`artdash serve --sticky-hours`; default ARTDASH_STICKY_HOURS, else 24).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a line per request) instead of a table.")
def preview(member_id, tastes, country, device, locale, maturity, titles, requests_file, sticky_hours, as_json):
    """What the decision service answers a member now — the same decide function over the same
    model version, sticky window and eligibility as POST /v1/decide — without logging anything.

    \b
    Examples:
      artdash preview --member m-17 --title 3 --title 5 --json
      artdash preview --member new --tastes '{"genre:comedy": 0.9}' --country FR --title 3
      artdash preview --requests rows.jsonl --json
    """

    from artdash.serve import DecisionService, ServiceSettings

    bodies = []
    if requests_file is not None:
        for n, line in enumerate(requests_file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    bodies.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise ValidationError(f"{requests_file.name} line {n} is not JSON ({e.msg}); give one "
                                          "/v1/decide request body a line") from None
    if member_id is not None:
        member = {"id": member_id, "country": country, "device": device, "locale": locale, "maturity": maturity}
        if tastes is not None:
            try:
                member["tastes"] = json.loads(tastes)
            except json.JSONDecodeError as e:
                raise ValidationError(f"--tastes is not JSON ({e.msg}); e.g. '{{\"genre:romance\": 0.8}}'") from None
        bodies.append({"member": member, "titles": list(titles)})
    if not bodies:
        raise ValidationError("say whom to preview: --member ID with --title (repeatable), or --requests FILE")
    ws = open_workspace()
    sticky_hours = ws.settings.sticky_hours if sticky_hours is None else sticky_hours
    service = DecisionService(ws, ServiceSettings(learn=False, require_keys=False, sticky_hours=sticky_hours),
                              background=False)
    try:
        for body in bodies:
            decided = service.prepare(body)
            answer = {"member": body.get("member", {}).get("id") if isinstance(body, dict) else None,
                      "decisions": [{k: v for k, v in d.as_json().items() if k != "event_id"}
                                    for d in decided.decisions],
                      "policy": decided.policy, "model_version": decided.model_version,
                      "served_at": decided.at.isoformat()}
            if as_json:
                click.echo(json.dumps(answer))
                continue
            import pandas as pd

            click.echo(f"member {answer['member']}: {answer['policy']}, model version {answer['model_version']} "
                       "(nothing logged)")
            print_table(pd.DataFrame(answer["decisions"]))
    finally:
        service.close()


@main.group(cls=CommandGroup)
def models():
    """Trained versions of every policy, stored as artifacts: what each learnt from, when, by
    whom, and from when members are served it."""


@models.command("list")
@click.option("--policy", default=None, help="Only this policy's versions (a registry key, e.g. linucb).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
def models_list(policy, limit):
    """The stored versions, newest first."""
    import pandas as pd

    from artdash.decision.models import list_versions

    ws = open_workspace()
    with ws.results_engine.connect() as conn:
        found = list_versions(conn, policy)
    rows = [{"version": v["version"], "policy": v["policy"], "source": v["source"],
             "trained at": f"{v['trained_at']:%Y-%m-%d %H:%M:%S}", "by": v["trained_by"] or "—",
             "decisions": f"{v['n_rows']:,}", "in effect": v["in_effect"]}
            for v in found[:limit]]
    print_table(pd.DataFrame(rows))
    if len(found) > limit:
        click.echo(f"… and {len(found) - limit:,} older (--limit)")


@models.command("show")
@click.argument("version", type=int)
def models_show(version):
    """Everything stored about VERSION but its arrays."""
    from artdash.decision.models import list_versions

    ws = open_workspace()
    with ws.results_engine.connect() as conn:
        found = next((v for v in list_versions(conn) if v["version"] == version), None)
    if found is None:
        raise NotFoundError(f"there is no model version {version}; `artdash models list` lists them")
    for key in ("version", "policy", "label", "source", "trained_at", "trained_by", "n_rows", "data_from", "data_to",
                "catalog_fingerprint", "in_effect", "note"):
        value = found[key]
        click.echo(f"{key.replace('_', ' '):>20}: {'—' if value in (None, '') else value}")


@models.command("train")
@click.argument("policy")
@click.option("--experiment", required=True, help="The imported log's experiment to learn from "
              "(`artdash results imports` lists them).")
@click.option("--cell", default=None, help="Only this cell of it (e.g. the uniformly random one).")
def models_train(policy, experiment, cell):
    """Train POLICY (a registry key, e.g. linucb) on an imported impression log and store it as
    a new version: members meet it at their next sticky window, and the service's retrains go
    on from it, adding its own log. Each impression is weighed by 1 / its logged propensity."""
    from artdash.decision.imported import train_imported
    from artdash.results.service import impression_log

    ws = open_workspace()
    with ws.transaction() as s:
        made = train_imported(s, ws.results_engine, impression_log(ws), policy, experiment, ws.settings.user, cell)
    click.echo(f"stored {made.policy} version {made.version}: {made.rows:,} impressions ({made.quality_plays:,} "
               f"quality plays) from {made.data_from:%Y-%m-%d} to {made.data_to:%Y-%m-%d}; {made.known_members:,} from "
               "members with imported tastes. `artdash models show " f"{made.version}` says the rest")
