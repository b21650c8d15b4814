"""``flask --app wsgi backup|export|import``: an operator's commands for their data."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from webapp.data import backup as backups


@click.command("backup")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup(target: Path) -> None:
    """Copy the database and the files into the new directory TARGET while the server runs."""
    try:
        manifest = backups.backup(target)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(manifest))


COMMANDS = [backup]
