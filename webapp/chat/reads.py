"""Read state (issue 18): how far each user has read each room, kept on the server so every tab,
device and bot of one account agrees, and the unread and mention counts that follow from it.

A read position is a seq: every message *posted* with a seq up to it is read. Messages carry
their posting seq (``messages.posted_seq``; ``seq`` moves with later edits), so counting unread
messages is one bounded range of the (room_id, posted_seq) index -- at most ``UNREAD_CAP``
entries, so a never-read room of a million messages costs what a small one does. Positions only
move forward: one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` statement on both databases.

Guests have no rows: their positions live with their connection (``_guest_reads``) and end with
it. Service layer: no sockets; ops.py sends the ``read`` and ``receipt`` events.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import DateTime, bindparam, func, select, text

from webapp import validation as v
from webapp.chat import service
from webapp.chat.service import Member
from webapp.errors import Forbidden, InvalidPayload, NotFound
from webapp.extensions import db
from webapp.models import Message, Room, RoomMember, RoomRead, User, utcnow

UNREAD_CAP = 1000  # counted at most; clients show "999+" beyond

# Monotonic: a position lower than (or equal to) the stored one changes nothing and returns no
# row; a higher one, or the first, is stored and returned.
_MARK = text(
    "INSERT INTO room_reads (user_id, room_id, last_read_seq, updated_at) "
    "VALUES (:user_id, :room_id, :seq, :now) "
    "ON CONFLICT (user_id, room_id) DO UPDATE SET last_read_seq = excluded.last_read_seq, "
    "updated_at = excluded.updated_at WHERE room_reads.last_read_seq < excluded.last_read_seq "
    "RETURNING last_read_seq"
).bindparams(bindparam("now", type_=DateTime(timezone=True)))
# A first position that never moves an existing one (a public room's first join).
_START = text(
    "INSERT INTO room_reads (user_id, room_id, last_read_seq, updated_at) "
    "VALUES (:user_id, :room_id, :seq, :now) ON CONFLICT (user_id, room_id) DO NOTHING"
).bindparams(bindparam("now", type_=DateTime(timezone=True)))


@dataclass(frozen=True)
class Marked:
    """A ``read``'s outcome: the ack, whether the position moved, and whether the room's members
    are told (a ``receipt``)."""

    ack: dict
    moved: bool
    receipt: bool


# -- counting ----------------------------------------------------------------------------------
def _count_statement(rooms: int, account: bool):
    """One statement counting ``rooms`` rooms: for each, its unread messages (live, of others,
    posted after the position) and its mentions of the user, each a bounded range of an index
    ((room_id, posted_seq); (user_id, room_id, posted_seq)) cut at UNREAD_CAP. Written as text
    and kept per size: built as expressions, a page of 100 rooms cost ~15 ms of Python."""
    key = (rooms, account)
    if key not in _statements:
        others = "(user_id IS NULL OR user_id <> :u)" if account else "(guest = :no OR author <> :name)"
        mentions = ("(SELECT count(*) FROM (SELECT 1 FROM mentions WHERE user_id = :u AND "
                    "room_id = :r{i} AND posted_seq > :s{i} LIMIT :cap) AS m{i})") if account else "0"
        parts = [
            f"SELECT :r{i} AS room_id, (SELECT count(*) FROM (SELECT 1 FROM messages WHERE "
            f"room_id = :r{i} AND posted_seq > :s{i} AND deleted_at IS NULL AND {others} "
            f"LIMIT :cap) AS u{i}) AS unread, {mentions.format(i=i)} AS mentions"
            for i in range(rooms)]
        _statements[key] = text(" UNION ALL ".join(parts))
    return _statements[key]


_statements: dict[tuple[int, bool], Any] = {}


def states(member: Member, positions: dict[int, int]) -> dict[int, dict]:
    """``{room_id: {last_read, unread, mentions}}`` for rooms at the given positions: one
    statement (one round trip) for them all."""
    if not positions:
        return {}
    account = member.user_id is not None
    params: dict[str, Any] = {"cap": UNREAD_CAP}
    params.update({"u": member.user_id} if account else {"no": False, "name": member.name})
    for i, (room_id, last) in enumerate(positions.items()):
        params[f"r{i}"], params[f"s{i}"] = room_id, last
    found = db.session.execute(_count_statement(len(positions), account), params).all()
    return {row.room_id: {"last_read": positions[row.room_id], "unread": row.unread,
                          "mentions": row.mentions} for row in found}


def state(room_id: int, last_read: int | None, member: Member) -> dict:
    """``{last_read, unread, mentions}`` of one room; all None for a room without a position."""
    if last_read is None:
        return {"last_read": None, "unread": None, "mentions": None}
    return states(member, {room_id: last_read})[room_id]


def position(member: Member, room_id: int, room: str) -> int | None:
    """The member's stored position in a room (a guest's: this connection's)."""
    if member.user_id is None:
        return _guest_reads(member.sid).get(room)
    return db.session.scalar(select(RoomRead.last_read_seq).where(
        RoomRead.user_id == member.user_id, RoomRead.room_id == room_id))


def annotate(member: Member | None, rooms: list[dict]) -> list[dict]:
    """Add ``last_read``, ``unread`` and ``mentions`` to an account's room listing: for its
    private rooms and conversations (from 0 if never read) and the public rooms it has a
    position in; other public rooms get nulls. Queries per room on the page, not per message."""
    if member is None or member.user_id is None or not rooms:
        return rooms
    found = db.session.execute(
        select(Room.name, Room.id, Room.kind, RoomRead.last_read_seq)
        .outerjoin(RoomRead, (RoomRead.room_id == Room.id) & (RoomRead.user_id == member.user_id))
        .where(Room.name.in_([r["name"] for r in rooms]))).all()
    by_name = {row.name: row for row in found}
    positions = {row.id: row.last_read_seq or 0 for row in found
                 if row.last_read_seq is not None or row.kind != "public"}
    counted = states(member, positions)
    empty = {"last_read": None, "unread": None, "mentions": None}
    for room in rooms:
        row = by_name.get(room["name"])
        if row is not None:
            room.update(counted.get(row.id, empty))
    return rooms


# -- marking -----------------------------------------------------------------------------------
def mark(member: Member, data: Any) -> Marked:
    """``read {room, seq}`` or ``{room, id}``: the room is read up to there (never backwards)."""
    service.limit(member, "read")
    data = v.payload(data)
    name = v.room_name(data)
    if ("seq" in data) == ("id" in data):
        raise InvalidPayload("Give one of 'seq' (a seq of the room) or 'id' (a message's id).",
                             code="invalid_read")
    room = service.readable_room(member, name)
    seq = _target_seq(room, data)
    if member.user_id is None:
        reads = _guest_reads(member.sid)
        moved = seq > reads.get(name, -1)
        last = reads[name] = max(seq, reads.get(name, 0))
    else:
        stored = db.session.execute(_MARK, {"user_id": member.user_id, "room_id": room.id,
                                            "seq": seq, "now": utcnow()}).scalar()
        db.session.commit()
        moved = stored is not None
        last = stored if moved else position(member, room.id, name)
    ack = {"ok": True, "room": name, **state(room.id, last, member)}
    return Marked(ack, moved, moved and _sends_receipts(member, room))


def _target_seq(room: Room, data: dict) -> int:
    if "id" in data:
        message_id = v.optional_int(data, "id", 1, v.MAX_ID)
        seq = db.session.scalar(select(Message.posted_seq).where(
            Message.id == message_id, Message.room_id == room.id))
        if seq is None:
            raise NotFound(f"No message {message_id} in '{room.name}'.")
        return seq
    seq = v.optional_int(data, "seq", 0, v.MAX_ID)
    # A seq beyond the room's latest reads everything there is, and no more: messages posted
    # later are unread.
    return min(seq, db.session.scalar(select(Room.seq).where(Room.id == room.id)))


def on_join(member: Member, room: Room, seq: int) -> dict:
    """What the join ack adds: the member's position and counts (a first join of a public room
    starts at the room's present: its past is not "unread"), and ``receipts`` where kept."""
    last = position(member, room.id, room.name)
    if last is None and room.kind == "public":
        last = seq
        if member.user_id is None:
            _guest_reads(member.sid)[room.name] = seq
        else:
            db.session.execute(_START, {"user_id": member.user_id, "room_id": room.id,
                                        "seq": seq, "now": utcnow()})
            db.session.commit()
    added = state(room.id, 0 if last is None else last, member)
    if member.user_id is not None and keeps_receipts(room):
        added["receipts"] = receipts(room, member)
    return added


# -- receipts ----------------------------------------------------------------------------------
def keeps_receipts(room: Room) -> bool:
    """Receipts are kept in conversations and private rooms of at most RECEIPTS_MAX_MEMBERS."""
    if room.kind == "dm":
        return True
    if room.kind != "private":
        return False
    count = db.session.scalar(select(func.count()).select_from(RoomMember)
                              .where(RoomMember.room_id == room.id))
    return count <= current_app.config["RECEIPTS_MAX_MEMBERS"]


def _sends_receipts(member: Member, room: Room) -> bool:
    if member.user_id is None or not keeps_receipts(room):
        return False
    return bool(db.session.scalar(select(User.send_receipts).where(User.id == member.user_id)))


def receipts(room: Room, member: Member) -> dict[str, int]:
    """How far each other member who sends receipts has read: ``{name: last_read}``."""
    rows = db.session.execute(
        select(User.name, RoomRead.last_read_seq).join(RoomRead, RoomRead.user_id == User.id)
        .join(RoomMember, (RoomMember.user_id == User.id) & (RoomMember.room_id == room.id))
        .where(RoomRead.room_id == room.id, User.send_receipts.is_(True),
               User.id != member.user_id))
    return {name: last for name, last in rows}


def set_receipts(member: Member, data: Any) -> dict:
    """``read_receipts {on}``: whether others see how far this account has read."""
    if member.user_id is None:
        raise Forbidden("Guests keep no read state to share; register or log in.",
                        code="account_required")
    service.limit(member, "read")
    on = v.flag(v.payload(data), "on")
    user = db.session.get(User, member.user_id)
    user.send_receipts = on
    db.session.commit()
    return {"ok": True, "send_receipts": on}


# -- guests ------------------------------------------------------------------------------------
def _guest_reads(sid: str | None) -> dict[str, int]:
    """A guest connection's positions: room -> seq, for as long as the connection lasts."""
    connections = current_app.extensions.setdefault("parley.guest_reads", {})
    return connections.setdefault(sid, {}) if sid else {}


def forget(sid: str) -> None:
    """A connection ended: its guest positions go with it."""
    current_app.extensions.get("parley.guest_reads", {}).pop(sid, None)
