"""``flask --app wsgi users ...`` and ``flask --app wsgi tokens ...``: accounts from the shell."""
import click
from flask.cli import AppGroup

from webapp import accounts, audit
from webapp.errors import AppError

users = AppGroup("users", help="Manage accounts.")
tokens = AppGroup("tokens", help="Manage API tokens.")
SHELL = "flask command"  # the audit log's "by" for what was done from the server's shell


def _fail(exc: AppError):
    raise click.ClickException(f"{exc.code}: {exc.message}")


@users.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.password_option(help="Asked for when not given.")
def create_user(name: str, admin: bool, password: str):
    try:
        user = accounts.create_user(name, password, admin=admin)
    except AppError as exc:
        _fail(exc)
    audit.record("user_created", target=f"user:{user.name}", details={"admin": admin, "by": SHELL})
    click.echo(f"created {'admin' if user.is_admin else 'user'} {user.name}")


@users.command("promote")
@click.argument("name")
def promote(name: str):
    try:
        accounts.set_admin(name, True)
    except AppError as exc:
        _fail(exc)
    audit.record("role_changed", target=f"user:{name}", details={"admin": True, "by": SHELL})
    click.echo(f"{name} is now an admin")


@users.command("deactivate")
@click.argument("name")
def deactivate(name: str):
    """Ban NAME: every login and API token of theirs ends, their connections close."""
    from flask import current_app

    from webapp.chat.cluster import close_room_everywhere

    try:
        user = accounts.ban(name)
    except AppError as exc:
        _fail(exc)
    audit.record("ban", target=f"user:{user.id}", details={"name": user.name, "by": SHELL})
    # The order reaches running servers through Redis; without it, only this process (which
    # has no connections), so open ones last until they drop (an admin's "ban" in chat closes
    # them at once). Their logins and tokens are refused either way.
    close_room_everywhere(f"user:{user.id}")
    reached = "closed on every process" if current_app.config["REDIS_URL"] else (
        "not reached without REDIS_URL: open ones stay until they reconnect"
    )
    click.echo(f"{user.name} is deactivated; logins and tokens ended; connections {reached}")


@users.command("reset-2fa")
@click.argument("name")
def reset_two_factor(name: str):
    """Turn two-factor off for NAME (phone and recovery codes lost); they enrol again."""
    from webapp import twofactor

    try:
        user = accounts.get_user(name)
    except AppError as exc:
        _fail(exc)
    twofactor.disable(user)
    accounts.end_sessions(user)
    audit.record("2fa_reset", target=f"user:{user.name}", details={"by": SHELL})
    click.echo(f"two-factor is off for {user.name}; their logins ended")


@tokens.command("create")
@click.argument("user")
@click.argument("name")
def create_token(user: str, name: str):
    """Print a new token for USER: shown once, stored only hashed."""
    try:
        token, clear = accounts.create_token(accounts.get_user(user), name)
    except AppError as exc:
        _fail(exc)
    audit.record("token_created", target=f"token:{token.id}",
                 details={"name": token.name, "prefix": token.prefix, "by": SHELL})
    click.echo(clear)


@tokens.command("list")
@click.argument("user")
def list_tokens(user: str):
    try:
        for token in accounts.list_tokens(accounts.get_user(user)):
            click.echo(f"{token.id}\t{token.prefix}...\t{token.name}")
    except AppError as exc:
        _fail(exc)
