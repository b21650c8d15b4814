"""Socket.IO handlers: identify the connection, call the service, join/emit, return the ack."""
from __future__ import annotations

import functools

from flask import request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from webapp.chat import cluster, moderation, rooms, service
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


def identity_rooms(member: service.Member) -> list[str]:
    """Socket.IO rooms that address a person or a token, for moderation and revocation."""
    rooms = [member.key]
    if member.token_id:
        rooms.append(f"token:{member.token_id}")
    elif member.user_id:  # identified by the login cookie: logging out closes these, not bots'
        rooms.append(f"login:{member.user_id}")
    return rooms


def close_connections(room: str) -> None:
    """Disconnect every connection in a Socket.IO room (a revoked token's, a banned user's)."""
    cluster.close_room_everywhere(room)


def disconnect_token(token_id: int) -> None:
    close_connections(f"token:{token_id}")


def disconnect_logins(user_id: int) -> None:
    """Close a user's connections made with a login (session) cookie; API tokens' stay."""
    close_connections(f"login:{user_id}")


@socketio.on("connect")
def on_connect(auth=None):
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        member = service.connect(auth, request.sid, user=user, address=request.remote_addr)
    except AppError as exc:
        # The client's connect_error gets {"message": ..., "data": {"code": ..., "message": ...}}.
        raise ConnectionRefusedError(exc.message, exc.to_dict()) from None
    session["member"] = member
    for room in identity_rooms(member):
        join_room(room)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    member = session.get("member")
    if member is None:
        return
    for room in service.disconnect(member):
        emit("presence", service.presence_event(room, member, "leave"), to=room)


@client_event("rooms")
def on_rooms(data):
    return {"ok": True, **service.room_page(_member(), data)}


@client_event("join")
def on_join(data):
    member = _member()
    ack, news = service.join(member, data, subscribe=join_room)
    room = ack["room"]["name"]
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


@client_event("create_room")
def on_create_room(data):
    return {"ok": True, "room": rooms.create_room(_member(), data)}


@client_event("dm")
def on_dm(data):
    member = _member()
    room, other = rooms.open_dm(member, data)
    emit("invited", {"room": room["name"], "by": member.name}, to=f"user:{other.id}")
    return {"ok": True, "room": room}


@client_event("invite")
def on_invite(data):
    member = _member()
    room, user = rooms.invite(member, data)
    emit("invited", {"room": room["name"], "by": member.name}, to=f"user:{user.id}")
    return {"ok": True}


@client_event("kick")
def on_kick(data):
    member = _member()
    room, key, name, ban = rooms.kick(member, data)
    cluster.kick_everywhere(room, key, name, by=member.name, ban=ban)
    return {"ok": True}


@client_event("delete_message")
def on_delete_message(data):
    event = rooms.delete_message(_member(), data)
    emit("message_deleted", event, to=event["room"])
    return {"ok": True}


@client_event("ban")
def on_ban(data):
    cluster.ban_everywhere(*moderation.ban(_member(), data))
    return {"ok": True}


@client_event("unban")
def on_unban(data):
    return {"ok": True, "lifted": moderation.unban(_member(), data)}


@client_event("bans")
def on_bans(data):
    return {"ok": True, "bans": moderation.list_bans(_member(), data)}


@client_event("block")
def on_block(data):
    rooms.block(_member(), data)
    return {"ok": True}


@client_event("blocks")
def on_blocks(data):
    return {"ok": True, "blocks": rooms.list_blocks(_member(), data)}


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
