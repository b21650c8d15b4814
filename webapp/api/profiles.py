"""Profiles over HTTP (issue 18): read a card, change one's own, upload and serve avatars.

Changes come from a bearer token or the page's session with its CSRF token (the settings page has
no socket), as uploads do (webapp/api/files.py). Avatars are served to anyone, signed in or not:
guests' pages show them too, and an avatar is no more private than the name beside it.
"""
from __future__ import annotations

from flask import current_app, jsonify, request

from webapp import accounts
from webapp.api.blueprint import bp
from webapp.api.files import _send, _uploader
from webapp.api.rooms import _body, _caller, _no_store
from webapp.chat import avatars, broadcast, ops
from webapp.errors import AppError
from webapp.validation import NAME_RE


@bp.get("/users/<name>")
def user_profile(name: str):
    answer = ops.OPS["profile"](_caller(allow_session=True), {"name": name}, None)
    return _no_store(jsonify(profile=answer["profile"]))


@bp.patch("/me/profile")
def change_profile():
    """``{"display_name"?, "status"?}``, as the ``set_profile`` operation takes them."""
    answer = ops.OPS["set_profile"](_uploader(), _body(), None)
    return _no_store(jsonify(profile=answer["profile"]))


@bp.put("/me/avatar")
def upload_avatar():
    """Multipart, one part named ``file``: ``200 {"profile": ...}`` with the new avatar_url."""
    limit = current_app.config["AVATAR_MAX_SIZE"]
    request.max_content_length = limit + 64 * 1024  # the multipart framing's bytes on top
    member = _uploader()
    try:
        part = request.files.get("file")
    except Exception as exc:  # RequestEntityTooLarge, or a broken multipart body
        if getattr(exc, "code", None) == 413:
            raise avatars.too_large(limit) from None
        raise
    if part is None:
        raise AppError("Send the image as multipart/form-data, in a part named 'file'.",
                       code="invalid_payload")
    card = avatars.upload(member, part.stream)
    broadcast.profile(card, member.user_id)
    return _no_store(jsonify(profile=card))


@bp.delete("/me/avatar")
def remove_avatar():
    member = _uploader()
    card, changed = avatars.remove(member)
    if changed:
        broadcast.profile(card, member.user_id)
    return "", 204


@bp.get("/users/<name>/avatar")
def avatar(name: str):
    """The avatar image (``?size=64|256``, 256 by default); 404 without one: show the badge."""
    size = request.args.get("size", "256")
    if size not in ("64", "256"):
        raise AppError("'size' is 64 or 256.", code="invalid_payload")
    user = accounts.find_user(name) if NAME_RE.fullmatch(name) else None
    key = avatars.stored(user, int(size))
    response = _send(key, avatars.TYPE, f"{user.name}-{size}.webp", key, inline=True)
    # The URL clients are given carries the upload's key (``?v=``): that one never changes.
    # Any other (no or an old ``v``) is revalidated by its ETag every time.
    current = request.args.get("v") == user.avatar[:12]
    response.headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if current else "no-cache")
    return response
