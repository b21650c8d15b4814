"""Files over HTTP: upload to a room, download, thumbnails (webapp/chat/files.py has the rules).

Uploads come from a bearer token or the page's session; with the session, a CSRF token too (the
API blueprint is exempt from Flask-WTF's automatic check because tokens need none, so the check
is made here). Downloads answer 404 to anyone who may not see the file, and never let a browser
render what it downloads from our origin as a page: ``nosniff``, a ``sandbox`` policy, inline
only for images whose content was checked, every other type as an attachment.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from werkzeug.wsgi import wrap_file
from wtforms.validators import ValidationError

from webapp.api.blueprint import bp
from webapp.api.rooms import _caller, _no_store
from webapp.chat import files, service
from webapp.errors import AppError
from webapp.storage import storage

INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _uploader() -> service.Member:
    member = _caller(allow_session=True)
    scheme = request.headers.get("Authorization", "").partition(" ")[0]
    if scheme.lower() != "bearer":  # the session: this request must come from our page
        try:
            validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
        except ValidationError as exc:
            raise AppError(f"CSRF check failed: {exc}", code="csrf_failed", status=400) from None
    return member


@bp.post("/rooms/<room>/files")
def upload(room: str):
    """Multipart, one part named ``file``: ``201 {"file": ...}``."""
    limit = current_app.config["MAX_UPLOAD_SIZE"]
    # The whole request may be a little over the file (the multipart framing); Werkzeug stops
    # reading past this, and spools what it reads to disk above 500 KB.
    request.max_content_length = limit + 64 * 1024
    member = _uploader()
    try:
        part = request.files.get("file")
    except Exception as exc:  # RequestEntityTooLarge, or a broken multipart body
        if getattr(exc, "code", None) == 413:
            raise AppError(f"The file is over {limit} bytes.", code="too_large", status=413,
                           limit=limit) from None
        raise
    if part is None:
        raise AppError("Send the file as multipart/form-data, in a part named 'file'.",
                       code="invalid_payload")
    stored = files.upload(member, room, part.stream, part.filename)
    return _no_store(jsonify(file=stored)), 201


@bp.delete("/files/<int:file_id>")
def discard(file_id: int):
    """Take back an upload that was not sent: ``204``."""
    files.discard(_uploader(), file_id)
    return "", 204


def _viewer() -> service.Member | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token or current_user.is_authenticated:
        return _caller(allow_session=True)
    return None  # anonymous: 404, as for a file that does not exist


def _send(key: str, mime: str, name: str, etag: str, *, inline: bool):
    """The stored bytes, with ranges (206) and revalidation (304) answered."""
    stream, size = storage().open(key)
    response = current_app.response_class(wrap_file(request.environ, stream), mimetype=mime,
                                          direct_passthrough=True)
    response.content_length = size
    fallback = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; "
        f"filename*=UTF-8''{quote(name)}")
    response.set_etag(etag)
    response.make_conditional(request, accept_ranges=True, complete_length=size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response


@bp.get("/files/<int:file_id>/<path:name>")
def download(file_id: int, name: str):
    row = files.readable_file(_viewer(), file_id)
    return _send(row.key, row.type, row.name, row.sha256, inline=row.type in INLINE_TYPES)


@bp.get("/files/<int:file_id>/thumbnail")
def thumbnail(file_id: int):
    row = files.readable_file(_viewer(), file_id)
    if row.thumbnail_key is None:
        raise AppError("This file has no thumbnail.", code="not_found", status=404)
    return _send(row.thumbnail_key, row.thumbnail_type, f"thumbnail-{row.id}",
                 f"{row.sha256}-t", inline=True)
