"""Every client operation, written once: ``op(member, data, conn) -> ack``.

The Socket.IO handlers (webapp/chat/events.py) and the plain WebSocket gateway (webapp/gateway/
connection.py) are thin adapters over ``OPS``: they say who the connection is (``member``), hand
over the payload (``data``) and a ``Conn`` for what only a connection can do (join and leave its
rooms), and send back the ack -- or the one error shape when an ``AppError`` is raised. A new
operation added here appears on both transports (tests/chat/test_ops.py drives every entry over
both). Validation, authorization and storage are the service's (service.py, rooms.py,
moderation.py); what the operation announces goes out through broadcast.py.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from webapp.chat import broadcast, changes, cluster, moderation, rooms, search, service
from webapp.chat.service import Member


class Conn(Protocol):
    """What an operation needs of the connection it came on."""

    sid: str  # the connection's id: Socket.IO's sid, or the gateway's "ws:..."

    def subscribe(self, room: str) -> None: ...  # receive the room's events from now on
    def unsubscribe(self, room: str) -> None: ...  # and no longer


Op = Callable[[Member, Any, Conn], dict]
OPS: dict[str, Op] = {}


def operation(name: str):
    def register(op: Op) -> Op:
        OPS[name] = op
        return op
    return register


@operation("rooms")
def list_rooms(member: Member, data: Any, conn: Conn) -> dict:
    return {"ok": True, **service.room_page(member, data)}


@operation("join")
def join(member: Member, data: Any, conn: Conn) -> dict:
    # Subscribed before the history is read: a message posted meanwhile arrives live; and
    # before the member list is read: a presence change after it arrives too.
    def subscribe(room: str) -> None:
        conn.subscribe(room)
        conn.subscribe(broadcast.presence_channel(room, member))

    ack, change = service.join(member, data, subscribe=subscribe)
    broadcast.presence(ack["room"]["name"], member.name, change, "join")
    return ack


@operation("leave")
def leave(member: Member, data: Any, conn: Conn) -> dict:
    room, change = service.leave(member, data)
    for channel in broadcast.channels(room):
        conn.unsubscribe(channel)
    broadcast.presence(room, member.name, change, "leave")
    return {"ok": True}


@operation("message")
def message(member: Member, data: Any, conn: Conn | None) -> dict:
    return post(member, data)[0]


def post(member: Member, data: Any) -> tuple[dict, bool]:
    """Post a message (or a reply: ``reply_to``); answers the ack and whether it is new -- a
    retry (same client_id) answers the stored message and announces nothing. REST uses it too."""
    if isinstance(data, dict) and (data.get("reply_to") is not None or data.get("files")):
        stored, events = changes.post(member, data)  # a reply (and its root's count), or files
        broadcast.changes(events)
        return {"ok": True, "message": stored}, bool(events)
    stored, new = service.post_message(member, data)
    if new:
        broadcast.message(stored)
    return {"ok": True, "message": stored}, new


def _change(change) -> Op:
    """An operation that changes the room: its ack, once its events are sent."""
    def op(member: Member, data: Any, conn: Conn) -> dict:
        ack, events = change(member, data)
        broadcast.changes(events)
        return ack
    op.__doc__ = change.__doc__
    return op


OPS["edit"] = _change(changes.edit)
OPS["delete_message"] = _change(changes.delete_message)
OPS["react"] = _change(changes.react)
OPS["pin"] = _change(changes.pin)


def _read(read) -> Op:
    """An operation that only reads: the service's answer is the ack."""
    def op(member: Member, data: Any, conn: Conn) -> dict:
        return read(member, data)
    op.__doc__ = read.__doc__
    return op


OPS["sync"] = _read(changes.sync)
OPS["edits"] = _read(changes.edits)
OPS["pins"] = _read(changes.pins)
OPS["search"] = _read(search.search)
OPS["thread"] = _read(changes.thread)


@operation("typing")
def typing(member: Member, data: Any, conn: Conn) -> dict:
    broadcast.typing(service.typing(member, data), skip_sid=conn.sid)
    return {"ok": True}


@operation("history")
def history(member: Member, data: Any, conn: Conn) -> dict:
    return {"ok": True, "messages": service.history(member, data)}


@operation("create_room")
def create_room(member: Member, data: Any, conn: Conn) -> dict:
    return {"ok": True, "room": rooms.create_room(member, data)}


@operation("dm")
def dm(member: Member, data: Any, conn: Conn) -> dict:
    room, other = rooms.open_dm(member, data)
    broadcast.invited(room["name"], member.name, other.id)
    return {"ok": True, "room": room}


@operation("invite")
def invite(member: Member, data: Any, conn: Conn) -> dict:
    room, user = rooms.invite(member, data)
    broadcast.invited(room["name"], member.name, user.id)
    return {"ok": True}


@operation("kick")
def kick(member: Member, data: Any, conn: Conn) -> dict:
    room, key, name, ban = rooms.kick(member, data)
    cluster.kick_everywhere(room, key, name, by=member.name, ban=ban)
    return {"ok": True}


@operation("ban")
def ban(member: Member, data: Any, conn: Conn) -> dict:
    cluster.ban_everywhere(*moderation.ban(member, data))
    return {"ok": True}


@operation("unban")
def unban(member: Member, data: Any, conn: Conn) -> dict:
    return {"ok": True, "lifted": moderation.unban(member, data)}


@operation("bans")
def bans(member: Member, data: Any, conn: Conn) -> dict:
    return {"ok": True, "bans": moderation.list_bans(member, data)}


@operation("block")
def block(member: Member, data: Any, conn: Conn) -> dict:
    rooms.block(member, data)
    return {"ok": True}


@operation("blocks")
def blocks(member: Member, data: Any, conn: Conn) -> dict:
    return {"ok": True, "blocks": rooms.list_blocks(member, data)}


def disconnected(member: Member) -> None:
    """A connection ended: it leaves every room it was in, and the rooms hear of it."""
    for room, change in service.disconnect(member):
        broadcast.presence(room, member.name, change, "leave")
