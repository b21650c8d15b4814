"""Every server->client event is made and sent here, and only here (Zulip's ``send_event`` rule):
what events exist, what they carry and who causes them is read in one file.

Each function sends one event through Socket.IO's client manager (``socketio.emit``), which
delivers it to the Socket.IO clients and the plain WebSocket gateway's connections (``/ws``) on
this process and, with Redis, on every process (webapp/gateway/hub.py). The last mile -- framed
once, written straight to idle sockets -- is the engine's (webapp/server/fanout.py).

Payloads are docs/protocol.md's "Server to client" table.
"""
from __future__ import annotations

from webapp import extensions
from webapp.chat import service
from webapp.extensions import socketio


def message(message: dict) -> None:
    """A new message, to everyone in its room (the sender included)."""
    socketio.emit("message", message, to=message["room"])


def presence(room: str, member: service.Member, event: str) -> None:
    """``member`` joined or left ``room`` (``event``: "join" | "leave"), to everyone in it."""
    socketio.emit("presence", service.presence_event(room, member, event), to=room)


def left(room: str, user: str) -> None:
    """``user`` left ``room`` without a connection of theirs to say so (kicked elsewhere, or
    gone with a process that died)."""
    presence(room, service.Member(sid="", name=user), "leave")


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
