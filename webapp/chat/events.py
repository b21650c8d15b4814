"""Socket.IO handlers: identify the connection, call the service, join/emit, return the ack."""
from __future__ import annotations

import functools

from flask import request, session
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from webapp.chat import service
from webapp.errors import AppError, InvalidPayload, socket_error_handler
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
    try:
        session["member"] = service.connect_guest(auth, request.sid)
    except AppError as exc:
        # The client's connect_error gets {"message": ..., "data": {"code": ..., "message": ...}}.
        raise ConnectionRefusedError(exc.message, exc.to_dict()) from None


@socketio.on("disconnect")
def on_disconnect(reason=None):
    member = session.get("member")
    if member is None:
        return
    for room in service.disconnect(member):
        emit("presence", service.presence_event(room, member, "leave"), to=room)


@client_event("rooms")
def on_rooms(data):
    return {"ok": True, "rooms": service.list_rooms()}


@client_event("join")
def on_join(data):
    member = _member()
    ack, news = service.join(member, data)
    room = ack["room"]["name"]
    join_room(room)
    if news:
        emit("presence", service.presence_event(room, member, "join"), to=room)
    return ack


@client_event("leave")
def on_leave(data):
    member = _member()
    room, was_member = service.leave(member, data)
    leave_room(room)
    if was_member:
        emit("presence", service.presence_event(room, member, "leave"), to=room)
    return {"ok": True}


@client_event("message")
def on_message(data):
    message, new = service.post_message(_member(), data)
    if new:
        emit("message", message, to=message["room"])
    return {"ok": True, "message": message}


@client_event("typing")
def on_typing(data):
    event = service.typing(_member(), data)
    emit("typing", event, to=event["room"], include_self=False)
    return {"ok": True}


@client_event("history")
def on_history(data):
    return {"ok": True, "messages": service.history(_member(), data)}


@socketio.on("*")
def on_unknown(event, *args):
    raise InvalidPayload(f"Unknown event '{event}'.", code="unknown_event")


socketio.on_error_default(socket_error_handler)
