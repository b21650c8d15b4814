"""``flask --app wsgi export PATH``: the instance as a documented JSON archive (docs/export.md).

Written a row at a time (the rows are read in batches, never all at once), in primary-key order
with sorted keys, so the same data always gives the same bytes: export -> import -> export is
byte-identical.
"""
from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sqlalchemy import select

from webapp.chat.avatars import SIZES
from webapp.data.tables import FORMAT, TABLES, Exported, to_json
from webapp.extensions import db
from webapp.models import File, User
from webapp.storage import CHUNK, storage

ARCHIVE = "parley-export.json"
BATCH = 1000
# Zip entries carry a time; a fixed one keeps the archive's bytes the data's alone.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def export(path: Path, with_passwords: bool = False, compress: bool = True) -> dict:
    """Write the archive to ``path`` (a new directory, or a ``.zip``); answer rows per table.
    ``compress=False`` stores the zip's entries as they are (no CPU-heavy deflate)."""
    path = Path(path)
    if path.exists() and (path.is_file() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists: give a new directory or .zip")
    if path.suffix == ".zip":
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with zipfile.ZipFile(path, "w", method) as archive:
            return _export(lambda name: _zip_entry(archive, name, method), with_passwords)
    path.mkdir(parents=True, exist_ok=True)

    def opener(name: str) -> IO[bytes]:
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        return (path / name).open("wb")
    return _export(opener, with_passwords)


def _zip_entry(archive: zipfile.ZipFile, name: str, method: int) -> IO[bytes]:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = method
    return archive.open(info, "w", force_zip64=True)


def _export(open_entry, with_passwords: bool) -> dict:
    counts = {}
    with open_entry(ARCHIVE) as out:
        out.write(b'{"format": %d, "with_passwords": %s, "tables": {' % (
            FORMAT, b"true" if with_passwords else b"false"))
        for i, exported in enumerate(TABLES):
            out.write(b"%s\n%s: [" % (b"," if i else b"", json.dumps(exported.name).encode()))
            counts[exported.name] = 0
            for row in rows(exported, with_passwords):
                prefix = b"," if counts[exported.name] else b""
                out.write(prefix + b"\n" + dumps(row))
                counts[exported.name] += 1
            out.write(b"\n]")
        out.write(b"\n}}\n")
    counts["file_bytes"] = _export_bytes(open_entry)
    return counts


def dumps(row: dict) -> bytes:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def rows(exported: Exported, with_passwords: bool) -> Iterator[dict]:
    """The table's rows as JSON objects, read ``BATCH`` at a time in primary-key order."""
    columns = exported.columns(with_passwords)
    query = select(*columns).order_by(*exported.table.primary_key.columns)
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for row in result:
        yield {c.name: to_json(c, value) for c, value in zip(columns, row, strict=True)}


def _export_bytes(open_entry) -> int:
    """Each file's bytes as ``files/<id>`` (its thumbnail as ``files/<id>.thumbnail``), each
    avatar's squares as ``avatars/<user id>-<px>``."""
    count = 0
    for name, stored in stored_entries():
        count += _copy_out(stored, name, open_entry)
    return count


def stored_entries() -> Iterator[tuple[str, str]]:
    """(archive entry, storage key) of every stored blob the rows name, in id order."""
    query = select(File.id, File.key, File.thumbnail_key).order_by(File.id)
    for file_id, key, thumbnail in db.session.execute(query).all():
        yield f"files/{file_id}", key
        if thumbnail is not None:
            yield f"files/{file_id}.thumbnail", thumbnail
    query = select(User.id, User.avatar).where(User.avatar.is_not(None)).order_by(User.id)
    for user_id, avatar in db.session.execute(query).all():
        for px in SIZES:
            yield f"avatars/{user_id}-{px}", f"{avatar}-{px}"


def _copy_out(stored: str, name: str, open_entry) -> int:
    try:
        source, _ = storage().open(stored)
    except FileNotFoundError:  # lost from the storage: the metadata still says it existed
        return 0
    with source, open_entry(name) as out:
        while chunk := source.read(CHUNK):
            out.write(chunk)
    return 1
