"""Bans, room bans after kicks, and blocks: what is kept out, how it is checked, listed, lifted.

Service layer like ``service.py``: no sockets. A ban has two halves: the rows written here, at
once, by the process that handles the order (the account or the guest name), and the addresses
of the person's live connections, which only the processes holding those connections know: each
of them bans its own connections' addresses (``ban_addresses``, called from
``webapp/chat/cluster.py``) before closing them. Address bans keep guests out; accounts are
judged by their own bans only (an office shares one NAT address). docs/security.md, Moderation.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import String, and_, bindparam, delete, or_, select, text
from sqlalchemy.orm import aliased

from webapp import accounts, audit
from webapp import validation as v
from webapp.errors import AppError, Forbidden, InvalidPayload, NotFound
from webapp.extensions import db
from webapp.models import Ban, Block, Room, User, iso, utcnow

if TYPE_CHECKING:
    from webapp.chat.service import Member

# A guest ban lasts at most a year: a longer one is for an account, and an address changes hands.
MAX_MINUTES = 366 * 24 * 60
MAX_REASON = 200
BANS_PAGE, BANS_PAGE_MAX = 100, 200
# The one answer to a blocked person, the same as for reasons that are no one's secret (the
# other account is banned): a block is never revealed to the person blocked.
CANNOT_DM = "You cannot start a conversation with this user."
CANNOT_INVITE = "You cannot invite this user."


def _live(now: datetime | None = None):
    return or_(Ban.expires_at.is_(None), Ban.expires_at > (now or utcnow()))


def _banned_until(where) -> tuple[bool, str | None]:
    """Whether a live ban matches ``where``, and until when (None: one of them is permanent)."""
    ends = list(db.session.scalars(select(Ban.expires_at).where(where, _live()).limit(50)))
    if not ends:
        return False, None
    return True, None if None in ends else iso(max(ends))


# -- checks on the way in ----------------------------------------------------------------------
# A guest's way in, in one statement: is the name an account's, and is the name or the address
# banned from the server? Text SQL, compiled once: every guest's connect asks it (two ORM
# queries were most of a connect's cost: bench `connect`).
_GUEST_CHECK = text(
    "SELECT 'account' AS kind, NULL AS expires_at FROM users WHERE name_key = :name "
    "UNION ALL "
    "SELECT 'ban' AS kind, expires_at FROM bans WHERE room_id IS NULL "
    "AND ((address IS NULL AND name_key = :name) OR address = :address) "
    "AND (expires_at IS NULL OR expires_at > :now) "
    "LIMIT 51"
).bindparams(bindparam("now", type_=Ban.__table__.c.expires_at.type)).columns(
    kind=String(), expires_at=Ban.__table__.c.expires_at.type)


def check_guest(name: str, address: str | None) -> None:
    """Refuse a guest name that is an account's (``name_registered``), or a guest whose name or
    address is banned from the server (``banned``)."""
    rows = db.session.execute(_GUEST_CHECK, {"name": name.casefold(), "address": address,
                                             "now": utcnow()}).all()
    if any(row.kind == "account" for row in rows):
        raise AppError(f"'{name}' belongs to a registered user.", code="name_registered")
    ends = [row.expires_at for row in rows if row.kind == "ban"]
    if ends:
        until = None if None in ends else iso(max(ends))
        raise AppError(f"This name or your address is banned here until {until}.",
                       code="banned", status=403, until=until)


def check_room(member: Member, room: Room) -> None:
    """Refuse ``member`` a public room they were kicked from, while that lasts (``kicked``).

    The kicked identity is refused, and guests from its addresses; admins never are.
    """
    if member.admin:
        return
    if member.user_id is not None:
        params = {"user": member.user_id, "name": None, "address": None}
    else:
        params = {"user": None, "name": member.name.casefold(), "address": member.address}
    ends = list(db.session.scalars(_ROOM_CHECK, {"room": room.id, "now": utcnow(), **params}))
    if ends:
        until = None if None in ends else iso(max(ends))
        raise AppError(f"You were put out of '{room.name}'; you may come back after {until}.",
                       code="kicked", status=403, until=until)


# Every join of a public room asks it: compiled once, like _GUEST_CHECK. An account is judged
# by its own room bans; a guest by its name's and its address's (NULL matches nothing).
_ROOM_CHECK = text(
    "SELECT expires_at FROM bans WHERE room_id = :room "
    "AND ((address IS NULL AND (user_id = :user OR name_key = :name)) OR address = :address) "
    "AND (expires_at IS NULL OR expires_at > :now) "
    "LIMIT 50"
).bindparams(bindparam("now", type_=Ban.__table__.c.expires_at.type)).columns(
    expires_at=Ban.__table__.c.expires_at.type)


# -- bans --------------------------------------------------------------------------------------
def ban(member: Member, data: Any) -> tuple[str, dict | None]:
    """Ban an account for good, or a guest name for ``minutes`` (admins only).

    Answers the identity's Socket.IO room, whose connections are to close everywhere, and what
    the processes holding them write for each of their addresses (None: no address bans).
    """
    if not member.admin:
        raise Forbidden("Only admins may ban users.")
    data = v.payload(data)
    name = v.nickname(data.get("user"))
    minutes, reason = _minutes(data), _reason(data)
    config, now = current_app.config, utcnow()
    user = accounts.find_user(name)
    if user is not None:
        if minutes is not None:
            raise InvalidPayload("An account's ban lasts until 'unban'; 'minutes' is for guests.")
        if user.id == member.user_id:
            raise InvalidPayload("Admins cannot ban themselves.")
        accounts.ban(user.name)
        key, whose, until = f"user:{user.id}", {"user_id": user.id}, None
        address_minutes = config["BAN_ADDRESS_MINUTES"]
    else:  # a guest: online now, or gone and kept from coming back under the name
        address_minutes = minutes or config["BAN_GUEST_MINUTES"]
        key, whose = f"guest:{name.casefold()}", {"name_key": name.casefold()}
        until = now + timedelta(minutes=address_minutes)
    # A second ban of the same person replaces the first (its duration and reason); expired
    # rows go while we are at it, which keeps the table small.
    this_one = and_(Ban.address.is_(None), Ban.room_id.is_(None), *_matching(whose))
    db.session.execute(delete(Ban).where(or_(this_one, Ban.expires_at <= now)))
    db.session.add(Ban(created_by=member.user_id, reason=reason, expires_at=until, **whose))
    db.session.commit()
    audit.record("ban", actor=member, target=key, details={
        "reason": reason, "expires_at": iso(until) if until else None})
    if address_minutes <= 0:
        return key, None
    expires = iso(now + timedelta(minutes=address_minutes))
    return key, {**whose, "created_by": member.user_id, "reason": reason, "expires_at": expires}


def _matching(whose: dict) -> list:
    return [getattr(Ban, column) == value for column, value in whose.items()]


def ban_from_room(member: Member, room: Room, user: User | None, name: str) -> dict | None:
    """A kick from a public room: keep the identity out of it for ``KICK_MINUTES``; answers
    what to write for its connections' addresses (None when kicks ban nothing)."""
    minutes = current_app.config["KICK_MINUTES"]
    if minutes <= 0:
        return None
    whose = {"user_id": user.id} if user is not None else {"name_key": name.casefold()}
    expires = utcnow() + timedelta(minutes=minutes)
    db.session.add(Ban(room_id=room.id, created_by=member.user_id, expires_at=expires, **whose))
    db.session.commit()
    return {**whose, "room_id": room.id, "created_by": member.user_id, "expires_at": iso(expires)}


def ban_addresses(addresses: Iterable[str], order: dict) -> None:
    """Ban ``addresses`` as ``order`` says (from ``ban`` or ``ban_from_room``), on the process
    that holds the connections from them; one already banned as long is left alone."""
    expires = datetime.fromisoformat(order["expires_at"])
    fields = {key: order.get(key) for key in ("user_id", "name_key", "room_id", "created_by")}
    room = Ban.room_id.is_(None) if fields["room_id"] is None else Ban.room_id == fields["room_id"]
    for address in sorted(set(filter(None, addresses))):
        if _banned_until(and_(Ban.address == address, room, Ban.expires_at >= expires))[0]:
            continue
        db.session.add(Ban(address=address, reason=order.get("reason"), expires_at=expires, **fields))
    db.session.commit()


def unban(member: Member, data: Any) -> int:
    """Lift the bans of a user or guest name (with their addresses' and room bans), and/or of an
    address (admins only); answers how many were lifted."""
    if not member.admin:
        raise Forbidden("Only admins may lift bans.")
    data = v.payload(data)
    if data.get("user") is None and data.get("address") is None:
        raise InvalidPayload("Name the 'user' or the 'address' to unban.")
    lifted = 0
    if data.get("user") is not None:
        name = v.nickname(data["user"])
        user = accounts.find_user(name)
        whose = Ban.name_key == name.casefold()
        if user is not None:
            whose = or_(whose, Ban.user_id == user.id)
            if user.banned_at is not None:
                user.banned_at = None  # logins ended with the ban; the user logs in again
                lifted += 1
        lifted += db.session.execute(delete(Ban).where(whose, _live())).rowcount
    if data.get("address") is not None:
        address = _address(data["address"])
        lifted += db.session.execute(delete(Ban).where(Ban.address == address, _live())).rowcount
    if not lifted:
        db.session.rollback()
        raise NotFound("No ban matches.")
    db.session.commit()
    audit.record("unban", actor=member, target=data.get("user") or data.get("address"),
                 details={"lifted": lifted})
    return lifted


def list_bans(member: Member, data: Any) -> list[dict]:
    """The newest live bans (admins only), accounts deactivated from the shell included."""
    if not member.admin:
        raise Forbidden("Only admins may list bans.")
    data = {} if data is None else v.payload(data)
    size = v.optional_int(data, "limit", 1, BANS_PAGE_MAX, default=BANS_PAGE)
    target, by = aliased(User), aliased(User)
    rows = db.session.execute(
        select(Ban, target.name, by.name, Room.name)
        .outerjoin(target, Ban.user_id == target.id).outerjoin(by, Ban.created_by == by.id)
        .outerjoin(Room, Ban.room_id == Room.id)
        .where(_live()).order_by(Ban.id.desc()).limit(size)
    ).all()
    bans = [_ban_dict(ban, user, creator, room) for ban, user, creator, room in rows]
    recorded = {b["user"] for b in bans if b["room"] is None and b["address"] is None}
    shell = db.session.scalars(select(User).where(User.banned_at.is_not(None))
                               .order_by(User.banned_at.desc()).limit(size))
    bans += [{"user": u.name, "guest": False, "address": None, "room": None, "by": None,
              "reason": None, "created_at": iso(u.banned_at), "expires_at": None}
             for u in shell if u.name not in recorded]
    return bans[:size]


def _ban_dict(ban: Ban, user: str | None, creator: str | None, room: str | None) -> dict:
    return {
        "user": user or ban.name_key,
        "guest": ban.user_id is None,
        "address": ban.address,
        "room": room,
        "by": creator,
        "reason": ban.reason,
        "created_at": iso(ban.created_at),
        "expires_at": iso(ban.expires_at) if ban.expires_at else None,
    }


def _minutes(data: dict) -> float | None:
    value = data.get("minutes")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_MINUTES:
        raise InvalidPayload(f"'minutes' must be a number above 0 and at most {MAX_MINUTES}.")
    return float(value)


def _reason(data: dict) -> str | None:
    value = data.get("reason")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_REASON or "\x00" in value:
        raise InvalidPayload(f"'reason' must be text of at most {MAX_REASON} characters.")
    return value.strip() or None


def _address(value: object) -> str:
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    raise InvalidPayload("'address' must be an IPv4 or IPv6 address, such as '203.0.113.7'.")


# -- blocks ------------------------------------------------------------------------------------
def blocks(blocker_id: int, blocked_id: int) -> bool:
    """Whether ``blocker_id`` has blocked ``blocked_id``."""
    return db.session.get(Block, (blocker_id, blocked_id)) is not None


def either_blocks(one: int, other: int) -> bool:
    """Whether either of two users has blocked the other: their DM is then closed to both."""
    pair = or_(and_(Block.blocker_id == one, Block.blocked_id == other),
               and_(Block.blocker_id == other, Block.blocked_id == one))
    return db.session.scalar(select(Block.blocker_id).where(pair).limit(1)) is not None


def dm_blocked(room: Room, user_id: int) -> bool:
    """Whether the DM ``room`` (``dm-<low>-<high>``) is closed by a block between its two."""
    low, high = (int(part) for part in room.name[3:].split("-"))
    return either_blocks(low, high) if user_id in (low, high) else False


def blocked_by(user_id: int) -> list[dict]:
    """Whom ``user_id`` has blocked, by name, and since when."""
    rows = db.session.execute(
        select(User.name, Block.created_at).join(Block, Block.blocked_id == User.id)
        .where(Block.blocker_id == user_id).order_by(User.name_key)
    ).all()
    return [{"user": name, "since": iso(since)} for name, since in rows]
