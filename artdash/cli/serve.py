"""`artdash serve` (the decision service), `artdash keys` (its API keys), `artdash learn`."""

from __future__ import annotations

import click

from artdash.cli.base import CommandGroup, main, open_workspace, print_table


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
@click.option("--retrain-seconds", default=600.0, show_default=True, type=click.FloatRange(min=1),
              help="… or after this long, whichever comes first.")
@click.option("--flush-seconds", default=60.0, show_default=True, type=click.FloatRange(min=1),
              help="How often resolved decisions are written to the impression log (Results shows them as live traffic).")
@click.option("--learn/--no-learn", default=True, show_default=True,
              help="Run the learner beside the service (run exactly one learner per results store).")
@click.option("--no-keys", is_flag=True, help="Accept requests without an API key (a trial on 127.0.0.1 only).")
def serve(host, port, refresh_seconds, reward_window_seconds, retrain_every, retrain_seconds, flush_seconds,
          learn, no_keys):
    """Run the decision service: POST /v1/decide, POST /v1/outcomes, GET /v1/health,
    GET /v1/policy; OpenAPI docs at /docs. Requests carry an API key
    (`Authorization: Bearer <key>`, see `artdash keys create`)."""
    import uvicorn

    from artdash.errors import ValidationError
    from artdash.serve import DecisionService, ServiceSettings
    from artdash.serve.http import create_app

    if no_keys and host not in ("127.0.0.1", "localhost", "::1"):
        raise ValidationError("--no-keys only on 127.0.0.1: a service other machines reach needs API keys")
    settings = ServiceSettings(refresh_seconds=refresh_seconds, reward_window_seconds=reward_window_seconds,
                               retrain_every=retrain_every, retrain_seconds=retrain_seconds,
                               flush_seconds=flush_seconds, learn=learn, require_keys=not no_keys)
    service = DecisionService(open_workspace(), settings)
    info = service.policy_info()
    click.echo(f"serving {info['label']} (model version {info['model_version']}) on http://{host}:{port} "
               f"— docs at /docs; {service.snapshot.n_titles} titles with active artwork")
    try:
        uvicorn.run(create_app(service), host=host, port=port, log_level="warning", access_log=False)
    finally:
        service.close()


@main.command("learn")
@click.option("--full", is_flag=True,
              help="Retrain from the whole log with today's tags (by default a retrain adds only the decisions "
                   "resolved since the last version).")
def learn_once(full):
    """Once, now: write resolved decisions to the impression log and retrain the served policy
    (what `artdash serve` does on its schedule)."""
    from artdash.serve import DecisionService, ServiceSettings

    service = DecisionService(open_workspace(), ServiceSettings(learn=False), background=False)
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
