"""Mentions (issue 18): ``@name``, and ``@room`` / ``@here`` from those allowed, recognised when a
message is posted or edited and stored as ``mentions`` rows in the message's own transaction.

A row says "this message mentions this account": by name (``via`` "name"), or through @room (every
account of the room: a private room's or conversation's members; a public room's accounts that
have a read position there or are present) or @here (the accounts present when it was posted).
Expanding @room / @here into rows when posted makes every mention count one index range
(reads.mentions) and gives the notifications a row per person to read.

Text without "@" costs nothing: the plain message path (the group commit) never comes here.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, or_, select

from webapp import validation as v
from webapp.chat import service
from webapp.chat.service import Member
from webapp.errors import Forbidden
from webapp.extensions import db, presence, ratelimits
from webapp.models import Mention, Message, Room, RoomMember, RoomRead, User

# "@name" not inside a word or an address (bob@example.com mentions nobody).
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_-]{1,32})(?![\w-])")
ALL = ("room", "here")  # the words that mention a whole room instead of a person
MAX_NAMES = 50  # names looked up per message: a text listing hundreds notifies the first 50
LIST_LIMIT, LIST_LIMIT_MAX = 50, 100


def may_mention(text: Any) -> bool:
    """Whether a text could mention anyone: the plain path skips all of this when it cannot."""
    return isinstance(text, str) and "@" in text and MENTION_RE.search(text) is not None


def parse(text: str) -> tuple[list[str], str | None]:
    """The names a text mentions (folded, first-seen order) and "room"/"here" if it says so."""
    names: dict[str, None] = {}
    everyone = None
    for match in MENTION_RE.finditer(text):
        word = match.group(1).casefold()
        if word in ALL:
            everyone = everyone or word
        elif len(names) < MAX_NAMES:
            names[word] = None
    return list(names), everyone


def record(member: Member, message: Message, room: Room, *, kept_all: str | None = None) -> None:
    """Store who ``message`` mentions (replacing what it mentioned before, for an edit) and set
    its ``mentions_all``; in the caller's transaction, before its commit. ``kept_all``: the
    @room / @here the message had already been allowed (an edit keeps it without a new count)."""
    if message.id is not None:
        db.session.execute(delete(Mention).where(Mention.message_id == message.id))
    names, everyone = parse(message.text) if may_mention(message.text) else ([], None)
    if everyone is not None and everyone != kept_all and not _may_mention_all(member, room):
        everyone = None  # stays plain text
    message.mentions_all = everyone
    reached: dict[int, str] = {uid: "name" for uid in _named(names, room)}
    if everyone is not None:
        for uid in _everyone(room, everyone):
            reached.setdefault(uid, everyone)
    reached.pop(member.user_id, None)  # mentioning oneself notifies nobody
    if not reached:
        return
    db.session.flush()  # the message's id and posted_seq
    db.session.add_all(Mention(message_id=message.id, user_id=uid, room_id=room.id,
                               posted_seq=message.posted_seq, via=via)
                       for uid, via in reached.items())


def _may_mention_all(member: Member, room: Room) -> bool:
    """Members of a private room or conversation may; in a public room its owner and admins.
    Each is counted against RATE_LIMIT_MENTION_ALL."""
    if room.kind == "public":
        allowed = member.admin or (member.user_id is not None and room.owner_id == member.user_id)
    else:
        allowed = member.user_id is not None
    return allowed and ratelimits.hit("mention_all", member.key)


def _named(names: list[str], room: Room) -> list[int]:
    """The accounts among ``names`` that may read ``room`` (not banned)."""
    if not names:
        return []
    query = select(User.id).where(User.name_key.in_(names), User.banned_at.is_(None))
    if room.kind != "public":
        query = query.join(RoomMember, (RoomMember.user_id == User.id)
                           & (RoomMember.room_id == room.id))
    return list(db.session.scalars(query))


def _everyone(room: Room, everyone: str) -> list[int]:
    """The accounts @room or @here reaches in ``room``."""
    present = [n.casefold() for n in presence.members(room.name)]
    if room.kind != "public":
        members = select(RoomMember.user_id).where(RoomMember.room_id == room.id)
        if everyone == "room":
            return list(db.session.scalars(members))
        return list(db.session.scalars(select(User.id).where(
            User.name_key.in_(present), User.id.in_(members))))
    here = User.name_key.in_(present)
    if everyone == "room":  # people who have been in the room, and those in it now
        here = or_(here, User.id.in_(select(RoomRead.user_id).where(RoomRead.room_id == room.id)))
    return list(db.session.scalars(select(User.id).where(here, User.banned_at.is_(None))))


def listing(member: Member, data: Any) -> dict:
    """``mentions {before, limit}``: messages mentioning you in rooms you can read now, newest
    first; ``next`` is the ``before`` of the following page (None on the last)."""
    if member.user_id is None:
        raise Forbidden("Guests are not mentioned; register or log in.", code="account_required")
    service.limit(member, "history")
    data = {} if data is None else v.payload(data)
    before = v.optional_int(data, "before", 1, v.MAX_ID)
    size = v.optional_int(data, "limit", 1, LIST_LIMIT_MAX, default=LIST_LIMIT)
    mine = select(RoomMember.room_id).where(RoomMember.user_id == member.user_id)
    query = (select(Message, Room.name).join(Mention, Mention.message_id == Message.id)
             .join(Room, Room.id == Message.room_id)
             .where(Mention.user_id == member.user_id, Message.deleted_at.is_(None),
                    or_(Room.kind == "public", Room.id.in_(mine))))
    if before is not None:
        query = query.where(Mention.message_id < before)
    rows = db.session.execute(query.order_by(Mention.message_id.desc()).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    by_room: dict[str, list[Message]] = {}
    for message, room in rows:
        by_room.setdefault(room, []).append(message)
    shown = {m["id"]: m for room, messages in by_room.items()
             for m in service.render(messages, room)}  # a few queries per room, not per message
    return {"ok": True, "messages": [shown[message.id] for message, _ in rows],
            "next": rows[-1][0].id if more else None}
