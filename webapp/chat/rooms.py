"""Private rooms, direct conversations, kicks and blocks: who may do it, and what changes.

Service layer like ``service.py``: no sockets. The handlers turn the answers into broadcasts,
kicks and disconnections. Bans, and what a kick or a block keeps out, are ``moderation.py``'s.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from webapp import accounts, audit
from webapp import validation as v
from webapp.chat import moderation, service
from webapp.chat.service import Member
from webapp.errors import AppError, Forbidden, InvalidPayload, NotFound
from webapp.extensions import db
from webapp.models import Block, Room, RoomMember, User


def _account_only(member: Member, what: str) -> None:
    if member.user_id is None:
        raise Forbidden(f"Guests cannot {what}; register or log in.")


def _target(data: dict) -> User:
    user = accounts.find_user(v.nickname(data.get("user")))
    if user is None:
        raise NotFound("No registered user by that name.")
    return user


def create_room(member: Member, data: Any) -> dict:
    """Create a room; ``private: true`` makes it invitation-only with ``member`` as owner."""
    service.limit(member, "create_room", by_address=True)
    data = v.payload(data)
    name = v.room_name(data)
    private = data.get("private", False)
    if not isinstance(private, bool):
        raise InvalidPayload("'private' must be true or false.")
    if private:
        _account_only(member, "own private rooms")
    # Before looking the name up: "room_exists" for a DM name would tell who talks to whom.
    if service.DM_RE.fullmatch(name):
        raise Forbidden("Names of the form dm-<id>-<id> belong to direct conversations.")
    if service.find_room(name) is not None:
        raise AppError(f"'{name}' exists already.", code="room_exists", status=409)
    room = Room(name=name, kind="private" if private else "public", owner_id=member.user_id)
    db.session.add(room)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AppError(f"'{name}' exists already.", code="room_exists", status=409) from None
    if private:
        db.session.add(RoomMember(room_id=room.id, user_id=member.user_id))
    db.session.commit()
    return room.to_dict()


def open_dm(member: Member, data: Any) -> tuple[dict, User]:
    """The direct conversation between ``member`` and ``data["user"]``, created on first use."""
    _account_only(member, "send direct messages")
    service.limit(member, "invite")  # each opening notifies the other person
    other = _target(v.payload(data))
    if other.id == member.user_id:
        raise InvalidPayload("A direct conversation needs someone else.")
    # A block (either way) and a banned account get the same answer: a block never shows.
    if other.banned_at is not None or moderation.either_blocks(member.user_id, other.id):
        raise Forbidden(moderation.CANNOT_DM)
    low, high = sorted((member.user_id, other.id))
    name = f"dm-{low}-{high}"
    room = service.find_room(name)
    if room is None:
        room = Room(name=name, kind="dm")
        db.session.add(room)
        try:
            db.session.flush()
            db.session.add_all([RoomMember(room_id=room.id, user_id=uid) for uid in (low, high)])
            db.session.commit()
        except IntegrityError:  # both opened it at once
            db.session.rollback()
            room = service.find_room(name)
    return room.to_dict(), other


def _owned_room(member: Member, data: dict) -> Room:
    """The named room if ``member`` owns it or is an admin.

    Anyone else gets ``forbidden`` whether the room exists or not: ``not_found`` for a missing
    name against ``forbidden`` for a private room would let outsiders probe for private rooms.
    """
    room = service.find_room(v.room_name(data))
    if member.admin:
        if room is None:
            raise NotFound("No such room.")
        return room
    if room is None or member.user_id is None or room.owner_id != member.user_id:
        raise Forbidden("Only the room's owner or an admin may do that.")
    return room


def invite(member: Member, data: Any) -> tuple[dict, User]:
    """Let ``data["user"]`` into a private room (the owner or an admin decides)."""
    service.limit(member, "invite")  # each invitation notifies the invitee
    data = v.payload(data)
    room = _owned_room(member, data)
    if room.kind != "private":
        raise InvalidPayload("Only private rooms take invitations.")
    user = _target(data)
    if user.banned_at is not None or moderation.blocks(user.id, member.user_id):
        raise Forbidden(moderation.CANNOT_INVITE)  # as for a ban: a block never shows
    if db.session.get(RoomMember, (room.id, user.id)) is None:
        db.session.add(RoomMember(room_id=room.id, user_id=user.id))
        db.session.commit()
    return room.to_dict(), user


def kick(member: Member, data: Any) -> tuple[str, str, str, dict | None]:
    """Put ``data["user"]`` out of a room: from a private room for good, from a public one for
    ``KICK_MINUTES`` (the identity, and guests from its addresses).

    Answers (room, the target's identity key, the target's name, what to ban for each of the
    target's connections' addresses, or None) for the handler to act on.
    """
    data = v.payload(data)
    room = _owned_room(member, data)
    name = v.nickname(data.get("user"))
    user = accounts.find_user(name)
    if user is not None and user.id == room.owner_id:
        raise Forbidden("The owner cannot be kicked.")
    ban = None
    if room.kind == "public":
        ban = moderation.ban_from_room(member, room, user, name)
    elif user is not None:
        db.session.execute(
            delete(RoomMember).where(RoomMember.room_id == room.id, RoomMember.user_id == user.id)
        )
        db.session.commit()
    key = f"user:{user.id}" if user is not None else f"guest:{name.casefold()}"
    audit.record("kick", actor=member, target=key, details={"room": room.name})
    return room.name, key, user.name if user is not None else name, ban


def block(member: Member, data: Any) -> None:
    """``on: true``: take no DMs or invitations from ``data["user"]``; ``false`` lifts it."""
    _account_only(member, "block users")
    service.limit(member, "block")
    data = v.payload(data)
    on = v.flag(data, "on")
    other = _target(data)
    if other.id == member.user_id:
        raise InvalidPayload("You cannot block yourself.")
    row = db.session.get(Block, (member.user_id, other.id))
    if on and row is None:
        db.session.add(Block(blocker_id=member.user_id, blocked_id=other.id))
    elif not on and row is not None:
        db.session.delete(row)
    db.session.commit()


def list_blocks(member: Member, data: Any) -> list[dict]:
    """The users ``member`` has blocked, by name."""
    _account_only(member, "block users")
    if data is not None:
        v.payload(data)
    return moderation.blocked_by(member.user_id)
