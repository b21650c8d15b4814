"""``flask --app wsgi backup|export|import``: an operator's commands for their data."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from webapp import audit
from webapp.data import backup as backups
from webapp.data import export as exports
from webapp.data import importer, retention


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


@click.command("export")
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--with-passwords", is_flag=True,
              help="Include password hashes (keep the archive as safe as the database).")
@with_appcontext
def export(target: Path, with_passwords: bool) -> None:
    """Write every user, room, message and file to TARGET (a new directory, or a .zip)."""
    try:
        counts = exports.export(target, with_passwords=with_passwords)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    # Recorded after the archive is written, so the archive never holds its own audit row.
    audit.record("export", details={"by": "flask command", "with_passwords": with_passwords,
                                    "messages": counts.get("messages")})
    click.echo(json.dumps(counts))


@click.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--slack", is_flag=True, help="SOURCE is a Slack workspace export (.zip).")
@with_appcontext
def import_(source: Path, slack: bool) -> None:
    """Read an export (or with --slack, a Slack workspace export) into this instance."""
    try:
        if slack:
            from webapp.data import slack as slack_import
            counts = slack_import.import_slack(source)
        else:
            counts = importer.import_archive(source)
    except importer.ImportRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(counts))


@click.command("retention")
@with_appcontext
def retention_now() -> None:
    """Remove messages past their room's retention (RETENTION_DAYS) now; serving processes
    also do it hourly."""
    click.echo(f"removed {retention.expire()} messages")


COMMANDS = [backup, export, import_, retention_now]
