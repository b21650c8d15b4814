"""Socket.IO's adapter: identify the connection, then serve every operation of webapp/chat/ops.py
as an event of the same name, its ack the operation's answer."""
from __future__ import annotations

import functools

from flask import request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room, leave_room

from webapp import metrics
from webapp.chat import cluster, ops, service
from webapp.errors import AppError, Flooding, InvalidPayload, socket_error_handler
from webapp.extensions import socketio


def _member() -> service.Member:
    return session["member"]


def client_event(name: str):
    """Register a client->server event that takes one payload; extra arguments are refused."""

    def register(handler):
        @functools.wraps(handler)
        def dispatch(*args):
            if len(args) > 1:
                raise InvalidPayload("Send one JSON object per event.")
            return handler(args[0] if args else None)

        return socketio.on(name)(dispatch)

    return register


@socketio.on("connect")
def on_connect(auth=None):
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        member = service.connect(auth, request.sid, user=user, address=request.remote_addr)
    except AppError as exc:
        # The client's connect_error gets {"message": ..., "data": {"code": ..., "message": ...}}.
        raise ConnectionRefusedError(exc.message, exc.to_dict()) from None
    session["member"] = member
    for room in cluster.identity_rooms(member):
        join_room(room)
    metrics.connected("socketio", 1)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    member = session.get("member")
    if member is not None:
        metrics.connected("socketio", -1)
        ops.disconnected(member)


class _Connection:
    """The Socket.IO connection of the event being handled, as an operation sees it."""

    @property
    def sid(self) -> str:
        return request.sid

    def subscribe(self, room: str) -> None:
        join_room(room)

    def unsubscribe(self, room: str) -> None:
        leave_room(room)


_CONNECTION = _Connection()


def _adapt(name: str, op: ops.Op) -> None:
    """Serve ``op`` as the Socket.IO event ``name``: its ack is the operation's answer."""
    client_event(name)(lambda data: metrics.run(name, op, _member(), data, _CONNECTION))


for _name, _op in ops.OPS.items():
    _adapt(_name, _op)


@socketio.on("*")
def on_unknown(event, *args):
    raise InvalidPayload(f"Unknown event '{event}'.", code="unknown_event")


@socketio.on_error_default
def on_error(exc: Exception) -> dict:
    ack = socket_error_handler(exc)
    if isinstance(exc, Flooding):
        sid = request.sid

        def close_after_ack():
            socketio.sleep(0.1)  # let the ack with the reason go out first
            socketio.server.disconnect(sid, namespace="/")

        socketio.start_background_task(close_after_ack)
    return ack
