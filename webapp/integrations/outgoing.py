"""Outgoing webhooks: every new message of a room, POSTed signed to the URLs its owner registered.

Durable and off the message path: posting a message never looks at webhooks. A duty of each
serving process (``run``, started with the cluster's in webapp/chat/cluster.py) wakes every
WEBHOOK_POLL_SECONDS and

1. queues (``queue_new``): for each active webhook, the room's messages after its ``cursor``
   become rows of ``webhook_deliveries``, and the cursor moves past them, in one transaction. A
   message acked before the process died is in the database, after the cursor: the next run of
   any process queues it. Two processes queuing at once: the cursor moves only from the value
   read (compare-and-set), so one of them wins and the other's rows are rolled back.
2. sends (``send_due``): each due delivery is claimed by moving its ``next_attempt_at`` past the
   request's timeout (``UPDATE ... WHERE next_attempt_at <= now``: one process wins the row),
   then POSTed; a 2xx marks it delivered, anything else waits twice as long as the time before
   (with jitter) and, after WEBHOOK_MAX_ATTEMPTS, marks it failed. A process dying mid-send
   leaves the claim to lapse, and the delivery is sent again with the same id: at least once.
3. forgets (``purge``, hourly): deliveries done (delivered, failed, skipped) more than
   ``KEEP_DONE`` ago, so the table holds a week of history, not every message ever sent out.
"""
from __future__ import annotations

import json
import logging
import random
import secrets
import time
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from webapp.chat import service
from webapp.extensions import db, socketio
from webapp.integrations import signing, ssrf
from webapp.models import Message, Room, Webhook, WebhookDelivery, utcnow

log = logging.getLogger(__name__)

QUEUE_BATCH = 200  # messages queued per webhook per run
SEND_BATCH = 20  # deliveries sent per run
MAX_WAIT = 3600.0  # the longest wait between two attempts, in seconds
KEEP_DONE = timedelta(days=7)  # what was sent and how it went, for the owner's questions
PURGE_EVERY = 3600.0  # seconds


def run(app: Flask) -> None:
    """The duty: queue new messages and send due deliveries, every WEBHOOK_POLL_SECONDS."""
    purged = 0.0
    while True:
        socketio.sleep(app.config["WEBHOOK_POLL_SECONDS"])
        with app.app_context():
            try:
                queue_new()
                send_due()
                if time.monotonic() - purged > PURGE_EVERY:
                    purged = time.monotonic()
                    purge()
            except Exception:  # a database blip: try again on the next run
                log.exception("webhook deliveries failed this round")
                db.session.rollback()


def purge(now=None) -> int:
    """Forget deliveries done more than KEEP_DONE ago; answers how many."""
    cutoff = (now or utcnow()) - KEEP_DONE
    removed = db.session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.done_at.is_not(None), WebhookDelivery.done_at < cutoff)).rowcount
    db.session.commit()
    return removed


def queue_new() -> int:
    """Queue each active webhook's new messages; answers how many deliveries were queued."""
    queued = 0
    hooks = db.session.execute(
        select(Webhook.id, Webhook.room_id, Webhook.cursor, Webhook.trigger)
        .where(Webhook.active.is_(True))).all()
    db.session.commit()  # no transaction held open between the webhooks
    for hook_id, room_id, cursor, trigger in hooks:
        queued += _queue(hook_id, room_id, cursor, trigger)
    return queued


def _queue(hook_id: int, room_id: int, cursor: int, trigger: str | None) -> int:
    rows = db.session.execute(
        select(Message.id, Message.text, Message.meta)
        .where(Message.room_id == room_id, Message.id > cursor, Message.deleted_at.is_(None))
        .order_by(Message.id).limit(QUEUE_BATCH)).all()
    if not rows:
        db.session.commit()
        return 0
    wanted = [m for m in rows if not _from_integration(m.meta) and matches(trigger, m.text)]
    now = utcnow()
    try:
        # The cursor first: its row lock (PostgreSQL; SQLite's write lock) makes a second
        # process wait, then find the cursor moved and queue nothing.
        moved = db.session.execute(
            update(Webhook).where(Webhook.id == hook_id, Webhook.cursor == cursor)
            .values(cursor=rows[-1].id)).rowcount
        if moved != 1:  # another process queued them first
            db.session.rollback()
            return 0
        db.session.add_all(WebhookDelivery(id=secrets.token_hex(16), webhook_id=hook_id,
                                           message_id=m.id, attempts=0, next_attempt_at=now,
                                           status="pending") for m in wanted)
        db.session.commit()
    except IntegrityError:  # the same, seen at the unique key
        db.session.rollback()
        return 0
    return len(wanted)


def _from_integration(meta: str | None) -> bool:
    """What integrations post is not sent to webhooks: two bots could answer each other forever."""
    return bool(meta) and bool(json.loads(meta).get("bot"))


def matches(trigger: str | None, text: str) -> bool:
    """No trigger: every message; else those whose first word is the trigger (as Slack's)."""
    if not trigger:
        return True
    words = text.split(maxsplit=1)
    return bool(words) and words[0].casefold() == trigger.casefold()


def send_due() -> int:
    """Claim and send the due deliveries; answers how many were sent (delivered or not).

    Each webhook's deliveries go one after the other, in order, in a task of their own: a
    target that hangs holds up only its own deliveries.
    """
    now = utcnow()
    due = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.webhook_id)
        .where(WebhookDelivery.done_at.is_(None), WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.message_id)
        .limit(SEND_BATCH)).all()
    db.session.commit()
    by_webhook: dict[int, list[str]] = {}
    for delivery_id, webhook_id in due:
        if _claim(delivery_id):
            by_webhook.setdefault(webhook_id, []).append(delivery_id)
    app = current_app._get_current_object()
    tasks = [socketio.start_background_task(_send_in_turn, app, ids) for ids in by_webhook.values()]
    for task in tasks:
        task.join()
    return sum(len(ids) for ids in by_webhook.values())


def _send_in_turn(app: Flask, delivery_ids: list[str]) -> None:
    with app.app_context():
        for delivery_id in delivery_ids:
            try:
                _send(delivery_id)
            except Exception:  # a database blip: the claim lapses and it is sent again
                log.exception("webhook delivery %s failed", delivery_id)
                db.session.rollback()


def _claim(delivery_id: str) -> bool:
    """Take the delivery for this process: past the request's timeout nobody else sends it."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["WEBHOOK_TIMEOUT"] * 2 + 30)
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.done_at.is_(None),
               WebhookDelivery.next_attempt_at <= now)
        .values(next_attempt_at=now + lease)).rowcount
    db.session.commit()
    return claimed == 1


def _send(delivery_id: str) -> None:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # its webhook was removed meanwhile (the rows go with it)
        return
    hook = db.session.get(Webhook, delivery.webhook_id)
    message = db.session.get(Message, delivery.message_id)
    if message is None or message.deleted_at is not None or not hook.active:
        _finish(delivery, hook, "skipped", None)  # deleted before it went out: nothing to send
        return
    room = db.session.get(Room, hook.room_id).name
    payload = {"delivery": delivery.id, "event": "message", "webhook": hook.id, "room": room,
               "message": service.render([message], room)[0]}
    db.session.commit()  # no transaction held over the request
    try:
        target = ssrf.resolve(hook.url)  # again: DNS may have changed since registration
        answer = signing.post(target, payload, hook.secret, current_app.config["WEBHOOK_TIMEOUT"],
                              headers={"X-Parley-Delivery": delivery.id})
        error = None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
        status = str(answer.status)
    except ssrf.TargetRefused as exc:
        status, error = "refused", exc.message
    except Exception as exc:  # noqa: BLE001 - any failure to reach it is a failed attempt
        status, error = "unreachable", f"{type(exc).__name__}: {exc}"[:300]
    delivery.attempts += 1
    if error is None:
        _finish(delivery, hook, "delivered", None, status)
    elif delivery.attempts >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        _finish(delivery, hook, "failed", error, status)
    else:
        delivery.next_attempt_at = utcnow() + timedelta(seconds=backoff(delivery.attempts))
        _record(hook, status, error)
        db.session.commit()


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from WEBHOOK_RETRY_SECONDS, +0-25%
    jitter (receivers back up after an outage are not hit by every process at once)."""
    wait = min(current_app.config["WEBHOOK_RETRY_SECONDS"] * 2 ** (attempts - 1), MAX_WAIT)
    return wait * (1 + random.random() / 4)


def _finish(delivery: WebhookDelivery, hook: Webhook, outcome: str, error: str | None,
            status: str | None = None) -> None:
    delivery.status, delivery.done_at = outcome, utcnow()
    if status is not None:
        _record(hook, status, error)
    db.session.commit()


def _record(hook: Webhook, status: str, error: str | None) -> None:
    """The webhook's last status, shown in the room's settings."""
    hook.last_status, hook.last_error, hook.last_delivery_at = status, error, utcnow()
