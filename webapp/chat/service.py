"""The chat logic: validate, authorize, persist, shape payloads. No sockets, no request objects.

Handlers (Socket.IO today, REST and plain WebSocket later) pass in who is acting and what they
sent; this module answers with plain dicts ready to send, or raises an ``AppError``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from webapp import accounts, metrics, twofactor
from webapp import validation as v
from webapp.chat import archive, moderation
from webapp.chat.folding import fold
from webapp.chat.groupcommit import GroupCommitter
from webapp.errors import (
    AppError,
    Flooding,
    Forbidden,
    InvalidPayload,
    NotFound,
    NotInRoom,
    RateLimited,
)
from webapp.extensions import db, presence, ratelimits
from webapp.models import File, Mention, Message, Reaction, Room, RoomMember, User
from webapp.presence import Change

DEFAULT_ROOM = "general"
DM_RE = re.compile(r"dm-\d+-\d+")  # direct conversations: dm-<lower user id>-<higher user id>
HISTORY_LIMIT = 50
ROOMS_PAGE, ROOMS_PAGE_MAX = 100, 200  # rooms per `rooms` answer: by default, and at most


@dataclass(frozen=True)
class Member:
    """Who a connection is: the server decides this at connect time, never from a payload."""

    sid: str
    name: str
    guest: bool = True
    user_id: int | None = None
    admin: bool = False
    token_id: int | None = None
    address: str | None = None  # the peer's: connections and some rate limits count per address
    protocol: int = 1  # the event protocol it declared: 2 gets presence as deltas

    @property
    def deltas(self) -> bool:
        """Whether it is sent ``presence`` as deltas (protocol 2), not whole member lists."""
        return self.protocol >= 2

    @property
    def key(self) -> str:
        """Stable identity for limits and targeting: one per account, one per guest name."""
        return f"user:{self.user_id}" if self.user_id else f"guest:{self.name.casefold()}"


# -- connections -------------------------------------------------------------------------------
def connect(auth: Any, sid: str | None, *, user: User | None = None, address: str | None = None) -> Member:
    """Identify a new connection: a logged-in session, else an API token, else a guest name.

    A connection (``sid``; REST requests have none) also takes a place among its address's
    connections and, for a guest, its nickname; ``disconnect`` gives both back.
    """
    member = replace(_identify(auth, sid, user, address), protocol=v.protocol(auth))
    if sid is None:
        return member
    bound = current_app.config["MAX_CONNECTIONS_PER_ADDRESS"]  # 0: none
    if bound and address and not presence.hold_connection(address, sid, bound):
        raise AppError(
            f"Too many connections from your address (at most {bound}); close some and try "
            "again.", code="too_many_connections", status=429, limit=bound,
        )
    if member.guest:
        try:
            claimed = presence.claim_name(member.name, sid)
        except Exception:
            presence.release_connection(sid)
            raise
        if not claimed:
            presence.release_connection(sid)
            raise AppError(f"The name '{member.name}' is already online.", code="name_taken")
    return member


def _identify(auth: Any, sid: str | None, user: User | None, address: str | None) -> Member:
    if user is not None:
        if twofactor.required(user, current_app.config):  # a login session; tokens are apart
            raise AppError("Turn on two-factor authentication in your settings first.",
                           code="2fa_required", status=403)
        return _account_member(user, sid, address)
    auth = auth if isinstance(auth, dict) else {}
    if "token" in auth:
        token = accounts.verify_token(auth["token"])
        if token is None:
            raise AppError("The token is unknown or revoked.", code="invalid_token", status=401)
        return replace(_account_member(token.user, sid, address), token_id=token.id)
    if "name" not in auth:
        raise AppError(
            'Connect with auth {"name": "<nickname>"} or {"token": "<API token>"}, or log in.',
            code="auth_required", status=401,
        )
    if not current_app.config["GUESTS_ALLOWED"]:
        raise AppError("Guests are not allowed here: log in or use a token.", code="guests_disabled")
    name = v.person_name(auth["name"])
    # An account's name, or a banned name or address (guests only): one query.
    moderation.check_guest(name, address)
    return Member(sid=sid, name=name, address=address)


def _account_member(user: User, sid: str, address: str | None) -> Member:
    if user.banned_at is not None:
        raise AppError("This account is banned.", code="banned", status=403)
    return Member(
        sid=sid, name=user.name, guest=False, user_id=user.id, admin=user.is_admin, address=address
    )


def disconnect(member: Member) -> list[tuple[str, Change]]:
    """Drop the connection from every room it was in; answer the rooms it left, and what that
    changed in each (``Change.user``: the member's last connection there)."""
    left = [(room, presence.remove(room, member.name, member.sid))
            for room in presence.rooms_of(member.sid)]
    if member.guest:
        presence.release_name(member.name, member.sid)
    presence.release_connection(member.sid)
    return left


# -- rooms -------------------------------------------------------------------------------------
def room_page(member: Member | None, data: Any) -> dict:
    """One page of ``list_rooms`` as the ``rooms`` operation answers it: ``data`` may give
    ``limit`` and ``after`` (the previous page's ``next``); ``next`` is None on the last page."""
    data = {} if data is None else v.payload(data)
    size = v.optional_int(data, "limit", 1, ROOMS_PAGE_MAX, default=ROOMS_PAGE)
    after = data.get("after")
    if after is not None and not (isinstance(after, str) and v.ROOM_RE.fullmatch(after)):
        raise InvalidPayload("'after' must be a room name: the 'next' of the previous page.")
    rooms = list_rooms(member, limit=size + 1, after=after)  # one more: is there a next page?
    more = len(rooms) > size
    return {"rooms": rooms[:size], "next": rooms[size - 1]["name"] if more else None}


def list_rooms(
    member: Member | None = None, *, limit: int = ROOMS_PAGE, after: str | None = None
) -> list[dict]:
    """Public rooms, and the private rooms and conversations ``member`` belongs to: the first
    ``limit`` by name, after the name ``after``."""
    ensure_room(DEFAULT_ROOM)
    visible = Room.kind == "public"
    if member is not None and member.user_id:
        mine = select(RoomMember.room_id).where(RoomMember.user_id == member.user_id)
        visible = or_(visible, Room.id.in_(mine))
    query = select(Room).where(visible)
    if after is not None:
        query = query.where(Room.name > after)
    rooms = db.session.scalars(query.order_by(Room.name).limit(limit))
    return [room.to_dict() for room in rooms]


def ensure_room(name: str) -> Room:
    """The room called ``name``, created as a public room if it does not exist yet."""
    room = find_room(name)
    if room is not None:
        return room
    if DM_RE.fullmatch(name):
        raise private_room(name)  # as for a DM that exists: outsiders cannot tell the two apart
    room = Room(name=name, kind="public")
    db.session.add(room)
    try:
        db.session.commit()
    except IntegrityError:  # someone created it between our select and insert
        db.session.rollback()
        room = find_room(name)
    return room


def find_room(name: str) -> Room | None:
    return db.session.scalar(select(Room).where(Room.name == name))


def may_enter(member: Member, room: Room) -> bool:
    """Anyone may enter a public room; private rooms and conversations need a membership row,
    and a conversation no block between its two."""
    if room.kind == "public":
        return True
    if member.user_id is None or db.session.get(RoomMember, (room.id, member.user_id)) is None:
        return False
    return room.kind != "dm" or not moderation.dm_blocked(room, member.user_id)


def check_access(member: Member, room: Room) -> None:
    if not may_enter(member, room):
        raise private_room(room.name)


def private_room(name: str) -> Forbidden:
    """Refusing a room one may not enter: the same answer for a DM name that exists and one that
    does not, so outsiders cannot learn who talks to whom (docs/security.md, probing)."""
    return Forbidden(f"'{name}' is private.")


def limit(member: Member, action: str, *, by_address: bool = False) -> None:
    """Count one ``action``; refuse it over the limit, and call a long run of refusals a flood.

    Guests are counted by address too (a guest can change names, not addresses); with
    ``by_address``, accounts as well (what accounts from one address make together).
    """
    keys = [member.key]
    if (member.guest or by_address) and member.address:
        keys.append(f"addr:{member.address}")
    if ratelimits.hit(action, *keys):
        return
    metrics.refused(action)
    if not ratelimits.hit("flood", member.key):
        raise Flooding("Too many requests over the limit; closing the connection.")
    raise RateLimited(
        f"Too many '{action}' events; slow down.", retry_after=ratelimits.retry_after(action, *keys)
    )


def join(member: Member, data: Any, subscribe=lambda room: None) -> tuple[dict, Change]:
    """Join a room (creating it if new); answer the join ack and what presence changed.

    ``subscribe(room)`` is called once access is granted and before the history is read, so a
    message posted meanwhile arrives live (clients de-duplicate by id) instead of falling between.
    """
    limit(member, "join")
    name = v.room_name(v.payload(data))
    room = find_room(name)
    if room is None and not DM_RE.fullmatch(name):  # a new public room: a creation to count
        limit(member, "create_room", by_address=True)
    room = room or ensure_room(name)
    check_access(member, room)
    if room.kind == "public":
        moderation.check_room(member, room)  # kicked from it a moment ago: not yet
    _rooms()[name] = (room.id, room.kind)
    subscribe(name)
    change = presence.add(name, member.name, member.sid)
    # The room's seq before its history: a change between the two is in the history and comes
    # again through sync, which applies it once more to the same effect, rather than be missed.
    seq = db.session.scalar(select(Room.seq).where(Room.id == room.id))
    ack = {
        "ok": True,
        # Who owns it (private and owned public rooms; null for rooms made by a first join):
        # the page shows an owner's controls (invite, kick, delete, pin) from it.
        "room": {**room.to_dict(), "owner": _owner_name(room)},
        "members": presence.members(name),
        "history": _history(room.id, name, before=None, after=None, limit=HISTORY_LIMIT),
        "seq": seq,
    }
    return ack, change


def _owner_name(room: Room) -> str | None:
    if room.owner_id is None or room.kind == "dm":
        return None
    return db.session.scalar(select(User.name).where(User.id == room.owner_id))


def leave(member: Member, data: Any) -> tuple[str, Change]:
    name = v.room_name(v.payload(data))
    return name, presence.remove(name, member.name, member.sid)


def members(room: str) -> list[str]:
    return presence.members(room)


def presence_delta(room: str, user: str, event: str) -> dict:
    """A ``presence`` event as protocol 2 sends it: who joined or left, not the whole room."""
    return {"room": room, "user": user, "event": event}


def presence_event(room: str, user: str, event: str) -> dict:
    """A ``presence`` event as protocol 1 sends it: the delta and the room's whole member list."""
    return {**presence_delta(room, user, event), "members": presence.members(room)}


# -- messages ----------------------------------------------------------------------------------
def post_message(member: Member, data: Any) -> tuple[dict, bool]:
    """Store a message; answer it as sent to the room and whether it is new.

    A repeated ``client_id`` from the same author is a retry: it answers the stored message and
    False, so the caller does not broadcast it a second time.
    """
    limit(member, "message")
    data = v.payload(data)
    room = member_room(member, data)
    archive.check_writable(room_id(room))
    text, client_id = v.text(data), v.client_id(data)
    return store_message(room, member.name, text, client_id, guest=member.guest,
                         user_id=member.user_id)


def store_message(
    room: str, author: str, text: str, client_id: str | None, *, guest: bool,
    user_id: int | None = None,
) -> tuple[dict, bool]:
    """Commit a validated message; a repeated (author, client_id) answers the stored one."""
    committer = current_app.extensions.setdefault("parley.group_commit", GroupCommitter())
    message = committer.store(
        room_id=room_id(room), author=author, guest=guest, user_id=user_id, text=text,
        search_text=fold(text), client_id=client_id, reply_to=None,
    )
    if message is None:
        message = db.session.scalar(
            select(Message).where(Message.author == author, Message.client_id == client_id)
        )
        if message is None:  # pragma: no cover - the constraint only fires on that pair
            raise RuntimeError("a unique violation without the row that caused it")
        return retry_answer(message, room), False
    return message.to_dict(room), True


def retry_answer(message: Message, room: str) -> dict:
    """What a retried send (a stored author and client_id) is answered: the stored message."""
    if message.room_id != room_id(room):
        # Not a retry (a client retries in the room it sent to): the client_id was used for a
        # message elsewhere, perhaps where the caller may not read. Tell nothing of it.
        raise InvalidPayload("This client_id was already used for another message.",
                             code="invalid_client_id")
    if message.deleted_at is not None:
        raise NotFound("This message was sent and has been deleted since.",
                       code="message_deleted", id=message.id)
    return render([message], room)[0]


def typing(member: Member, data: Any) -> dict:
    limit(member, "typing")
    data = v.payload(data)
    room = member_room(member, data)
    return {"room": room, "user": member.name, "typing": v.flag(data, "typing")}


def history(member: Member, data: Any) -> list[dict]:
    limit(member, "history")
    data = v.payload(data)
    room = member_room(member, data)
    before = v.optional_int(data, "before", 1, v.MAX_ID)
    after = v.optional_int(data, "after", 0, v.MAX_ID)
    around = v.optional_int(data, "around", 1, v.MAX_ID)
    count = v.optional_int(data, "limit", 1, 100, default=HISTORY_LIMIT)
    if around is not None:  # a search result opened in context: it, and what came around it
        if before is not None or after is not None:
            raise InvalidPayload("'around' goes alone, without 'before' or 'after'.")
        older = _history(room_id(room), room, before=around + 1, after=None, limit=count // 2 + 1)
        newer = _history(room_id(room), room, before=None, after=around, limit=count - len(older))
        return older + newer
    return _history(room_id(room), room, before=before, after=after, limit=count)


def _history(room_id: int, room: str, *, before: int | None, after: int | None, limit: int) -> list:
    """Messages in ascending id order: the first ``limit`` after ``after``, else the last before."""
    query = select(Message).where(Message.room_id == room_id, Message.deleted_at.is_(None))
    if before is not None:
        query = query.where(Message.id < before)
    if after is not None:
        query = query.where(Message.id > after).order_by(Message.id.asc())
    else:
        query = query.order_by(Message.id.desc())
    rows = list(db.session.scalars(query.limit(limit)))
    rows.sort(key=lambda m: m.id)
    return render(rows, room)


def render(messages: list[Message], room: str) -> list[dict]:
    """Messages as clients get them (docs/protocol.md, "The message object"), with their
    reactions read in one query. A message never changed since it was posted has none."""
    changed = [m.id for m in messages if m.last_change != "message"]
    reactions: dict[int, list[dict]] = {}
    if changed:
        rows = db.session.execute(
            select(Reaction.message_id, Reaction.emoji, Reaction.user_name)
            .where(Reaction.message_id.in_(changed))
            .order_by(Reaction.message_id, Reaction.created_at, Reaction.user_key))
        by_message: dict[int, dict[str, dict]] = {}
        for message_id, mark, user in rows:
            entry = by_message.setdefault(message_id, {}).setdefault(
                mark, {"emoji": mark, "count": 0, "users": []})
            entry["count"] += 1
            entry["users"].append(user)
        reactions = {i: list(marks.values()) for i, marks in by_message.items()}
    files: dict[int, list[dict]] = {}
    if messages:
        for row in db.session.scalars(select(File).where(
                File.message_id.in_([m.id for m in messages])).order_by(File.position, File.id)):
            files.setdefault(row.message_id, []).append(row.to_dict())
    named = _mentioned([m.id for m in messages if "@" in m.text])
    return [m.to_dict(room, reactions.get(m.id), files.get(m.id), named.get(m.id))
            for m in messages]


def _mentioned(message_ids: list[int]) -> dict[int, list[str]]:
    """The names each message mentions by name (webapp/chat/mentions.py), for ``mentions``."""
    found: dict[int, list[str]] = {}
    if message_ids:
        rows = db.session.execute(
            select(Mention.message_id, User.name).join(User, User.id == Mention.user_id)
            .where(Mention.message_id.in_(message_ids), Mention.via == "name")
            .order_by(Mention.message_id, User.name_key))
        for message_id, name in rows:
            found.setdefault(message_id, []).append(name)
    return found


def member_room(member: Member, data: dict) -> str:
    """The room named in ``data``, if ``member`` may act in it."""
    room = v.room_name(data)
    if member.sid is None:
        # A REST caller has no connection to join with: the room has to exist and admit them.
        # A private room or DM they are not in is "not found" too: the answer must not tell
        # whether it exists.
        found = find_room(room)
        if found is None or not may_enter(member, found):
            raise NotFound(f"No room called '{room}'.")
        if found.kind == "public":
            moderation.check_room(member, found)  # REST is no way around a kick
        return room
    if not presence.is_member(room, member.sid):
        raise NotInRoom(f"Join '{room}' first.")
    room_id, kind = _room(room)
    if kind != "public":  # membership may have been revoked since the join (kick, removal)
        check_access(member, db.session.get(Room, room_id))
    return room


def readable_room(member: Member, name: str) -> Room:
    """The room called ``name`` if ``member`` may read it now, joined or not; else not found
    (a private room or DM they are not in: the same answer as for no room)."""
    room = find_room(name)
    if room is None or not may_enter(member, room):
        raise NotFound(f"No room called '{name}'.")
    return room


def _rooms() -> dict[str, tuple[int, str]]:
    return current_app.extensions.setdefault("parley.rooms", {})


def _room(name: str) -> tuple[int, str]:
    """(id, kind) of a room; neither ever changes, so joins remember them per app and the
    message path skips a query."""
    cache = _rooms()
    if name not in cache:
        room = ensure_room(name)
        cache[name] = (room.id, room.kind)
    return cache[name]


def room_id(name: str) -> int:
    return _room(name)[0]


def room_kind(name: str) -> str:
    return _room(name)[1]
