"""``flask --app wsgi users ...`` and ``flask --app wsgi tokens ...``: accounts from the shell."""
import click
from flask.cli import AppGroup

from webapp import accounts
from webapp.errors import AppError

users = AppGroup("users", help="Manage accounts.")
tokens = AppGroup("tokens", help="Manage API tokens.")


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
    click.echo(f"created {'admin' if user.is_admin else 'user'} {user.name}")


@users.command("promote")
@click.argument("name")
def promote(name: str):
    try:
        accounts.set_admin(name, True)
    except AppError as exc:
        _fail(exc)
    click.echo(f"{name} is now an admin")


@tokens.command("create")
@click.argument("user")
@click.argument("name")
def create_token(user: str, name: str):
    """Print a new token for USER: shown once, stored only hashed."""
    try:
        _, clear = accounts.create_token(accounts.get_user(user), name)
    except AppError as exc:
        _fail(exc)
    click.echo(clear)


@tokens.command("list")
@click.argument("user")
def list_tokens(user: str):
    try:
        for token in accounts.list_tokens(accounts.get_user(user)):
            click.echo(f"{token.id}\t{token.prefix}...\t{token.name}")
    except AppError as exc:
        _fail(exc)
