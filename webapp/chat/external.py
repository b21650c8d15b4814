"""Posting from outside the server: a cron job, a worker, a shell.

Such a process is not a Socket.IO server and holds no connection, so it stores the message like
any other and hands it to the servers through the Redis message queue, which delivers it to every
client in the room on every process (Flask-SocketIO's "external process" emitter).

    from webapp import create_app
    from webapp.chat import external

    app = create_app()
    with app.app_context():
        external.post_and_announce("general", "Backup finished.", author="cron")
"""
from __future__ import annotations

import logging

from flask import current_app
from flask_socketio import SocketIO

from webapp import validation as v
from webapp.chat.service import ensure_room, store_message

log = logging.getLogger(__name__)

DEFAULT_AUTHOR = "parley"  # reserved: no person may take it (validation.RESERVED_NAMES)
OPERATOR_PREFIX = "op/"  # before operator posts' client ids


def post(room: str, text: str, author: str = DEFAULT_AUTHOR, client_id: str | None = None):
    """Store a message as ``author`` (trusted: the caller is the operator); answer it and whether
    it is new (a repeated ``client_id`` from the same author answers the stored one)."""
    data = {"room": room, "text": text, "client_id": client_id}
    room, text, client_id = v.room_name(data), v.text(data), v.client_id(data)
    author = v.nickname(author)
    if client_id is not None:
        # Operators' own idempotency space: no chat client's id contains '/', so a user who
        # takes the author's name cannot find (or pre-empt) an operator post by its client id.
        client_id = f"{OPERATOR_PREFIX}{client_id}"
    ensure_room(room)
    return store_message(room, author, text, client_id, guest=False)


def announce(message: dict) -> bool:
    """Send ``message`` to its room on every server through the message queue; False without one."""
    url = current_app.config["REDIS_URL"]
    if not url:
        log.warning("REDIS_URL is not set: message %s is stored but reaches no live client",
                    message["id"])
        return False
    # Write-only: it publishes to the queue and listens to nothing. The async mode only matters
    # to a server; "threading" keeps it from insisting on eventlet's monkey patching.
    emitter = SocketIO(message_queue=url, async_mode="threading")
    emitter.emit("message", message, to=message["room"])
    return True


def post_and_announce(room: str, text: str, author: str = DEFAULT_AUTHOR,
                      client_id: str | None = None) -> dict:
    """Store the message, then deliver it live (committed before anyone receives it)."""
    message, new = post(room, text, author, client_id)
    if new:
        announce(message)
    return message
