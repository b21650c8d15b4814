"""Every server->client event is made and sent here, and only here (Zulip's ``send_event`` rule):
what events exist, what they carry and who causes them is read in one file.

Each function sends one event through Socket.IO's client manager (``socketio.emit``), which
delivers it to the Socket.IO clients and the plain WebSocket gateway's connections (``/ws``) on
this process and, with Redis, on every process (webapp/gateway/hub.py). The last mile -- framed
once, written straight to idle sockets -- is the engine's (webapp/server/fanout.py).

Payloads are docs/protocol.md's "Server to client" table.
"""
from __future__ import annotations

from socketio import PubSubManager

from webapp import extensions
from webapp.chat import service
from webapp.extensions import socketio
from webapp.presence import Change


def message(message: dict) -> None:
    """A new message, to everyone in its room (the sender included)."""
    socketio.emit("message", message, to=message["room"])


# -- presence ----------------------------------------------------------------------------------
# A connection in a room hears of its comings and goings through one of two sub-rooms of it:
# protocol 1 connections through "presence:1:<room>", each event carrying the room's whole member
# list as version 1 promised; protocol 2 connections through "presence:2:<room>", each event only
# the change (their join ack holds the whole list once). One fan-out per kind; room names have
# no ':' so the sub-rooms never meet a room or an identity room.
def presence_channel(room: str, member: service.Member) -> str:
    """The sub-room through which ``member``'s connection hears of ``room``'s comings and goings."""
    return f"presence:{2 if member.deltas else 1}:{room}"


def channels(room: str) -> tuple[str, ...]:
    """Everything a connection in ``room`` may be subscribed to for it (to leave them all)."""
    return room, f"presence:1:{room}", f"presence:2:{room}"


def presence(room: str, user: str, change: Change, event: str) -> None:
    """``user``'s connection joined or left ``room`` (``event``: "join" | "leave").

    Protocol 1 hears of every connection, with the member list; protocol 2 only of the user's
    first connection in (``change.user``) and last out, on every process.
    """
    full = f"presence:1:{room}"
    if change.connection and _may_have_listeners(full):
        # The whole list is built only for someone to read it: in a room of thousands of
        # protocol 2 clients, each join would otherwise cost a sort of everyone (issue 19).
        socketio.emit("presence", service.presence_event(room, user, event), to=full)
    if change.user:
        socketio.emit("presence", service.presence_delta(room, user, event),
                      to=f"presence:2:{room}")


def left(room: str, user: str) -> None:
    """``user`` left ``room`` without a connection of theirs to say so (kicked elsewhere, or
    gone with a process that died)."""
    presence(room, user, Change(connection=True, user=True), "leave")


def _may_have_listeners(channel: str) -> bool:
    """Whether a connection may be subscribed to ``channel``: here, or on another process."""
    manager = socketio.server.manager
    if isinstance(manager, PubSubManager):
        return True  # other processes' connections are not known here
    hub = getattr(manager, "gateway", None)  # plain WebSocket clients (webapp/gateway/hub.py)
    if hub is not None and hub.rooms.get(channel):
        return True
    return next(iter(manager.get_participants("/", channel)), None) is not None


def typing(event: dict, skip_sid: str) -> None:
    """Someone is (or stopped) typing: to the others in the room."""
    socketio.emit("typing", event, to=event["room"], skip_sid=skip_sid)


def changes(events: list[tuple[str, dict]]) -> None:
    """Changes to a room's content, each to everyone in the room, in the order given (seq
    order): ``message``, ``message_edited``, ``message_deleted``, ``reaction``, ``pin``,
    ``replies`` (webapp/chat/changes.py makes them; each payload has ``room`` and ``seq``)."""
    for name, payload in events:
        socketio.emit(name, payload, to=payload["room"])


def invited(room: str, by: str, user_id: int) -> None:
    """An invitation to a private room, or a new DM: to every connection of the invited user."""
    socketio.emit("invited", {"room": room, "by": by}, to=f"user:{user_id}")


def kicked(room: str, by: str, sid: str) -> None:
    """One connection was taken out of ``room``: to that connection (Socket.IO or /ws)."""
    socketio.emit("kicked", {"room": room, "by": by}, to=sid)


def topic(room: str, topic: str | None, by: str) -> None:
    """The room's topic was set (``/topic``; None: cleared), to everyone in it."""
    socketio.emit("topic", {"room": room, "topic": topic, "by": by}, to=room)


def archived(room: str, archived: bool) -> None:
    """An admin archived ``room`` (read-only) or opened it again: its members' pages say so."""
    socketio.emit("archived", {"room": room, "archived": archived}, to=room)


def profile(card: dict, user_id: int) -> None:
    """A person's profile changed (``set_profile``, an avatar): to the rooms they are in on any
    process and to their own connections (their other tabs), once to each connection."""
    rooms = [*extensions.presence.rooms_with(card["user"]), f"user:{user_id}"]
    socketio.emit("profile", card, to=rooms)


# -- read state (issue 18) ----------------------------------------------------------------------
def read(user_id: int, ack: dict) -> None:
    """A user's read position moved: to every connection of theirs (tabs, devices, bots)."""
    event = {k: ack[k] for k in ("room", "last_read", "unread", "mentions")}
    socketio.emit("read", event, to=f"user:{user_id}")


def receipt(room: str, user: str, last_read: int) -> None:
    """How far ``user`` has read, to a conversation or small private room (read receipts)."""
    socketio.emit("receipt", {"room": room, "user": user, "last_read": last_read}, to=room)
