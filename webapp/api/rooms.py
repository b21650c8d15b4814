"""REST: read and post room messages with an API token (or, to read, the page's session)."""
from flask import jsonify, request
from flask_login import current_user

from webapp.api.blueprint import bp
from webapp.chat import ops, service
from webapp.errors import AppError


def _caller(*, allow_session: bool) -> service.Member:
    """Who is calling: ``Authorization: Bearer <token>``, or the login session where allowed.

    Writes need the token: a cookie rides along on cross-site requests, a bearer token does not,
    so the API needs no CSRF token.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return service.connect({"token": token.strip()}, None, address=request.remote_addr)
    if allow_session and current_user.is_authenticated:
        return service.connect(None, None, user=current_user, address=request.remote_addr)
    raise AppError("Send 'Authorization: Bearer <API token>'.", code="auth_required", status=401)


def _int_arg(name: str):
    value = request.args.get(name)
    return int(value) if value is not None and value.isdigit() and len(value) < 20 else value


def _no_store(response):
    """Messages may be a private room's: no browser or proxy cache keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/rooms")
def rooms():
    """Public rooms by name, a page at a time: ``?limit=`` (1-200) and ``?after=`` (``next``)."""
    query = {"limit": _int_arg("limit"), "after": request.args.get("after")}
    return jsonify(service.room_page(None, query))


@bp.get("/rooms/<room>/messages")
def room_messages(room: str):
    member = _caller(allow_session=True)
    query = {"room": room, **{k: _int_arg(k) for k in ("before", "after", "limit") if k in request.args}}
    return _no_store(jsonify(messages=service.history(member, query)))


@bp.post("/rooms/<room>/messages")
def post_room_message(room: str):
    member = _caller(allow_session=False)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AppError("The body must be a JSON object.", code="invalid_payload")
    ack, new = ops.post(member, {**body, "room": room})
    return _no_store(jsonify(message=ack["message"])), 201 if new else 200
