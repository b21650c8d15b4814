"""The durable outbox, first half: deciding who is told of each new message.

A duty per serving process (``start``) reads the messages after a watermark (the one row of
``notify_cursor``) every NOTIFY_POLL_SECONDS, works out their recipients -- the other person
of a DM, the accounts mentioned, the room's "all" subscribers -- and queues one
``notifications`` row per recipient and channel (each push subscription, the e-mail digest),
moving the watermark in the same transaction. The rows' unique key (message, user, target)
makes a second process, or a restart that reads the same messages again, find them instead of
queueing them twice. The message path pays nothing: no query, no call on the ack's way.
webapp/notify/delivery.py sends what is due.
"""
from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from webapp import mail
from webapp.chat.service import DM_RE
from webapp.extensions import db, socketio
from webapp.models import Mention, Message, Room, RoomMember, User
from webapp.notify import delivery, webpush
from webapp.notify.models import (
    Notification,
    NotifyAccount,
    NotifyCursor,
    NotifySetting,
    PushSubscription,
)

log = logging.getLogger(__name__)

BATCH = 500  # messages per round; a backlog drains over a few rounds
# On PostgreSQL a message's id is taken before its transaction commits, so a lower id can
# become visible after a higher one; messages younger than this wait for the next round, so
# the watermark does not pass them. (SQLite has one writer: ids appear in order.)
SETTLE = timedelta(seconds=2)
# Done rows are kept a week (what was sent and why, for support questions), then removed.
KEEP_DONE = timedelta(days=7)
PURGE_EVERY = 3600.0


def start(app: Flask) -> None:
    """Run the outbox in this serving process (webapp/chat/cluster.py's ``start`` calls it)."""
    socketio.start_background_task(_run, app)


def _run(app: Flask) -> None:
    purged = 0.0
    while True:
        socketio.sleep(app.config["NOTIFY_POLL_SECONDS"])
        with app.app_context():
            try:
                scan()
                delivery.deliver()
                if time.monotonic() - purged > PURGE_EVERY:
                    purged = time.monotonic()
                    purge()
            except Exception:  # a database blip: the next round tries again
                db.session.rollback()
                log.exception("notifications: a round failed")


def purge(now: datetime | None = None) -> int:
    """Forget notifications done (sent, skipped, failed) more than KEEP_DONE ago."""
    cutoff = (now or datetime.now(UTC)) - KEEP_DONE
    removed = db.session.execute(delete(Notification).where(
        Notification.status != "pending", Notification.done_at < cutoff)).rowcount
    db.session.commit()
    return removed


def scan(now: datetime | None = None) -> int:
    """Queue the notifications of the messages after the watermark; answers how many rows.

    A round costs a few queries for its whole batch, not some per message: at hundreds of
    messages a second, per-message lookups here took more of the loop than posting them did.
    """
    now = now or datetime.now(UTC)
    cursor = db.session.scalar(select(NotifyCursor).where(NotifyCursor.id == 1)
                               .with_for_update())
    if cursor is None:  # first run: from now on, not the whole history
        top = db.session.scalar(select(func.max(Message.id))) or 0
        db.session.add(NotifyCursor(id=1, message_id=top))
        try:
            db.session.commit()
        except IntegrityError:  # another process made it first
            db.session.rollback()
        return 0
    query = select(Message.id, Message.user_id, Message.deleted_at, Room.id.label("room_id"),
                   Room.kind, Room.name).join(Room, Room.id == Message.room_id).where(
        Message.id > cursor.message_id).order_by(Message.id).limit(BATCH)
    if db.session.get_bind().dialect.name != "sqlite":
        query = query.where(Message.created_at <= now - SETTLE)
    batch = db.session.execute(query).all()
    if not batch:
        db.session.rollback()
        return 0
    found = recipients([m for m in batch if m.deleted_at is None])
    rows = _rows({m.id: m for m in batch}, found, now) if found else []
    if rows:
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(Notification).on_conflict_do_nothing(), rows)
    cursor.message_id = batch[-1].id
    db.session.commit()
    return len(rows)


def recipients(messages: list) -> dict[int, dict[int, str]]:
    """Per message id, who hears of it and why (dm | mention | all); never its author. Mentions
    are as stored with the message in its own transaction (webapp/chat/mentions.py)."""
    if not messages:
        return {}
    mentioned: dict[int, list[int]] = {}
    for message_id, uid in db.session.execute(select(Mention.message_id, Mention.user_id).where(
            Mention.message_id.in_([m.id for m in messages]))):
        mentioned.setdefault(message_id, []).append(uid)
    hearing_all: dict[int, list[int]] = {}
    for room_id, uid in db.session.execute(select(NotifySetting.room_id, NotifySetting.user_id)
                                           .where(NotifySetting.room_id.in_({m.room_id for m in messages}),
                                                  NotifySetting.level == "all")):
        hearing_all.setdefault(room_id, []).append(uid)
    result: dict[int, dict[int, str]] = {}
    for message in messages:
        found: dict[int, str] = {}
        if message.kind == "dm" and DM_RE.fullmatch(message.name):
            for uid in map(int, message.name[3:].split("-")):
                found[uid] = "dm"
        for uid in mentioned.get(message.id, ()):
            found.setdefault(uid, "mention")
        for uid in hearing_all.get(message.room_id, ()):
            found.setdefault(uid, "all")
        found.pop(message.user_id, None)
        if found:
            result[message.id] = found
    # Outside public rooms, only people who may still read the room.
    closed = {m.room_id for m in messages if m.kind != "public" and m.id in result}
    if closed:
        members: set[tuple[int, int]] = set(db.session.execute(
            select(RoomMember.room_id, RoomMember.user_id).where(
                RoomMember.room_id.in_(closed),
                RoomMember.user_id.in_({uid for f in result.values() for uid in f}))).tuples())
        for message in messages:
            if message.room_id in closed and message.id in result:
                result[message.id] = {uid: why for uid, why in result[message.id].items()
                                      if (message.room_id, uid) in members}
    return {message_id: found for message_id, found in result.items() if found}


def _rows(messages: dict, found: dict[int, dict[int, str]], now: datetime) -> list[dict]:
    config = current_app.config
    everyone = {uid for f in found.values() for uid in f}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(everyone)))}
    prefs = {p.user_id: p for p in db.session.scalars(select(NotifyAccount).where(
        NotifyAccount.user_id.in_(everyone)))}
    subscriptions: dict[int, list[int]] = {}
    if webpush.enabled(config):
        for sub_id, uid in db.session.execute(select(PushSubscription.id, PushSubscription.user_id)
                                              .where(PushSubscription.user_id.in_(everyone))):
            subscriptions.setdefault(uid, []).append(sub_id)
    rows = []
    for message_id, recipients_of_message in found.items():
        room_id = messages[message_id].room_id
        for uid, reason in recipients_of_message.items():
            user, pref = users.get(uid), prefs.get(uid)
            if user is None or user.banned_at is not None or not delivery.wanted(uid, room_id,
                                                                                 reason):
                continue
            base = {"message_id": message_id, "user_id": uid, "room_id": room_id,
                    "reason": reason, "status": "pending", "attempts": 0, "created_at": now}
            if pref is None or pref.push:
                rows += [{**base, "target": f"push:{sub}", "due_at": now}
                         for sub in subscriptions.get(uid, ())]
            if reason != "all" and user.email and mail.enabled(config) and (
                    pref is None or pref.email_digest):
                minutes = pref.digest_minutes if pref is not None else None
                delay = config["NOTIFY_EMAIL_DELAY"] if minutes is None else minutes * 60
                rows.append({**base, "target": "email", "due_at": now + timedelta(seconds=delay)})
    return rows
