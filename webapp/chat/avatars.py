"""Avatars (issue 18): an uploaded image, kept as two squares, 256 and 64 px, in WebP.

The upload is examined exactly as a shared file is (webapp/chat/files.py): its type from the
content, the pixel bound checked from the header before decoding (decompression bombs), turned
upright and stripped of metadata -- then cut to a centred square and scaled. All of it in a
native thread (webapp/server/offload.py), off the event loop. The stored squares live in the file
storage (webapp/storage.py) under ``<key>-256`` and ``<key>-64``; a new upload gets a new key and
the old squares are deleted once the new ones are in place.
"""
from __future__ import annotations

import io
import secrets
import tempfile
from typing import BinaryIO

from flask import current_app
from PIL import Image, ImageOps

from webapp.chat import files, profiles, service
from webapp.chat.service import Member
from webapp.errors import AppError, InvalidPayload, NotFound
from webapp.extensions import db
from webapp.models import User
from webapp.server.offload import run_blocking
from webapp.storage import storage

SIZES = (256, 64)
TYPE = "image/webp"


def _squares(path: str, max_pixels: int) -> dict[int, bytes]:
    """The image at ``path`` as WebP squares of each size; refuses what is not an image.
    Runs in a native thread, without the app's context."""
    found = files._examine(path, max_pixels)  # the shared files' checks, not a second copy
    if found.type not in files.IMAGE_TYPES.values():
        raise AppError("An avatar is an image: PNG, JPEG, GIF or WebP.", code="unsupported_type",
                       status=415)
    with Image.open(found.path) as image:  # cleaned: upright, without metadata
        image.seek(0)  # an animation's first frame
        square = ImageOps.fit(image.convert("RGBA"), (SIZES[0], SIZES[0]), Image.Resampling.LANCZOS)
    out = {}
    for size in SIZES:
        scaled = square if size == SIZES[0] else square.resize((size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        scaled.save(buffer, format="WEBP", quality=85, method=4)
        out[size] = buffer.getvalue()
    return out


def upload(member: Member, stream: BinaryIO) -> dict:
    """Make ``stream`` the member's avatar; answers their card."""
    user = profiles.account(member)
    service.limit(member, "profile")
    limit = current_app.config["AVATAR_MAX_SIZE"]
    with tempfile.TemporaryDirectory(prefix="parley-avatar-") as folder:
        path, size = f"{folder}/upload", 0
        with open(path, "wb") as out:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                out.write(chunk)
        if size == 0:
            raise InvalidPayload("The file is empty.")
        squares = run_blocking(_squares, path, current_app.config["MAX_IMAGE_PIXELS"])
    key, store = secrets.token_hex(16), storage()
    for px, content in squares.items():
        store.save(f"{key}-{px}", io.BytesIO(content))
    old, user.avatar = user.avatar, key
    db.session.commit()
    _delete(old)
    return profiles.card(user)


def remove(member: Member) -> tuple[dict, bool]:
    """Back to the initial-and-colour badge; answers the card and whether there was an avatar."""
    user = profiles.account(member)
    service.limit(member, "profile")
    old, user.avatar = user.avatar, None
    db.session.commit()
    _delete(old)
    return profiles.card(user), old is not None


def _delete(key: str | None) -> None:
    if key:
        files.delete_stored([f"{key}-{px}" for px in SIZES])


def stored(user: User | None, size: int) -> str:
    """The storage key of ``user``'s avatar at ``size`` px; not found without one."""
    if user is None or not user.avatar:
        raise NotFound("No avatar: show the badge.")
    return f"{user.avatar}-{size}"


def too_large(limit: int) -> AppError:
    return AppError(f"An avatar is at most {limit} bytes.", code="too_large", status=413,
                    limit=limit)
