"""REST: a room's integrations, managed by its owner (or an admin): outgoing webhooks
(``/webhooks``), incoming webhooks (``/hooks``) and custom slash commands (``/commands``).

Reads take the page's session too (the settings panel); writes take the session with the CSRF
header the page sends, or a bearer token (webapp/api/rooms.py, ``_caller``).
"""
from flask import jsonify, request, url_for
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from webapp.api.blueprint import bp
from webapp.api.rooms import _body, _caller, _no_store
from webapp.errors import AppError
from webapp.integrations import commands, manage
from webapp.models import IncomingWebhook, SlashCommand, Webhook


def _writer():
    """A bearer token, or the session with the page's CSRF token (X-CSRFToken)."""
    if request.headers.get("Authorization"):
        return _caller(allow_session=False)
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError:
        raise AppError("Send the page's CSRF token, or a bearer token.",
                       code="csrf_failed", status=400) from None
    return _caller(allow_session=True)


@bp.get("/rooms/<room>/webhooks")
def list_webhooks(room: str):
    member = _caller(allow_session=True)
    return _no_store(jsonify(webhooks=manage.list_webhooks(member, room)))


@bp.post("/rooms/<room>/webhooks")
def add_webhook(room: str):
    """``{"url", "trigger"?}``: the webhook, and its signing secret (shown this once)."""
    hook, secret = manage.add_webhook(_writer(), room, _body())
    return _no_store(jsonify(webhook=hook, secret=secret)), 201


@bp.delete("/rooms/<room>/webhooks/<int:item_id>")
def remove_webhook(room: str, item_id: int):
    manage.remove(_writer(), room, Webhook, item_id)
    return "", 204


@bp.get("/rooms/<room>/hooks")
def list_incoming(room: str):
    member = _caller(allow_session=True)
    return _no_store(jsonify(hooks=manage.list_incoming(member, room)))


@bp.post("/rooms/<room>/hooks")
def add_incoming(room: str):
    """``{"name"}``: the incoming webhook and its secret URL (shown this once)."""
    hook, token = manage.add_incoming(_writer(), room, _body())
    url = url_for("hooks.receive", token=token, _external=True)
    return _no_store(jsonify(hook=hook, url=url)), 201


@bp.delete("/rooms/<room>/hooks/<int:item_id>")
def remove_incoming(room: str, item_id: int):
    manage.remove(_writer(), room, IncomingWebhook, item_id)
    return "", 204


@bp.get("/rooms/<room>/commands")
def list_commands(room: str):
    """The room's custom commands and the global ones (owners; members read the names and
    usage of what they may run with the ``commands`` operation)."""
    member = _caller(allow_session=True)
    return _no_store(jsonify(commands=manage.list_commands(member, room)))


@bp.post("/rooms/<room>/commands")
def add_command(room: str):
    """``{"name", "url", "global"?}``: the command and its signing secret (shown this once)."""
    command, secret = manage.add_command(_writer(), room, _body(), commands.BUILTINS)
    return _no_store(jsonify(command=command, secret=secret)), 201


@bp.delete("/rooms/<room>/commands/<int:item_id>")
def remove_command(room: str, item_id: int):
    manage.remove(_writer(), room, SlashCommand, item_id)
    return "", 204
