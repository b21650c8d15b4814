"""Slash commands: a ``message`` whose text is ``/word ...`` runs a command instead of posting.

Built-ins are in ``BUILTINS``; a room's custom commands (and admins' global ones) call their URL
with signed JSON and post its answer as the command (a ``bot`` message) or answer it in the ack
only (``ephemeral``). An unknown command is an error (``unknown_command``), never a message;
``//text`` posts ``/text`` as it is. Every transport gets this through the ``message`` operation.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import select

from webapp import validation as v
from webapp.chat import broadcast, rooms, service
from webapp.chat.service import Member
from webapp.errors import AppError, Forbidden, InvalidPayload
from webapp.extensions import db
from webapp.integrations import manage, messages, signing, ssrf
from webapp.models import Message, Room
from webapp.notify import settings as notify_settings

COMMAND_RE = re.compile(r"/([A-Za-z0-9_-]{1,32})(?:\s+(.*))?", re.DOTALL)
MAX_TOPIC = 250
MUTE_RE = re.compile(r"(\d{1,6})\s*([mhd])?")  # /mute 30m, 8h, 2d; a bare number is minutes

# A built-in: (member, room, the text after the name, the message's payload, the connection or
# None for REST) -> (ack, whether a message was posted).
Builtin = Callable[[Member, str, str, dict, Any], tuple[dict, bool]]
BUILTINS: dict[str, tuple[str, Builtin]] = {}  # name -> (usage, function)


def builtin(name: str, usage: str):
    def register(fn: Builtin) -> Builtin:
        BUILTINS[name] = (usage, fn)
        return fn
    return register


def parse(data: Any) -> tuple[str, str] | None:
    """(name, rest) if ``data`` is a command; None for a message (``//`` is one, see ``literal``)."""
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(text, str) or text.startswith("//"):
        return None
    match = COMMAND_RE.fullmatch(text.strip())
    return (match[1].lower(), (match[2] or "").strip()) if match else None


def literal(data: Any) -> Any:
    """``//text`` is the message ``/text``."""
    if isinstance(data, dict) and isinstance(data.get("text"), str) and data["text"].startswith("//"):
        return {**data, "text": data["text"][1:]}
    return data


def run(member: Member, data: dict, conn: Any) -> tuple[dict, bool]:
    """Run the command in ``data["text"]`` in ``data["room"]``: answers (ack, posted)."""
    name, rest = parse(data)
    room = service.member_room(member, data)
    service.limit(member, "message")
    if name in BUILTINS:
        return BUILTINS[name][1](member, room, rest, data, conn)
    command = manage.find_command(service.room_id(room), name)
    if command is None:
        raise AppError(f"Unknown command '/{name}'; nothing was sent.", code="unknown_command",
                       command=name)
    return _custom(member, room, command, rest)


def available(member: Member, data: Any) -> dict:
    """``commands``: the commands usable in a room, for the page's completion list (a read:
    counted as ``history`` is)."""
    service.limit(member, "history")
    room = service.member_room(member, v.payload(data))
    listed = [{"name": n, "usage": usage, "builtin": True} for n, (usage, _) in BUILTINS.items()]
    listed += [{"name": c["name"], "usage": f"/{c['name']} ...", "builtin": False}
               for c in manage.commands_of(service.room_id(room))]
    return {"ok": True, "commands": listed}


# -- built-ins ---------------------------------------------------------------------------------
@builtin("me", "/me <action>")
def me(member: Member, room: str, rest: str, data: dict, conn: Any) -> tuple[dict, bool]:
    """An action: the message ``rest`` marked ``"kind": "me"`` (shown as "* alice waves")."""
    text, client_id = v.text({"text": rest}), v.client_id(data)
    if client_id is not None:  # a retried send: the stored one
        stored = db.session.scalar(select(Message).where(
            Message.author == member.name, Message.client_id == client_id))
        if stored is not None:
            return {"ok": True, "message": service.retry_answer(stored, room)}, False
    shown = messages.post(room, member.name, text, {"kind": "me"}, guest=member.guest,
                          user_id=member.user_id, client_id=client_id)
    return {"ok": True, "message": shown}, True


@builtin("topic", "/topic <text>")
def topic(member: Member, room: str, rest: str, data: dict, conn: Any) -> tuple[dict, bool]:
    """Set (or, without text, clear) the room's topic: its owner or an admin in a public room,
    any member in a private room or a DM."""
    found = db.session.scalar(select(Room).where(Room.name == room))
    if found.kind == "public" and not member.admin and (
            member.user_id is None or found.owner_id != member.user_id):
        raise Forbidden("Only the room's owner or an admin sets its topic.")
    if len(rest) > MAX_TOPIC or "\x00" in rest:
        raise InvalidPayload(f"A topic is at most {MAX_TOPIC} characters.", code="invalid_text")
    found.topic = rest or None
    db.session.commit()
    broadcast.topic(room, found.topic, member.name)
    return {"ok": True, "topic": found.topic}, False


@builtin("invite", "/invite @user")
def invite(member: Member, room: str, rest: str, data: dict, conn: Any) -> tuple[dict, bool]:
    """The ``invite`` operation for this room."""
    found, user = rooms.invite(member, {"room": room, "user": rest.removeprefix("@")})
    broadcast.invited(found["name"], member.name, user.id)
    return {"ok": True}, False


@builtin("leave", "/leave")
def leave(member: Member, room: str, rest: str, data: dict, conn: Any) -> tuple[dict, bool]:
    """The ``leave`` operation for this room and this connection."""
    if conn is None:
        raise AppError("/leave leaves a connection's room; REST has none.", code="not_available")
    name, change = service.leave(member, {"room": room})
    for channel in broadcast.channels(name):  # the room and its presence channels
        conn.unsubscribe(channel)
    broadcast.presence(name, member.name, change, "leave")
    return {"ok": True, "left": name}, False


@builtin("mute", "/mute [duration]")
def mute(member: Member, room: str, rest: str, data: dict, conn: Any) -> tuple[dict, bool]:
    """Mute the room's notifications (webapp/notify/settings.py): for a duration such as ``30m``,
    ``8h`` or ``2d``, or until unmuted; ``/mute off`` unmutes."""
    words = rest.strip().lower()
    if words in ("", "forever"):
        change = {"muted_until": "forever"}
    elif words in ("off", "0"):
        change = {"mute_minutes": 0}
    else:
        match = MUTE_RE.fullmatch(words)
        if match is None:
            raise InvalidPayload("Say how long: /mute 30m, /mute 8h, /mute 2d, or /mute off.",
                                 code="invalid_mute")
        amount, unit = int(match[1]), match[2] or "m"
        change = {"mute_minutes": amount * {"m": 1, "h": 60, "d": 1440}[unit]}
    answer = notify_settings.change(member, {"room": room, **change})
    return {"ok": True, "room": answer["room"]}, False


# -- custom commands ---------------------------------------------------------------------------
def _custom(member: Member, room: str, command, rest: str) -> tuple[dict, bool]:
    """POST the invocation to the command's URL; post or return its answer."""
    service.limit(member, "command")
    target = ssrf.resolve(command.url)
    payload = {"command": f"/{command.name}", "text": rest, "room": room,
               "user": {"name": member.name, "guest": member.guest, "id": member.user_id}}
    name, secret = command.name, command.secret
    db.session.commit()  # no transaction held over the request
    try:
        answer = signing.post(target, payload, secret, current_app.config["COMMAND_TIMEOUT"])
        reply = json.loads(answer.body) if 200 <= answer.status < 300 else None
    except Exception:  # noqa: BLE001 - unreachable, timed out, or not JSON: the same to the user
        reply = None
    text = reply.get("text") if isinstance(reply, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise AppError(f"'/{name}' did not answer.", code="command_failed", status=502)
    text = v.text({"text": text[:v.MAX_TEXT]})
    if reply.get("response_type") == "in_channel":
        shown = messages.post(room, name, text,
                              {"bot": True, "command": f"/{name}", "invoked_by": member.name})
        return {"ok": True, "message": shown}, True
    return {"ok": True, "ephemeral": {"command": f"/{name}", "text": text}}, False
