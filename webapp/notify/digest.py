"""E-mail digests: one message listing a person's unread mentions and DMs, with a link that
turns digests off without logging in (a signed token; RFC 8058 one-click as well)."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from webapp import mail
from webapp.extensions import db
from webapp.models import Message, Room, User
from webapp.notify.models import Notification, NotifyAccount

SALT = "parley.notify.unsubscribe"
TEXT_MAX = 300


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user_id: int) -> str:
    """A link token naming the account; it stays valid (an old e-mail's link still works)."""
    return _signer().dumps({"u": user_id})


def token_user(token: str) -> User | None:
    try:
        data = _signer().loads(token)
    except BadSignature:
        return None
    return db.session.get(User, data.get("u")) if isinstance(data, dict) else None


def turn_off(user: User) -> None:
    prefs = db.session.get(NotifyAccount, user.id)
    if prefs is None:
        db.session.add(NotifyAccount(user_id=user.id, push=True, email_digest=False))
    else:
        prefs.email_digest = False
    db.session.commit()


def send(user_id: int, rows: list[Notification], now: datetime) -> None:
    """One digest for ``rows`` (claimed, due) and the person's other pending e-mail rows."""
    from webapp.notify import delivery  # delivery imports this module

    rows += list(db.session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.target == "email",
        Notification.status == "pending", Notification.id.notin_([r.id for r in rows]))))
    user, prefs = db.session.get(User, user_id), db.session.get(NotifyAccount, user_id)
    items = []
    for row in sorted(rows, key=lambda r: r.message_id):
        if user is None or not user.email or (prefs is not None and not prefs.email_digest):
            delivery.settle(row, "skipped", "digest off")
            continue
        why = delivery.check(row, db.session.get(Message, row.message_id), now)
        if why == "later":
            continue
        if why is not None:
            delivery.settle(row, "skipped", why)
            continue
        items.append(row)
    if not items:
        return
    subject, text, headers = compose(user, items)
    address = user.email
    db.session.commit()  # nothing held while the SMTP server answers
    try:
        mail.send(current_app.config, address, subject, text, headers=headers)
    except mail.MailError as exc:
        for row in items:
            delivery.retry(row, str(exc), now)
        return
    for row in items:
        delivery.settle(row, "sent")


def compose(user: User, rows: list[Notification]) -> tuple[str, str, dict]:
    """The digest's subject, plain text and List-Unsubscribe headers."""
    base = current_app.config["PUBLIC_URL"]
    lines = []
    for row in rows:
        message = db.session.get(Message, row.message_id)
        room = db.session.get(Room, row.room_id).name
        text = " ".join(message.text.split())
        if len(text) > TEXT_MAX:
            text = text[:TEXT_MAX - 1] + "…"
        where = "a direct message" if row.reason == "dm" else f"#{room}"
        lines.append(f"{message.author} in {where}:\n  {text}\n  {base}/?room={room}"
                     f"&message={message.id}\n")
    unsubscribe = f"{base}/notify/unsubscribe/{unsubscribe_token(user.id)}"
    count = len(rows)
    subject = f"Parley: {count} unread {'mention or message' if count == 1 else 'mentions and messages'}"
    text = (f"Hello {user.name},\n\nWhile you were away:\n\n" + "\n".join(lines)
            + f"\nNo more of these e-mails: {unsubscribe}\n")
    headers = {"List-Unsubscribe": f"<{unsubscribe}>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return subject, text, headers
