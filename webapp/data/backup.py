"""``flask --app wsgi backup DIR``: a consistent copy of the database and the files while the
server runs (docs/operations.md, "Backups and the restore drill").

SQLite: sqlite3's online backup API copies every page in one step under one read transaction; in
WAL mode that never blocks the server's writer, and the copy is the database as of one commit.
PostgreSQL: ``pg_dump`` (custom format) runs in one repeatable-read snapshot, likewise consistent.
Files (FILE_STORAGE=directory) are copied after the database, so every file the copied database
names is there (a file deleted in between excepted); FILE_STORAGE=database keeps them in the dump.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import URL

from webapp.extensions import db
from webapp.models import iso, utcnow

FORMAT = 1  # of manifest.json
SQLITE_NAME = "parley.sqlite3"
PG_DUMP_NAME = "parley.pgdump"


class BackupError(Exception):
    """The backup could not be made; its message says why and what to do."""


def backup(target: Path) -> dict:
    """Copy the database and the files into the new directory ``target``; answer the manifest."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: give a new directory")
    target.mkdir(parents=True, exist_ok=True)
    url = db.engine.url
    revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    db.session.rollback()  # hold no transaction while copying
    if url.get_backend_name() == "sqlite":
        database = _sqlite(Path(url.database), target / SQLITE_NAME)
    elif url.get_backend_name() == "postgresql":
        database = _pg_dump(url, target / PG_DUMP_NAME)
    else:
        raise BackupError(f"no backup for {url.get_backend_name()} databases")
    files = 0
    if current_app.config["FILE_STORAGE"] == "directory":
        files = _copy_files(Path(current_app.config["FILE_DIR"]), target / "files")
    manifest = {"format": FORMAT, "created_at": iso(utcnow()), "database": database,
                "migration": revision, "file_storage": current_app.config["FILE_STORAGE"],
                "files": files}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _sqlite(source: Path, copy: Path) -> str:
    """Copy a live SQLite database with the online backup API; check the copy's integrity."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(copy)
    try:
        with dst:
            src.backup(dst)  # pages=-1: all in one step, so one snapshot
        # A single self-contained file: no -wal beside it to forget when restoring.
        dst.execute("PRAGMA journal_mode=DELETE")
        result = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if result != "ok":
        raise BackupError(f"the copy failed its integrity check: {result}")
    return SQLITE_NAME


def _pg_dump(url: URL, dump: Path) -> str:
    """Run ``pg_dump --format=custom``; the password travels in the environment, not argv."""
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "pg_dump is not installed: install the PostgreSQL client of your server's major "
            "version (Debian: apt-get install postgresql-client), or run pg_dump --format=custom "
            "where it is installed (docs/operations.md)")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), dsn],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return PG_DUMP_NAME


def _copy_files(source: Path, target: Path) -> int:
    """Copy the uploaded files (finished ones: a ``.part`` is an upload still arriving)."""
    count = 0
    if not source.is_dir():
        return count
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.suffix != ".part":
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out)
            count += 1
    return count
