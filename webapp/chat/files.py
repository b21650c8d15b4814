"""Files and images shared in rooms: upload, attach to a message, download, clean up.

**Upload** (``POST /api/rooms/<room>/files``, webapp/api/files.py): accounts that may read the
room. The body streams to a temporary file (Werkzeug spools anything over 500 KB to disk), never
more than ``MAX_UPLOAD_SIZE``; then the type is decided from the content, never the name: images
(PNG, JPEG, GIF, WebP) opened by Pillow, a few common binary types by their signature
(``filetype``), UTF-8 text as text/plain; anything else is ``unsupported_type``. Images are
decoded under Pillow's decompression-bomb limit, turned upright (EXIF orientation) and saved
again without their metadata (camera, GPS location), and get a thumbnail -- in a native thread,
off the event loop (webapp/server/offload.py). Each account has ``USER_FILE_QUOTA`` bytes.

**Attach**: a message's ``files`` (ids) must be its author's uploads to that room, not yet sent;
they are attached in the message's transaction. Uploads never attached are removed after
``FILE_ATTACH_HOURS``; deleting a message deletes its files.

**Download** (``GET`` the file's ``url``): checked on every request -- the room must be one the
caller may read now (an unsent upload: its uploader only); anyone else, and anonymous requests,
get 404 whether or not the id exists.
"""
from __future__ import annotations

import hashlib
import io
import secrets
import tempfile
from datetime import timedelta
from typing import BinaryIO

import filetype
from flask import current_app
from PIL import Image, ImageOps
from sqlalchemy import func, select

from webapp import validation as v
from webapp.chat import archive, service
from webapp.chat.service import Member
from webapp.errors import AppError, Forbidden, InvalidPayload, NotFound
from webapp.extensions import db
from webapp.models import File, Message, Room, utcnow
from webapp.server.offload import run_blocking
from webapp.storage import storage

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# Other types accepted, as recognised from their first bytes.
OTHER_TYPES = {"application/pdf", "application/zip", "application/gzip", "application/x-tar",
               "application/x-7z-compressed", "audio/mpeg", "audio/ogg", "audio/x-wav",
               "video/mp4", "video/webm", "video/quicktime"}
THUMBNAIL = (480, 480)
MAX_FILES_PER_MESSAGE = 10
MAX_NAME = 255
SNIFF = 8192


class Upload:
    """What was learned of an upload's content, off the event loop."""

    def __init__(self, type_: str, path: str, width=None, height=None, thumbnail=None,
                 thumbnail_type=None) -> None:
        self.type, self.path, self.width, self.height = type_, path, width, height
        self.thumbnail, self.thumbnail_type = thumbnail, thumbnail_type


def _clean_name(name: str | None) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip() or "file"
    return name[:MAX_NAME]


def _examine(path: str, max_pixels: int) -> Upload:
    """The content's type, and for images an upright copy without metadata and a thumbnail.
    Runs in a native thread (decoding images is CPU work), so without the app's context."""
    with open(path, "rb") as f:
        head = f.read(SNIFF)
    # Refused below past max_pixels, from the header; Pillow's own guard (a warning past its
    # bound, an error past twice that) stays as a second line behind it.
    Image.MAX_IMAGE_PIXELS = 2 * max_pixels
    try:
        with Image.open(path) as image:  # reads the header only
            if image.format in IMAGE_TYPES:
                if image.width * image.height > max_pixels:  # Pillow only warns up to twice that
                    raise Image.DecompressionBombError("too many pixels")
                return _clean_image(image, path)
    except Image.DecompressionBombError:
        raise AppError("The image has too many pixels.", code="too_large", status=413) from None
    except (OSError, ValueError, SyntaxError):
        pass  # not an image Pillow can read
    kind = filetype.guess_mime(head)
    if kind in OTHER_TYPES:
        return Upload(kind, path)
    if kind is None and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not a character cut at the sniff's end
                raise _unsupported() from None
        return Upload("text/plain", path)
    raise _unsupported()


def _unsupported() -> AppError:
    return AppError("This kind of file is not accepted: images, PDF, archives, audio, video and "
                    "text are.", code="unsupported_type", status=415)


def _clean_image(image: Image.Image, path: str) -> Upload:
    kind = IMAGE_TYPES[image.format]
    image.load()  # the whole image decoded here, under the pixel limit
    animated = getattr(image, "is_animated", False)
    if image.format == "GIF":  # no EXIF to strip; animations kept as they are
        cleaned = path
    else:
        upright = image if animated else ImageOps.exif_transpose(image)
        cleaned = path + ".clean"
        options = {"save_all": True} if animated else {}
        if image.format == "JPEG":
            options.update(quality=90, optimize=True)
        # Saved without exif/icc/xmp: nothing of the camera or its location is kept.
        upright.save(cleaned, format=image.format, **options)
    with Image.open(cleaned) as final:
        width, height = final.size
        thumb = final.convert("RGBA") if final.mode in ("P", "LA", "RGBA") else final.convert("RGB")
        thumb.thumbnail(THUMBNAIL)
        out = io.BytesIO()
        alpha = thumb.mode == "RGBA"
        thumb.save(out, format="PNG" if alpha else "JPEG", quality=85)
    return Upload(kind, cleaned, width, height, out.getvalue(), "image/png" if alpha else "image/jpeg")


def upload(member: Member, room: str, stream: BinaryIO, name: str | None) -> dict:
    """Store an upload to ``room``; answers the file as clients see it."""
    if member.user_id is None:
        raise Forbidden("Guests cannot upload files; register or log in.")
    service.limit(member, "upload")
    target = service.readable_room(member, room)
    archive.check_writable(target.id)  # nothing to attach it to: posting is refused there
    limit = current_app.config["MAX_UPLOAD_SIZE"]
    with tempfile.TemporaryDirectory(prefix="parley-upload-") as folder:
        path = f"{folder}/upload"
        digest, size = hashlib.sha256(), 0
        with open(path, "wb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidPayload("The file is empty.")
        used = db.session.scalar(select(func.coalesce(func.sum(File.size), 0))
                                 .where(File.user_id == member.user_id))
        quota = current_app.config["USER_FILE_QUOTA"]
        if used + size > quota:
            raise AppError(f"Your files would take more than your {quota} bytes.",
                           code="quota_exceeded", status=413, quota=quota, used=used)
        found = run_blocking(_examine, path, current_app.config["MAX_IMAGE_PIXELS"])
        key = secrets.token_hex(16)
        store = storage()
        with open(found.path, "rb") as content:
            stored_size = store.save(key, content)
        if found.path != path:
            digest = hashlib.sha256()
            with open(found.path, "rb") as content:
                while chunk := content.read(1024 * 1024):
                    digest.update(chunk)
        thumbnail_key = None
        if found.thumbnail is not None:
            thumbnail_key = secrets.token_hex(16)
            store.save(thumbnail_key, io.BytesIO(found.thumbnail))
    row = File(room_id=target.id, user_id=member.user_id, name=_clean_name(name),
               size=stored_size, type=found.type, key=key, sha256=digest.hexdigest(),
               width=found.width, height=found.height, thumbnail_key=thumbnail_key,
               thumbnail_type=found.thumbnail_type)
    db.session.add(row)
    db.session.commit()
    return row.to_dict()


def _too_large(limit: int) -> AppError:
    return AppError(f"The file is over {limit} bytes.", code="too_large", status=413, limit=limit)


# -- messages ----------------------------------------------------------------------------------
def requested(data: dict) -> list[int]:
    """The ``files`` of a message payload: ids, at most MAX_FILES_PER_MESSAGE, each once."""
    ids = data.get("files")
    if ids is None:
        return []
    if (not isinstance(ids, list) or len(ids) > MAX_FILES_PER_MESSAGE
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= v.MAX_ID
                       for i in ids)):
        raise InvalidPayload(f"'files' must be a list of at most {MAX_FILES_PER_MESSAGE} file ids.")
    return list(dict.fromkeys(ids))


def attach(member: Member, room_id: int, message: Message, ids: list[int]) -> None:
    """Attach the author's unsent uploads ``ids`` to ``message`` (in its transaction)."""
    rows = list(db.session.scalars(select(File).where(File.id.in_(ids)).with_for_update()))
    mine = [f for f in rows if f.user_id == member.user_id and f.room_id == room_id
            and f.message_id is None]
    if len(mine) != len(ids):
        raise NotFound("Attach your own files, uploaded to this room and not yet sent.",
                       code="file_not_found")
    for row in mine:
        row.message_id, row.position = message.id, ids.index(row.id)  # shown in the order given


def forget(message_id: int) -> list[str]:
    """Remove a message's files' rows (in the caller's transaction); answers the storage keys
    to delete once it commits."""
    keys = []
    for row in db.session.scalars(select(File).where(File.message_id == message_id)):
        keys += [k for k in (row.key, row.thumbnail_key) if k]
        db.session.delete(row)
    return keys


def discard(member: Member, file_id: int) -> None:
    """The uploader takes back an upload not sent yet (it no longer counts against the quota)."""
    row = db.session.get(File, file_id)
    if row is None or row.user_id != member.user_id or row.message_id is not None:
        raise NotFound("No unsent upload of yours by that id.", code="file_not_found")
    keys = [k for k in (row.key, row.thumbnail_key) if k]
    db.session.delete(row)
    db.session.commit()
    delete_stored(keys)


def delete_stored(keys: list[str]) -> None:
    store = storage()
    for key in keys:
        store.delete(key)


def expire(now=None) -> int:
    """Remove uploads never attached to a message within FILE_ATTACH_HOURS; answers how many."""
    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["FILE_ATTACH_HOURS"])
    rows = list(db.session.scalars(select(File).where(File.message_id.is_(None),
                                                      File.created_at < cutoff)))
    keys = [k for row in rows for k in (row.key, row.thumbnail_key) if k]
    for row in rows:
        db.session.delete(row)
    db.session.commit()
    delete_stored(keys)
    return len(rows)


# -- downloads ---------------------------------------------------------------------------------
def readable_file(member: Member | None, file_id: int) -> File:
    """The file, if ``member`` may see it now; otherwise not found, whatever the reason."""
    row = db.session.get(File, file_id)
    missing = NotFound("No such file.")
    if row is None or member is None:
        raise missing
    if row.message_id is None:
        if row.user_id != member.user_id:
            raise missing
        return row
    room = db.session.get(Room, row.room_id)
    if room is None or not service.may_enter(member, room):
        raise missing
    return row
