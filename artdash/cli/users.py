"""`artdash user`: accounts and roles."""

from __future__ import annotations

import os

import click

from artdash.cli.base import CommandGroup, main, open_workspace

# --------------------------------------------------------------------------------- users

def _new_password() -> str:
    """From ARTDASH_NEW_PASSWORD (scripts) or asked twice, hidden."""
    return os.environ.get("ARTDASH_NEW_PASSWORD") or click.prompt("Password", hide_input=True,
                                                                  confirmation_prompt=True)


@main.group(cls=CommandGroup)
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
    ws = open_workspace()
    with ws.transaction() as s:
        view = auth.add_user(s, name, role, ws.settings.user, password)
    click.echo(f"added {view.name} ({view.role}{', with a password' if view.has_password else ''})")


@user.command("remove")
@click.argument("name")
def user_remove(name):
    """Remove an account (the last admin cannot be removed)."""
    from artdash.access import auth

    ws = open_workspace()
    with ws.transaction() as s:
        auth.remove_user(s, name, ws.settings.user)
    click.echo(f"removed {name}")


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(["viewer", "editor", "admin"]))
def user_set_role(name, role):
    """Change an account's role."""
    from artdash.access import auth

    ws = open_workspace()
    with ws.transaction() as s:
        view = auth.set_role(s, name, role, ws.settings.user)
    click.echo(f"{view.name} is now {view.role}")


@user.command("passwd")
@click.argument("name")
def user_passwd(name):
    """Set a new password (also unlocks an account locked by failed sign-ins)."""
    from artdash.access import auth

    password = _new_password()
    ws = open_workspace()
    with ws.transaction() as s:
        auth.set_password(s, name, password, ws.settings.user)
    click.echo(f"password of {name} changed")


@user.command("list")
def user_list():
    """Accounts and their roles."""
    from artdash.access import auth

    ws = open_workspace()
    with ws.session() as s:
        users = auth.list_users(s)
    if not users:
        click.echo("no accounts: the app runs as the local admin for everyone")
    for u in users:
        click.echo(f"{u.name}\t{u.role}\t{'password' if u.has_password else 'OIDC'}")
