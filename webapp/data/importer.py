"""``flask --app wsgi import PATH``: an export (docs/export.md) read back into an empty instance,
ids and all, a batch of rows at a time. ``--slack`` imports a Slack workspace (webapp/data/slack.py).
"""
from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import delete, exists, insert, or_, select, text

from webapp.chat import search_index
from webapp.chat.folding import fold
from webapp.data.export import ARCHIVE, stored_entries
from webapp.data.tables import FORMAT, TABLES, Exported, from_json
from webapp.extensions import db
from webapp.models import Room
from webapp.storage import storage

BATCH = 500


class ImportRefused(Exception):
    """The archive cannot be imported here; the message says why."""


class Archive:
    """An export's entries, from its directory or its .zip."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.zip = zipfile.ZipFile(self.path) if self.path.suffix == ".zip" else None

    def open(self, name: str) -> IO[bytes] | None:
        if self.zip is not None:
            return self.zip.open(name) if name in self.zip.NameToInfo else None
        entry = self.path / name
        return entry.open("rb") if entry.is_file() else None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def refuse_unless_empty() -> None:
    """An import keeps the archive's ids, so it only goes into an instance with no data yet:
    nothing but the ``general`` room that migration 0001 creates, never used."""
    for exported in TABLES:
        rows = select(exists().select_from(exported.table))
        if exported.model is Room:
            rows = rows.where(or_(Room.name != "general", Room.seq != 0))
        if db.session.scalar(rows):
            raise ImportRefused(f"this instance is not empty ({exported.name} has rows): import "
                                "into a new database (flask --app wsgi db upgrade first)")
    # The archive has its own general room (with its id).
    db.session.execute(delete(Room))


def import_archive(path: Path) -> dict:
    """Read the archive at ``path`` into this (empty) instance; answer rows per table."""
    archive = Archive(path)
    try:
        refuse_unless_empty()
        source = archive.open(ARCHIVE)
        if source is None:
            raise ImportRefused(f"{path} has no {ARCHIVE}")
        with source:
            counts = {name: n for name, n in _sections(source)}
        counts["file_bytes"] = _import_bytes(archive)
        _advance_sequences()
        db.session.commit()
        search_index.flush()  # SQLite: index the messages now, not in the first search
    except BaseException:
        db.session.rollback()
        raise
    finally:
        archive.close()
    return counts


def _sections(source: IO[bytes]) -> Iterator[tuple[str, int]]:
    """Insert each table's rows, in the archive's line layout (docs/export.md)."""
    header = json.loads(source.readline().decode() + "}}")
    if header.get("format") != FORMAT:
        raise ImportRefused(f"archive format {header.get('format')!r}: this Parley reads {FORMAT}")
    known = {exported.name: exported for exported in TABLES}
    lines = _lines(source)
    for line in lines:
        if line in ("}}", ""):
            continue
        name = json.loads(line.rstrip(" [").rstrip(":").strip()) if line.endswith("[") else None
        if name not in known:
            raise ImportRefused(f"unexpected line in {ARCHIVE}: {line[:80]!r}")
        yield name, _insert(known[name], lines)


def _lines(source: IO[bytes]) -> Iterator[str]:
    for raw in source:
        yield raw.decode().strip()


def _insert(exported: Exported, lines: Iterator[str]) -> int:
    """Insert rows until the section's closing ``]``, ``BATCH`` at a time; answer how many."""
    columns = {c.name: c for c in exported.table.columns}
    batch, count = [], 0
    for line in lines:
        if line.startswith("]"):
            break
        row = json.loads(line.rstrip(","))
        unknown = set(row) - set(columns)
        if unknown:
            raise ImportRefused(f"{exported.name} has unknown columns {sorted(unknown)}")
        batch.append(_row(exported, columns, row))
        if len(batch) == BATCH:
            db.session.execute(insert(exported.table), batch)
            count, batch = count + len(batch), []
    if batch:
        db.session.execute(insert(exported.table), batch)
        count += len(batch)
    return count


def _row(exported: Exported, columns: dict, row: dict) -> dict:
    values = {name: from_json(columns[name], value) for name, value in row.items()}
    if exported.name == "messages":
        values["search_text"] = fold(values.get("text") or "")
    elif exported.name == "users":
        # Exported without its hash, an account cannot log in until a password is set for it.
        values.setdefault("password_hash", "")
    elif exported.name == "invitations":
        # Unique and required: a random one that no link's SHA-256 will ever match.
        values.setdefault("token_hash", "unusable-" + secrets.token_hex(27))
    return values


def _import_bytes(archive: Archive) -> int:
    """Store ``files/<id>`` (and ``.thumbnail``) and ``avatars/<user id>-<px>`` under the keys
    the imported rows name."""
    count, store = 0, storage()
    for name, stored in list(stored_entries()):
        source = archive.open(name) if stored else None
        if source is not None:
            with source:
                store.save(stored, source)
            count += 1
    return count


def _advance_sequences() -> None:
    """PostgreSQL hands out ids from sequences that explicit ids did not move: move them past
    the imported ones (SQLite's AUTOINCREMENT follows the largest id by itself)."""
    if db.engine.url.get_backend_name() != "postgresql":
        return
    for exported in TABLES:
        keys = list(exported.table.primary_key.columns)
        if len(keys) == 1 and keys[0].name == "id" and keys[0].autoincrement:
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{exported.name}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {exported.name}"))


