"""The durable outbox, second half: sending the notifications that are due.

A round claims due rows with a lease (``lease_until``; on PostgreSQL ``FOR UPDATE SKIP LOCKED``
keeps two processes off the same rows, and the lease re-check in the UPDATE does it on SQLite),
checks each is still wanted -- the person has been away NOTIFY_IDLE_SECONDS and was not back
since the message, the room is not muted or set to "nothing" -- and sends it. Sent: done. Failed:
tried again after NOTIFY_RETRY_SECONDS x 2^attempt with jitter, NOTIFY_MAX_ATTEMPTS times at most.
A push service answering 404 or 410 has dropped the subscription: its row goes too. A process
that dies between sending and recording leaves the lease to expire, and the row is sent again
(at least once); a push carries a ``Topic`` so the push service replaces, not repeats, it.
"""
from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from webapp.extensions import activity, db
from webapp.models import Message, Room
from webapp.notify import digest, webpush
from webapp.notify.models import Notification, NotifyAccount, NotifySetting, PushSubscription
from webapp.server.offload import run_blocking

log = logging.getLogger(__name__)

CLAIM = 50  # rows per round and process
TEXT_MAX = 140  # characters of the message a push shows


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def wanted(user_id: int, room_id: int, reason: str, now: datetime | None = None) -> bool:
    """Whether the room's setting lets ``reason`` (dm | mention | all) through now."""
    row = db.session.get(NotifySetting, (user_id, room_id))
    if row is None:
        return reason != "all"
    muted = _aware(row.muted_until)
    if muted is not None and muted > (now or datetime.now(UTC)):
        return False
    return row.level == "all" or (row.level == "mentions" and reason != "all")


def claim(now: datetime) -> list[int]:
    """Take up to CLAIM due rows for this process until their lease ends."""
    free = or_(Notification.lease_until.is_(None), Notification.lease_until < now)
    due = select(Notification.id).where(
        Notification.status == "pending", Notification.due_at <= now, free
    ).order_by(Notification.due_at).limit(CLAIM).with_for_update(skip_locked=True)
    ids = db.session.scalars(due).all()
    if not ids:
        db.session.rollback()
        return []
    lease = now + timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"])
    taken = db.session.scalars(update(Notification).where(
        Notification.id.in_(ids), Notification.status == "pending", free
    ).values(lease_until=lease).returning(Notification.id)).all()
    db.session.commit()
    return sorted(taken)


def deliver(now: datetime | None = None) -> int:
    """Send what is due; answers how many rows this round handled."""
    now = now or datetime.now(UTC)
    ids = claim(now)
    emails: dict[int, list[Notification]] = {}
    for row in db.session.scalars(select(Notification).where(Notification.id.in_(ids))).all():
        if row.target == "email":
            emails.setdefault(row.user_id, []).append(row)
        elif _leased(row):
            _push(row, now)
    for user_id, rows in emails.items():
        if all(_leased(row) for row in rows):
            digest.send(user_id, rows, now)
    return len(ids)


def _leased(row: Notification) -> bool:
    """Whether this process still owns ``row``: after slow sends its lease may have ended, and
    another process may have claimed the row; then it is that one's to send."""
    return datetime.now(UTC) < _aware(row.lease_until)


def settle(row: Notification, status: str, error: str | None = None) -> None:
    row.status, row.error, row.lease_until = status, error, None
    row.done_at = datetime.now(UTC)
    db.session.commit()


def retry(row: Notification, error: str, now: datetime) -> None:
    """Try again later with exponential backoff and jitter, or give up after the last attempt."""
    row.attempts += 1
    if row.attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        log.warning("notification %s failed %d times: %s", row.id, row.attempts, error)
        settle(row, "failed", error)
        return
    wait = current_app.config["NOTIFY_RETRY_SECONDS"] * 2 ** (row.attempts - 1)
    row.due_at = now + timedelta(seconds=wait * random.uniform(0.5, 1.5))
    row.lease_until, row.error = None, error
    db.session.commit()


def check(row: Notification, message: Message | None, now: datetime) -> str | None:
    """Why the row is no longer to be sent (None: send it); or "later" when the person was in
    the foreground less than NOTIFY_IDLE_SECONDS ago (the row waits until that has passed)."""
    if message is None or message.deleted_at is not None:
        return "deleted"
    if not wanted(row.user_id, row.room_id, row.reason, now):
        return "muted"
    last = activity.last_active([row.user_id])[row.user_id]
    if last is not None and last >= _aware(message.created_at).timestamp():
        return "seen"  # a page was in the foreground since the message came
    idle = current_app.config["NOTIFY_IDLE_SECONDS"]
    if last is not None and now.timestamp() - last < idle:
        row.due_at = datetime.fromtimestamp(last + idle, UTC)
        row.lease_until = None
        db.session.commit()
        return "later"
    return None


def _push(row: Notification, now: datetime) -> None:
    config = current_app.config
    subscription = db.session.get(PushSubscription, int(row.target.partition(":")[2]))
    message = db.session.get(Message, row.message_id)
    prefs = db.session.get(NotifyAccount, row.user_id)
    if subscription is None or not webpush.enabled(config):
        return settle(row, "dropped", "no subscription")
    if prefs is not None and not prefs.push:
        return settle(row, "skipped", "push off")
    why = check(row, message, now)
    if why == "later":
        return None
    if why is not None:
        return settle(row, "skipped", why)
    room = db.session.get(Room, row.room_id).name
    payload = {"room": room, "author": message.author, "text": _short(message.text),
               "message": message.id, "reason": row.reason,
               "url": f"/?room={room}&message={message.id}"}
    endpoint, keys = subscription.endpoint, (subscription.p256dh, subscription.auth)
    db.session.commit()  # no transaction (and no pooled connection) held over the network
    try:
        body, headers = run_blocking(webpush.prepare, config, endpoint, *keys, payload,
                                     f"m{message.id}")
        status = webpush.post(config, endpoint, body, headers)
    except webpush.PushError as exc:
        return retry(row, str(exc), now)
    if 200 <= status < 300:
        return settle(row, "sent")
    if status in (404, 410):  # the browser unsubscribed, or the subscription expired
        db.session.execute(PushSubscription.__table__.delete().where(
            PushSubscription.id == subscription.id))
        return settle(row, "dropped", f"HTTP {status}")
    if status == 429 or status >= 500:
        return retry(row, f"HTTP {status}", now)
    return settle(row, "failed", f"HTTP {status}")


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TEXT_MAX else text[:TEXT_MAX - 1] + "…"
