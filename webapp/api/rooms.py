"""REST: read and post room messages with an API token (or, to read, the page's session)."""
from flask import jsonify, request
from flask_login import current_user

from webapp.api.blueprint import bp
from webapp.chat import ops, reads, service
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
    """Public rooms by name, a page at a time: ``?limit=`` (1-200) and ``?after=`` (``next``).
    With a token (or the page's session): the caller's private rooms and conversations too, and
    each room's ``last_read``, ``unread`` and ``mentions``."""
    query = {"limit": _int_arg("limit"), "after": request.args.get("after")}
    member = None
    if request.headers.get("Authorization") or current_user.is_authenticated:
        member = _caller(allow_session=True)
    page = service.room_page(member, query)
    reads.annotate(member, page["rooms"])
    return _no_store(jsonify(page)) if member is not None else jsonify(page)


@bp.get("/rooms/<room>/messages")
def room_messages(room: str):
    member = _caller(allow_session=True)
    query = {"room": room, **{k: _int_arg(k) for k in ("before", "after", "around", "limit")
                              if k in request.args}}
    return _no_store(jsonify(messages=service.history(member, query)))


@bp.post("/rooms/<room>/messages")
def post_room_message(room: str):
    member = _caller(allow_session=False)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AppError("The body must be a JSON object.", code="invalid_payload")
    ack, new = ops.post(member, {**body, "room": room})
    if "message" not in ack:  # a slash command that posted nothing: its answer
        return _no_store(jsonify({k: v for k, v in ack.items() if k != "ok"})), 200
    return _no_store(jsonify(message=ack["message"])), 201 if new else 200


# -- conversations (protocol v2): the same operations as the event API, by REST -----------------
def _op(name: str, member: service.Member, data: dict) -> dict:
    """Run one operation of the table (webapp/chat/ops.py) for a REST caller (no connection)."""
    return ops.OPS[name](member, data, None)


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AppError("The body must be a JSON object.", code="invalid_payload")
    return body


@bp.patch("/rooms/<room>/messages/<int:message_id>")
def edit_message(room: str, message_id: int):
    """The author replaces the text: ``{"text": ...}``."""
    ack = _op("edit", _caller(allow_session=False), {**_body(), "room": room, "id": message_id})
    return _no_store(jsonify(message=ack["message"]))


@bp.delete("/rooms/<room>/messages/<int:message_id>")
def delete_message(room: str, message_id: int):
    _op("delete_message", _caller(allow_session=False), {"room": room, "id": message_id})
    return "", 204


@bp.put("/rooms/<room>/messages/<int:message_id>/reactions/<emoji>")
@bp.delete("/rooms/<room>/messages/<int:message_id>/reactions/<emoji>")
def react(room: str, message_id: int, emoji: str):
    """Add (PUT) or take back (DELETE) your reaction; repeating either changes nothing."""
    data = {"room": room, "id": message_id, "emoji": emoji, "on": request.method == "PUT"}
    return _no_store(jsonify(message=_op("react", _caller(allow_session=False), data)["message"]))


@bp.put("/rooms/<room>/pins/<int:message_id>")
@bp.delete("/rooms/<room>/pins/<int:message_id>")
def pin(room: str, message_id: int):
    data = {"room": room, "id": message_id, "on": request.method == "PUT"}
    return _no_store(jsonify(message=_op("pin", _caller(allow_session=False), data)["message"]))


@bp.get("/rooms/<room>/pins")
def pins(room: str):
    return _no_store(jsonify(pins=_op("pins", _caller(allow_session=True), {"room": room})["pins"]))


@bp.get("/rooms/<room>/messages/<int:message_id>/thread")
def thread(room: str, message_id: int):
    query = {"room": room, "id": message_id,
             **{k: _int_arg(k) for k in ("before", "limit") if k in request.args}}
    answer = _op("thread", _caller(allow_session=True), query)
    return _no_store(jsonify(root=answer["root"], replies=answer["replies"], more=answer["more"]))


@bp.get("/rooms/<room>/messages/<int:message_id>/edits")
def edits(room: str, message_id: int):
    answer = _op("edits", _caller(allow_session=True), {"room": room, "id": message_id})
    return _no_store(jsonify(id=answer["id"], versions=answer["versions"]))


@bp.get("/rooms/<room>/changes")
def changes(room: str):
    """The room's change log after ``?since=`` (``sync``): ``?limit=`` 1-500."""
    query = {"room": room, **{k: _int_arg(k) for k in ("since", "limit") if k in request.args}}
    answer = _op("sync", _caller(allow_session=True), query)
    return _no_store(jsonify(changes=answer["changes"], seq=answer["seq"], more=answer["more"]))


@bp.get("/search")
def search_messages():
    """``search`` (docs/protocol.md): ``?q=&room=&author=&before=&after=&limit=&cursor=``."""
    query = {k: request.args[k] for k in ("q", "room", "author", "before", "after")
             if k in request.args}
    query.update({k: _int_arg(k) for k in ("limit", "cursor") if k in request.args})
    answer = _op("search", _caller(allow_session=True), query)
    return _no_store(jsonify(results=answer["results"], cursor=answer["cursor"]))
