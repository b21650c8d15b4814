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

from webapp import activity as foreground
from webapp.chat import (
    broadcast,
    changes,
    cluster,
    mentions,
    moderation,
    profiles,
    reads,
    rooms,
    search,
    service,
)
from webapp.chat.service import Member
from webapp.data import retention
from webapp.extensions import activity
from webapp.integrations import commands
from webapp.notify import settings as notify_settings


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
    page = service.room_page(member, data)
    reads.annotate(member, page["rooms"])  # accounts: last_read, unread, mentions per room
    return {"ok": True, **page}


@operation("join")
def join(member: Member, data: Any, conn: Conn) -> dict:
    # Subscribed before the history is read: a message posted meanwhile arrives live; and
    # before the member list is read: a presence change after it arrives too.
    def subscribe(room: str) -> None:
        conn.subscribe(room)
        conn.subscribe(broadcast.presence_channel(room, member))

    ack, change = service.join(member, data, subscribe=subscribe)
    ack.update(reads.on_join(member, service.find_room(ack["room"]["name"]), ack["seq"]))
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
    return post(member, data, conn)[0]


def post(member: Member, data: Any, conn: Conn | None = None) -> tuple[dict, bool]:
    """Post a message (or a reply: ``reply_to``); answers the ack and whether it is new -- a
    retry (same client_id) answers the stored message and announces nothing. REST uses it too.

    A text ``/word ...`` runs a slash command instead (webapp/integrations/commands.py)."""
    if commands.parse(data) is not None:
        return commands.run(member, data, conn)
    data = commands.literal(data)
    if isinstance(data, dict) and (data.get("reply_to") is not None or data.get("files")
                                   or mentions.may_mention(data.get("text"))):
        # A reply (and its root's count), files, or mentions: stored with the message, in its
        # transaction (the group commit below stores bare rows only).
        stored, events = changes.post(member, data)
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


@operation("active")
def active(member: Member, data: Any, conn: Conn) -> dict:
    """A page is in the foreground (or went to the background): webapp/activity.py."""
    service.limit(member, "active")
    return foreground.report(activity, member, data)


# -- notifications (issue 18): webapp/notify/settings.py ---------------------------------------
OPS["notify_settings"] = _read(notify_settings.read)
OPS["set_notify"] = _read(notify_settings.change)
OPS["push_subscribe"] = _read(notify_settings.subscribe)
OPS["push_unsubscribe"] = _read(notify_settings.unsubscribe)
# -- your data (issue 20): how long a room keeps its messages (webapp/data/retention.py) ------
@operation("set_retention")
def set_retention(member: Member, data: Any, conn: Conn) -> dict:
    return retention.set_retention(member, data)
# -- integrations (issue 20): the slash commands a room offers, for the composer's completion -----
OPS["commands"] = _read(commands.available)
# -- profiles (issue 18): display name, avatar, status; the avatar itself is uploaded by REST ----
@operation("profile")
def profile(member: Member, data: Any, conn: Conn) -> dict:
    return {"ok": True, "profile": profiles.profile(member, data)}


@operation("profiles")
def profile_cards(member: Member, data: Any, conn: Conn) -> dict:
    return {"ok": True, "profiles": profiles.profiles(member, data)}


@operation("set_profile")
def set_profile(member: Member, data: Any, conn: Conn | None) -> dict:
    card, changed = profiles.set_profile(member, data)
    if changed:
        broadcast.profile(card, member.user_id)
    return {"ok": True, "profile": card}
# -- read state and mentions (issue 18) ---------------------------------------------------------
@operation("read")
def read(member: Member, data: Any, conn: Conn | None) -> dict:
    marked = reads.mark(member, data)
    if marked.moved and member.user_id is not None:
        broadcast.read(member.user_id, marked.ack)
    if marked.receipt:
        broadcast.receipt(marked.ack["room"], member.name, marked.ack["last_read"])
    return marked.ack


OPS["read_receipts"] = _read(reads.set_receipts)
OPS["mentions"] = _read(mentions.listing)


def disconnected(member: Member) -> None:
    """A connection ended: it leaves every room it was in, and the rooms hear of it."""
    reads.forget(member.sid)
    for room, change in service.disconnect(member):
        broadcast.presence(room, member.name, change, "leave")
