"""Conversations above the message: edits, deletions, reactions, replies and pins, and the room
change log that lets a client that was away catch up with all of them (``sync``).

**seq.** Every change to a room's content takes the room's next number, ``seq``, in the
change's own transaction: ``take_seq`` is ``UPDATE rooms SET seq = seq + 1 ... RETURNING seq``,
the transaction's first write, so the room's row stays locked until the commit. A room's changes
therefore commit in seq order: once a reader sees seq N, every change below N is visible too,
and a rolled-back change gives its number back. There are no gaps (docs/delivery.md).

**The log is the messages table.** A message row carries the seq of its latest change and which
kind it was (``last_change``); a deleted message stays as a tombstone (text emptied, never
served). ``sync`` reads "messages of room R with seq > N" from one index: each message changed
since N once, in seq order, with its state after its latest change -- a compacted log, whose
application gives the same state as every intermediate change would. Tombstones older than
``SYNC_RETENTION_DAYS`` are removed by ``compact``; a ``sync`` from before the removed ones is
refused with ``sync_expired`` (the client reloads the room).

Service layer: no sockets. Each change answers ``(ack, events)``; the operation (ops.py) sends
the events through broadcast.py after the commit.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import emoji
from flask import current_app
from sqlalchemy import delete, func, select, text, update

from webapp import audit
from webapp import validation as v
from webapp.chat import archive, files, mentions, service
from webapp.chat.folding import fold
from webapp.chat.service import Member
from webapp.errors import AppError, Forbidden, InvalidPayload, NotFound
from webapp.extensions import db
from webapp.models import Mention, Message, MessageEdit, Reaction, Room, iso, utcnow

TAKE_SEQ = text("UPDATE rooms SET seq = seq + :n WHERE id = :room_id RETURNING seq")
MAX_EMOJI_PER_MESSAGE = 20  # distinct emoji on one message
MAX_REACTIONS_PER_USER = 10  # one person's emoji on one message
MAX_PINS = 50  # pinned messages per room
SYNC_LIMIT, SYNC_LIMIT_MAX = 100, 500
THREAD_LIMIT, THREAD_LIMIT_MAX = 50, 100

Event = tuple[str, dict]  # (event name, payload) for broadcast.change


def take_seq(room_id: int, n: int = 1) -> int:
    """Take the room's next ``n`` change numbers (answers the last); locks the room's row until
    the session's transaction ends. Call it before reading what the change depends on."""
    return db.session.execute(TAKE_SEQ, {"n": n, "room_id": room_id}).scalar_one()


# -- reading -----------------------------------------------------------------------------------
def _message(room: str, data: dict, *, lock: bool = False) -> Message:
    """The live (not deleted) message ``data["id"]`` of ``room``."""
    message_id = v.optional_int(data, "id", 1, v.MAX_ID)
    if message_id is None:
        raise InvalidPayload("'id' is required: the message's id.")
    query = select(Message).where(
        Message.id == message_id, Message.room_id == service.room_id(room),
        Message.deleted_at.is_(None),
    )
    message = db.session.scalar(query.with_for_update() if lock else query)
    if message is None:
        raise NotFound(f"No message {message_id} in '{room}'.")
    return message


def _changed(message: Message, kind: str, seq: int) -> None:
    message.seq, message.last_change = seq, kind


def _event(kind: str, room: str, message: Message, **details) -> Event:
    """A change to a message, as live members get it: ``{room, seq, id, ..., message}``."""
    state = service.render([message], room)[0]
    return kind, {"room": room, "seq": message.seq, "id": message.id, **details, "message": state}


def _locked_message(member: Member, data: Any, action: str) -> tuple[str, Message, dict]:
    """Count ``action``, check the room, take the room's lock (and a seq), read the message."""
    service.limit(member, action)
    data = v.payload(data)
    room = service.member_room(member, data)
    archive.check_writable(service.room_id(room))
    seq = take_seq(service.room_id(room))
    message = _message(room, data)
    message.seq = seq  # provisional: kept only if the change is committed
    return room, message, data


def _no_change() -> None:
    """Nothing to store (an idempotent repeat): give the taken seq back."""
    db.session.rollback()


# -- edit --------------------------------------------------------------------------------------
def edit(member: Member, data: Any) -> tuple[dict, list[Event]]:
    """The author replaces a message's text; the earlier text is kept (``edits``)."""
    room, message, data = _locked_message(member, data, "edit")
    if member.user_id is None or message.user_id != member.user_id:
        _no_change()
        raise Forbidden("Only its author can edit a message (guests cannot edit).")
    new_text = v.text(data)
    if new_text == message.text:
        _no_change()
        return {"ok": True, "message": service.render([_message(room, data)], room)[0]}, []
    now = utcnow()
    db.session.add(MessageEdit(message_id=message.id, text=message.text,
                               written_at=message.edited_at or message.created_at))
    message.text, message.search_text, message.edited_at = new_text, fold(new_text), now
    # Who it mentions follows the new text (an @room it had stays without a new count).
    mentions.record(member, message, db.session.get(Room, message.room_id),
                    kept_all=message.mentions_all)
    _changed(message, "message_edited", message.seq)
    db.session.commit()
    event = _event("message_edited", room, message)
    return {"ok": True, "message": event[1]["message"]}, [event]


def edits(member: Member, data: Any) -> dict:
    """Every version of a message, oldest first, each with when it was written."""
    service.limit(member, "history")
    data = v.payload(data)
    room = service.member_room(member, data)
    message = _message(room, data)
    earlier = db.session.scalars(
        select(MessageEdit).where(MessageEdit.message_id == message.id).order_by(MessageEdit.id))
    versions = [{"text": e.text, "at": iso(e.written_at)} for e in earlier]
    versions.append({"text": message.text, "at": iso(message.edited_at or message.created_at)})
    return {"ok": True, "id": message.id, "versions": versions}


# -- delete ------------------------------------------------------------------------------------
def may_moderate(member: Member, room_id: int) -> bool:
    """Admins everywhere; a room's owner in their room (a conversation has no moderator: its
    opener is no more than the other one)."""
    if member.admin:
        return True
    room = db.session.get(Room, room_id)
    return (member.user_id is not None and room is not None and room.kind != "dm"
            and room.owner_id == member.user_id)


def delete_message(member: Member, data: Any) -> tuple[dict, list[Event]]:
    """Its author, the room's owner or an admin removes a message for everyone.

    ``room`` may be left out (protocol v1): the message is found by id, and only admins may
    delete that way. Its text, earlier versions and reactions go; a tombstone keeps its place
    in the change log. Deleting a reply lowers its root's reply count (a change of its own).
    """
    service.limit(member, "edit")
    data = v.payload(data)
    message_id = v.optional_int(data, "id", 1, v.MAX_ID)
    if message_id is None:
        raise InvalidPayload("'id' is required.")
    if "room" in data:
        room = service.member_room(member, data)
    else:  # v1: admins only, any room
        if not member.admin:
            raise Forbidden("Give the message's room: {\"room\", \"id\"}.")
        found = db.session.scalar(
            select(Room.name).join(Message, Message.room_id == Room.id)
            .where(Message.id == message_id))
        if found is None:
            raise NotFound("No such message.")
        room = found
    room_id = service.room_id(room)
    seq = take_seq(room_id)
    message = _message(room, {"id": message_id})
    own = member.user_id is not None and message.user_id == member.user_id
    if not own and not may_moderate(member, room_id):
        _no_change()
        raise Forbidden("Only its author, the room's owner or an admin can delete a message.")
    db.session.execute(delete(Reaction).where(Reaction.message_id == message.id))
    db.session.execute(delete(MessageEdit).where(MessageEdit.message_id == message.id))
    db.session.execute(delete(Mention).where(Mention.message_id == message.id))
    stored_files = files.forget(message.id)
    message.text = message.search_text = ""
    message.deleted_at, message.pinned_at, message.pinned_by = utcnow(), None, None
    _changed(message, "message_deleted", seq)
    events: list[Event] = [("message_deleted", {"room": room, "seq": seq, "id": message.id,
                                                "by": member.name})]
    root = None
    if message.reply_to is not None:
        root = db.session.get(Message, message.reply_to)
        if root is not None and root.deleted_at is None:
            root.reply_count = max(0, root.reply_count - 1)
            _changed(root, "replies", take_seq(room_id))
    db.session.commit()
    files.delete_stored(stored_files)  # once the rows are gone: never a row without its bytes
    if not own:  # a moderator's deletion (an author's own is no security matter)
        audit.record("message_deleted", actor=member, target=f"message:{message.id}",
                     details={"room": room, "author": message.author})
    if root is not None and root.deleted_at is None:
        events.append(_event("replies", room, root))
    return {"ok": True}, events


# -- reactions ---------------------------------------------------------------------------------
def _emoji(data: dict) -> str:
    return canonical_emoji(data.get("emoji"))


def canonical_emoji(mark: Any, key: str = "emoji") -> str:
    """One emoji, in its one spelling (reactions, and a profile's status)."""
    if not isinstance(mark, str) or len(mark) > 32 or not emoji.is_emoji(mark):
        raise InvalidPayload(f"'{key}' must be one emoji, such as \"👍\".", code="invalid_emoji")
    # One spelling per emoji: "❤" and "❤️" (with the emoji presentation selector) are one heart.
    canonical = emoji.emojize(emoji.demojize(mark))
    return canonical if emoji.is_emoji(canonical) else mark


def react(member: Member, data: Any) -> tuple[dict, list[Event]]:
    """Add (``on: true``) or take back one emoji on a message; a repeat changes nothing."""
    mark, on = _emoji(v.payload(data)), v.flag(v.payload(data), "on")  # before the lock
    room, message, data = _locked_message(member, data, "react")
    key = (message.id, member.key, mark)
    existing = db.session.get(Reaction, key)
    if on == (existing is not None):
        _no_change()
        return {"ok": True, "message": service.render([_message(room, data)], room)[0]}, []
    if on:
        emojis = set(db.session.scalars(
            select(Reaction.emoji).where(Reaction.message_id == message.id)))
        mine = db.session.scalar(select(func.count()).select_from(Reaction).where(
            Reaction.message_id == message.id, Reaction.user_key == member.key))
        if mark not in emojis and len(emojis) >= MAX_EMOJI_PER_MESSAGE:
            _no_change()
            raise AppError(f"A message takes at most {MAX_EMOJI_PER_MESSAGE} different emoji.",
                           code="too_many_reactions", status=409, limit=MAX_EMOJI_PER_MESSAGE)
        if mine >= MAX_REACTIONS_PER_USER:
            _no_change()
            raise AppError(f"You can put at most {MAX_REACTIONS_PER_USER} emoji on a message.",
                           code="too_many_reactions", status=409, limit=MAX_REACTIONS_PER_USER)
        db.session.add(Reaction(message_id=message.id, user_key=member.key, emoji=mark,
                                user_name=member.name))
    else:
        db.session.delete(existing)
    _changed(message, "reaction", message.seq)
    db.session.commit()
    event = _event("reaction", room, message, emoji=mark, user=member.name, on=on)
    return {"ok": True, "message": event[1]["message"]}, [event]


# -- pins --------------------------------------------------------------------------------------
def pin(member: Member, data: Any) -> tuple[dict, list[Event]]:
    """Pin or unpin a message: any member of a private room or conversation; in a public room
    its owner and admins."""
    room, message, data = _locked_message(member, data, "react")
    on = v.flag(data, "on")
    room_id = service.room_id(room)
    if service.room_kind(room) == "public" and not may_moderate(member, room_id):
        _no_change()
        raise Forbidden("In a public room, its owner and admins pin messages.")
    if on == (message.pinned_at is not None):
        _no_change()
        return {"ok": True, "message": service.render([_message(room, data)], room)[0]}, []
    if on:
        pinned = db.session.scalar(select(func.count()).select_from(Message).where(
            Message.room_id == room_id, Message.pinned_at.is_not(None)))
        if pinned >= MAX_PINS:
            _no_change()
            raise AppError(f"A room keeps at most {MAX_PINS} pins; unpin one first.",
                           code="too_many_pins", status=409, limit=MAX_PINS)
    message.pinned_at, message.pinned_by = (utcnow(), member.name) if on else (None, None)
    _changed(message, "pin", message.seq)
    db.session.commit()
    event = _event("pin", room, message, on=on, by=member.name)
    return {"ok": True, "message": event[1]["message"]}, [event]


def pins(member: Member, data: Any) -> dict:
    """The room's pinned messages, the latest pinned first, each with who pinned it and when."""
    service.limit(member, "history")
    room = service.member_room(member, v.payload(data))
    rows = list(db.session.scalars(
        select(Message).where(Message.room_id == service.room_id(room),
                              Message.pinned_at.is_not(None), Message.deleted_at.is_(None))
        .order_by(Message.pinned_at.desc(), Message.id.desc())))
    return {"ok": True, "pins": [
        {**shown, "pinned_by": row.pinned_by, "pinned_at": iso(row.pinned_at)}
        for shown, row in zip(service.render(rows, room), rows, strict=True)
    ]}


# -- replies -----------------------------------------------------------------------------------
def post(member: Member, data: Any) -> tuple[dict, list[Event]]:
    """A ``message`` with ``reply_to`` or ``files`` (the plain ones take the group commit).

    A reply is stored in that message's thread (its root's, if it is itself a reply), raising
    the root's reply count: two changes, one transaction. Files are the author's uploads to the
    room (webapp/chat/files.py), attached in the same transaction; with files the text may be
    empty. Answers the stored message and the events; a retry of a stored client_id answers the
    stored message and no event. Replies are messages of the room like any other (``history``
    has them too).
    """
    service.limit(member, "message")
    data = v.payload(data)
    room = service.member_room(member, data)
    archive.check_writable(service.room_id(room))
    attached = files.requested(data)
    if attached and member.user_id is None:
        raise Forbidden("Guests cannot share files; register or log in.")
    text_ = "" if attached and not str(data.get("text") or "").strip() else v.text(data)
    client_id = v.client_id(data)
    reply_to = v.optional_int(data, "reply_to", 1, v.MAX_ID)
    if client_id is not None:
        stored = db.session.scalar(
            select(Message).where(Message.author == member.name, Message.client_id == client_id))
        if stored is not None:
            return service.retry_answer(stored, room), []
    room_id = service.room_id(room)
    seq = take_seq(room_id, 2 if reply_to else 1)
    root = None
    if reply_to is not None:
        root = _message(room, {"id": reply_to})
        if root.reply_to is not None:  # a reply to a reply joins the root's thread
            root = _message(room, {"id": root.reply_to})
    message = Message(room_id=room_id, author=member.name, guest=member.guest,
                      user_id=member.user_id, text=text_, search_text=fold(text_),
                      client_id=client_id, created_at=utcnow(),
                      seq=seq - 1 if root else seq, reply_to=root.id if root else None)
    message.posted_seq = message.seq
    db.session.add(message)
    if mentions.may_mention(text_):
        mentions.record(member, message, db.session.get(Room, room_id))
    if attached:
        db.session.flush()  # the message's id, for its files
        files.attach(member, room_id, message, attached)
    if root is not None:
        root.reply_count = (root.reply_count or 0) + 1
        _changed(root, "replies", seq)
    db.session.commit()
    shown = service.render([message], room)[0]
    events: list[Event] = [("message", shown)]
    if root is not None:
        events.append(_event("replies", room, root, reply=message.id))
    return shown, events


def thread(member: Member, data: Any) -> dict:
    """A thread: its root and replies in id order, the last ``limit`` before ``before``."""
    service.limit(member, "history")
    data = v.payload(data)
    room = service.member_room(member, data)
    root = _message(room, data)
    if root.reply_to is not None:  # a reply's id opens the thread it is in
        root = _message(room, {"id": root.reply_to})
    before = v.optional_int(data, "before", 1, v.MAX_ID)
    limit = v.optional_int(data, "limit", 1, THREAD_LIMIT_MAX, default=THREAD_LIMIT)
    query = select(Message).where(Message.reply_to == root.id, Message.deleted_at.is_(None))
    if before is not None:
        query = query.where(Message.id < before)
    rows = list(db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = sorted(rows[:limit], key=lambda m: m.id)
    shown = service.render([root, *rows], room)
    return {"ok": True, "root": shown[0], "replies": shown[1:], "more": more}


# -- the change log ----------------------------------------------------------------------------
def sync(member: Member, data: Any) -> dict:
    """Every change to the room after ``since``, in seq order (docs/protocol.md, ``sync``)."""
    service.limit(member, "history")
    data = v.payload(data)
    room = service.member_room(member, data)
    since = v.optional_int(data, "since", 0, v.MAX_ID)
    if since is None:
        raise InvalidPayload("'since' is required: the last seq you applied (0: from the start).")
    limit = v.optional_int(data, "limit", 1, SYNC_LIMIT_MAX, default=SYNC_LIMIT)
    room_row = db.session.get(Room, service.room_id(room))
    latest = room_row.seq
    if since < room_row.compacted_seq or since > latest:
        # Compacted away, or a seq this room never reached (a database restored from a backup):
        # either way the client's state cannot be brought up to date change by change.
        raise AppError(
            f"Cannot bring '{room}' up to date from seq {since}: reload it (join, or history).",
            code="sync_expired", status=409, compacted_seq=room_row.compacted_seq, seq=latest)
    rows = list(db.session.scalars(
        select(Message).where(Message.room_id == room_row.id, Message.seq > since)
        .order_by(Message.seq).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    live = [m for m in rows if m.deleted_at is None]
    shown = dict(zip((m.id for m in live), service.render(live, room), strict=True))
    changes = []
    for m in rows:
        if m.deleted_at is not None:
            changes.append({"type": "message_deleted", "room": room, "seq": m.seq, "id": m.id})
        elif m.last_change == "message":
            changes.append({"type": "message", **shown[m.id]})
        else:
            changes.append({"type": m.last_change, "room": room, "seq": m.seq, "id": m.id,
                            "message": shown[m.id]})
    # Changes committed after ``latest`` was read may be among the rows: the answer's seq covers
    # them (commits are in seq order, so everything below a visible seq is visible too).
    answered = max(latest, rows[-1].seq) if rows else latest
    return {"ok": True, "changes": changes, "seq": rows[-1].seq if more else answered,
            "more": more}


def compact(now=None) -> int:
    """Remove tombstones older than ``SYNC_RETENTION_DAYS``; answers how many went. Each room
    remembers the highest seq removed, below which ``sync`` answers ``sync_expired``. Safe to
    run from several processes at once."""
    days = current_app.config["SYNC_RETENTION_DAYS"]
    cutoff = (now or utcnow()) - timedelta(days=days)
    old = select(Message.room_id, func.max(Message.seq)).where(
        Message.deleted_at.is_not(None), Message.deleted_at < cutoff).group_by(Message.room_id)
    removed = 0
    for room_id, highest in db.session.execute(old).all():
        db.session.execute(update(Room).where(Room.id == room_id, Room.compacted_seq < highest)
                           .values(compacted_seq=highest))
        removed += db.session.execute(delete(Message).where(
            Message.room_id == room_id, Message.deleted_at.is_not(None),
            Message.seq <= highest)).rowcount
    db.session.commit()
    return removed
