"""Retention: messages older than RETENTION_DAYS (or a room's own ``retention_days``) are
removed, with their files, edits and reactions, by the hourly duty of every serving process
(webapp/chat/cluster.py), in batches.

Several processes may run it at once. On PostgreSQL each batch takes a transaction-level advisory
lock and a process that does not get it leaves the round to the one that did; on SQLite the one
writer serializes them. Either way a batch removes rows by id, so a second remover finds nothing.

The change log (webapp/chat/changes.py): a removed message leaves no tombstone, so the room's
``compacted_seq`` moves past the removed messages' seq, as compaction does: a client that last
synced before it gets ``sync_expired`` and reloads the room instead of missing the removal.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, or_, select, text, update

from webapp import validation as v
from webapp.chat import changes, files, service
from webapp.errors import Forbidden, InvalidPayload
from webapp.extensions import db
from webapp.models import File, Message, Room, utcnow

BATCH = 500
MAX_DAYS = 36500  # a hundred years: "forever" is 0
LOCK_KEY = 0x7061726C6579  # pg_try_advisory_xact_lock's key: "parley" in hex


def expire(now=None) -> int:
    """Remove every room's messages past its retention; answers how many went."""
    now = now or utcnow()
    default = current_app.config["RETENTION_DAYS"]
    rooms = select(Room.id, Room.retention_days).where(or_(
        Room.retention_days > 0, Room.retention_days.is_(None) if default > 0 else False))
    removed = 0
    for room_id, days in db.session.execute(rooms).all():
        cutoff = now - timedelta(days=days if days is not None else default)
        while True:
            count = _remove_batch(room_id, cutoff)
            if count is None:  # another process holds the lock: this round is theirs
                return removed
            removed += count
            if count < BATCH:
                break
    return removed


def _remove_batch(room_id: int, cutoff) -> int | None:
    """Remove up to BATCH of the room's messages created before ``cutoff``, in one transaction."""
    if not _locked():
        return None
    ids = list(db.session.scalars(select(Message.id).where(
        Message.room_id == room_id, Message.created_at < cutoff).order_by(Message.id)
        .limit(BATCH)))
    if not ids:
        db.session.commit()
        return 0
    highest = db.session.scalar(select(func.max(Message.seq)).where(Message.id.in_(ids)))
    keys = []
    for row in db.session.scalars(select(File).where(File.message_id.in_(ids))):
        keys += [k for k in (row.key, row.thumbnail_key) if k]
        db.session.delete(row)
    # Edits and reactions go with their message (ON DELETE CASCADE).
    removed = db.session.execute(delete(Message).where(Message.id.in_(ids))).rowcount
    if highest is not None:  # None: another remover took these rows first (SQLite has no lock)
        db.session.execute(update(Room).where(Room.id == room_id, Room.compacted_seq < highest)
                           .values(compacted_seq=highest))
    db.session.commit()
    files.delete_stored(keys)  # once the rows are gone: a failure here leaves bytes, not holes
    return removed


def _locked() -> bool:
    if db.engine.url.get_backend_name() != "postgresql":
        return True
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                  {"key": LOCK_KEY}))


def set_retention(member: service.Member, data: Any) -> dict:
    """A room's owner or an admin sets how many days its messages are kept (``days``: a whole
    number; 0 keeps them forever; null follows the server's RETENTION_DAYS)."""
    service.limit(member, "retention")
    data = v.payload(data)
    room = service.find_room(v.room_name(data))
    if room is None or not changes.may_moderate(member, room.id) or room.kind == "dm":
        raise Forbidden("Only the room's owner or an admin may do that.")
    if "days" not in data:
        raise InvalidPayload("'days' is required: a whole number of days, 0 or null.")
    days = v.optional_int(data, "days", 0, MAX_DAYS)
    room.retention_days = days
    db.session.commit()
    return {"ok": True, "room": room.name, "retention_days": days,
            "effective_days": days if days is not None else current_app.config["RETENTION_DAYS"]}
