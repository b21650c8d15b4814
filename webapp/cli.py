"""``flask --app wsgi chat ...``: commands for operators and scripts."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from webapp.chat import changes, external
from webapp.errors import AppError

chat_cli = AppGroup("chat", help="Post to rooms from outside the server.")


@chat_cli.command("post")
@click.argument("room")
@click.argument("text")
@click.option("--author", default="parley", show_default=True, help="The name shown as author.")
@click.option("--client-id", default=None, help="Makes a retried post find the first one.")
def post(room: str, text: str, author: str, client_id: str | None) -> None:
    """Store TEXT in ROOM and deliver it to every connected client (needs REDIS_URL)."""
    try:
        message = external.post_and_announce(room, text, author=author, client_id=client_id)
    except AppError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    click.echo(json.dumps(message))


@chat_cli.command("compact")
def compact() -> None:
    """Remove deleted messages' tombstones older than SYNC_RETENTION_DAYS from the rooms' change
    logs now (a serving process also does it hourly)."""
    click.echo(f"removed {changes.compact()} tombstones")


@chat_cli.command("reindex")
def reindex() -> None:
    """Build the search index again from the messages (an index in doubt: a database file copied
    while it was written, messages changed by hand). Safe while the server runs."""
    from webapp.chat import search_index

    click.echo(search_index.rebuild())


@chat_cli.command("vapid-keys")
def vapid_keys() -> None:
    """Print a new VAPID key pair for Web Push, as environment settings to keep."""
    from webapp.notify.webpush import generate_keys

    private, public = generate_keys()
    click.echo(f"VAPID_PRIVATE_KEY={private}\nVAPID_PUBLIC_KEY={public}")
