"""A room's integrations as its owner (or an admin) manages them: outgoing webhooks, incoming
webhooks and custom slash commands. Secrets and secret URLs are answered once, at creation."""
from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from sqlalchemy import delete, func, or_, select

from webapp import validation as v
from webapp.chat import service
from webapp.chat.rooms import _owned_room
from webapp.chat.service import Member
from webapp.errors import AppError, Forbidden, InvalidPayload, NotFound
from webapp.extensions import db
from webapp.integrations import signing, ssrf
from webapp.models import IncomingWebhook, Message, Room, SlashCommand, Webhook

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MAX_PER_ROOM = 20  # of each kind: a room's integrations are a handful, not a crawl list


def _room(member: Member, room: str) -> Room:
    found = _owned_room(member, {"room": room})
    if member.user_id is None:
        raise Forbidden("Guests cannot manage integrations.")
    return found


def _count(model, room: Room) -> None:
    if db.session.scalar(select(func.count()).where(model.room_id == room.id)) >= MAX_PER_ROOM:
        raise AppError(f"A room has at most {MAX_PER_ROOM} of these.", code="too_many")


def _optional_word(data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\S{1,64}", value):
        raise InvalidPayload(f"'{key}' must be one word of at most 64 characters.")
    return value


def _name(data: dict, key: str = "name") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise InvalidPayload(f"'{key}' must be 1-32 of a-z, 0-9, '_' and '-'.")
    return value


# -- outgoing webhooks -------------------------------------------------------------------------
def add_webhook(member: Member, room: str, data: Any) -> tuple[dict, str]:
    """Register a URL for the room's new messages (``trigger``: only those starting with it);
    answers the webhook and its signing secret."""
    service.limit(member, "integration")
    found, data = _room(member, room), v.payload(data)
    url, trigger = ssrf.check_url(data.get("url")), _optional_word(data, "trigger")
    _count(Webhook, found)
    # From the room's newest message on: registering is no way to export its history.
    latest = db.session.scalar(select(func.max(Message.id)).where(Message.room_id == found.id))
    hook = Webhook(room_id=found.id, url=url, trigger=trigger, secret=signing.new_secret(),
                   created_by=member.user_id, active=True, cursor=latest or 0)
    db.session.add(hook)
    db.session.commit()
    return hook.to_dict(), hook.secret


def list_webhooks(member: Member, room: str) -> list[dict]:
    found = _room(member, room)
    return [h.to_dict() for h in db.session.scalars(
        select(Webhook).where(Webhook.room_id == found.id).order_by(Webhook.id))]


def remove(member: Member, room: str, model, item_id: int) -> None:
    """Delete one integration (a Webhook, IncomingWebhook or SlashCommand) of the room."""
    service.limit(member, "integration")
    found = _room(member, room)
    mine = model.room_id == found.id
    if model is SlashCommand and member.admin:  # a global command, removed from any room
        mine = or_(mine, model.room_id.is_(None))
    removed = db.session.execute(delete(model).where(model.id == item_id, mine)).rowcount
    db.session.commit()
    if not removed:
        raise NotFound("No such integration in this room.")


# -- incoming webhooks -------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_incoming(member: Member, room: str, data: Any) -> tuple[dict, str]:
    """A secret URL token posting to the room as ``name``; only its hash is kept."""
    service.limit(member, "integration")
    found, data = _room(member, room), v.payload(data)
    name = v.nickname(data.get("name"))
    _count(IncomingWebhook, found)
    token = secrets.token_urlsafe(32)
    hook = IncomingWebhook(room_id=found.id, name=name, token_hash=token_hash(token),
                           created_by=member.user_id)
    db.session.add(hook)
    db.session.commit()
    return hook.to_dict(), token


def list_incoming(member: Member, room: str) -> list[dict]:
    found = _room(member, room)
    return [h.to_dict() for h in db.session.scalars(
        select(IncomingWebhook).where(IncomingWebhook.room_id == found.id)
        .order_by(IncomingWebhook.id))]


# -- slash commands ----------------------------------------------------------------------------
def add_command(member: Member, room: str, data: Any, builtins) -> tuple[dict, str]:
    """A custom ``/name`` calling ``url``; ``global: true`` (admins) makes it every room's."""
    service.limit(member, "integration")
    found, data = _room(member, room), v.payload(data)
    name, url = _name(data), ssrf.check_url(data.get("url"))
    everywhere = v.flag(data, "global") if "global" in data else False
    if everywhere and not member.admin:
        raise Forbidden("Only admins add commands to every room.")
    if name in builtins or find_command(found.id, name) is not None:
        raise AppError(f"'/{name}' exists already.", code="command_exists", status=409)
    _count(SlashCommand, found)
    command = SlashCommand(room_id=None if everywhere else found.id, name=name, url=url,
                           secret=signing.new_secret(), created_by=member.user_id)
    db.session.add(command)
    db.session.commit()
    return command.to_dict(), command.secret


def find_command(room_id: int, name: str) -> SlashCommand | None:
    """The room's ``/name``, else the global one."""
    rows = db.session.scalars(select(SlashCommand).where(
        SlashCommand.name == name,
        or_(SlashCommand.room_id == room_id, SlashCommand.room_id.is_(None)))).all()
    return min(rows, key=lambda c: c.room_id is None, default=None)


def commands_of(room_id: int) -> list[dict]:
    """Custom commands usable in the room (its own and the global ones), by name."""
    return [c.to_dict() for c in db.session.scalars(select(SlashCommand).where(
        or_(SlashCommand.room_id == room_id, SlashCommand.room_id.is_(None)))
        .order_by(SlashCommand.name))]


def list_commands(member: Member, room: str) -> list[dict]:
    return commands_of(_room(member, room).id)
