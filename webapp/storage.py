"""Where uploaded files' bytes live, chosen by ``FILE_STORAGE``: a directory (``directory``, the
default: ``FILE_DIR``, under ``instance/``), or the database (``database``: for platforms whose
disk does not survive a restart, such as Heroku's dynos). One interface: ``save`` a stream under
a key, ``open`` it as a seekable binary file (with its size), ``delete`` it. Neither ever holds a whole file in
memory: the directory copies in blocks, the database keeps 1 MiB chunks (``file_chunks``).
"""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app
from sqlalchemy import delete, func, insert, select

from webapp.extensions import db
from webapp.models import FileChunk

CHUNK = 1024 * 1024


class Storage(Protocol):
    def save(self, key: str, stream: BinaryIO) -> int: ...  # answers the size stored
    def open(self, key: str) -> tuple[BinaryIO, int]: ...  # seekable, its size; caller closes
    def delete(self, key: str) -> None: ...


def storage() -> Storage:
    kind = current_app.config["FILE_STORAGE"]
    if kind == "database":
        return DatabaseStorage()
    return DirectoryStorage(Path(current_app.config["FILE_DIR"]))


class DirectoryStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key  # keys are random: spread over 256 folders

    def save(self, key: str, stream: BinaryIO) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with partial.open("wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)  # whole or not at all
        return path.stat().st_size

    def open(self, key: str) -> tuple[BinaryIO, int]:
        path = self._path(key)
        return path.open("rb"), path.stat().st_size

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class DatabaseStorage:
    def save(self, key: str, stream: BinaryIO) -> int:
        size, n = 0, 0
        while chunk := stream.read(CHUNK):  # one chunk in memory at a time
            db.session.execute(insert(FileChunk).values(key=key, n=n, data=chunk))
            size, n = size + len(chunk), n + 1
        db.session.commit()
        return size

    def open(self, key: str) -> tuple[BinaryIO, int]:
        size = db.session.scalar(select(func.coalesce(func.sum(func.length(FileChunk.data)), 0))
                                 .where(FileChunk.key == key))
        return io.BufferedReader(_ChunkReader(key, size), CHUNK), size

    def delete(self, key: str) -> None:
        db.session.execute(delete(FileChunk).where(FileChunk.key == key))
        db.session.commit()


class _ChunkReader(io.RawIOBase):
    """A seekable file over a key's chunks, reading one chunk row at a time (ranges included)."""

    def __init__(self, key: str, size: int) -> None:
        self.key, self.size, self.pos = key, size, 0
        # A response is read after its request ended: each chunk is fetched in a context of
        # its own.
        self.app = current_app._get_current_object()
        self._chunk_n, self._chunk = -1, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer) -> int:
        if self.pos >= self.size:
            return 0
        n, offset = divmod(self.pos, CHUNK)
        if n != self._chunk_n:
            with self.app.app_context():
                self._chunk = db.session.scalar(select(FileChunk.data).where(
                    FileChunk.key == self.key, FileChunk.n == n)) or b""
            self._chunk_n = n
        piece = self._chunk[offset:offset + len(buffer)]
        buffer[:len(piece)] = piece
        self.pos += len(piece)
        return len(piece)
