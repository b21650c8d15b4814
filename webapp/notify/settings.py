"""Who wants to be told of what: per-room levels and mutes, account preferences, the e-mail
address, and the browsers subscribed to Web Push. The ``notify_settings``, ``set_notify``,
``push_subscribe`` and ``push_unsubscribe`` operations (docs/protocol.md, "Notifications")."""
from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select

from webapp import mail
from webapp import validation as v
from webapp.chat import service
from webapp.chat.service import Member
from webapp.errors import AppError, Forbidden, InvalidPayload
from webapp.extensions import db
from webapp.models import Room, User, iso
from webapp.notify import webpush
from webapp.notify.models import LEVELS, NotifyAccount, NotifySetting, PushSubscription

FOREVER = datetime(9999, 12, 31, tzinfo=UTC)  # "until I unmute"
MAX_MUTE_MINUTES = 366 * 24 * 60
MAX_SUBSCRIPTIONS = 10  # browsers per account; the oldest goes when an eleventh subscribes


def _account(member: Member) -> int:
    service.limit(member, "notify")
    if member.user_id is None:
        raise Forbidden("Guests get no notifications; register or log in.")
    return member.user_id


def account_prefs(user_id: int) -> NotifyAccount:
    """The account's preferences (defaults when it never changed them; not stored then)."""
    return db.session.get(NotifyAccount, user_id) or NotifyAccount(
        user_id=user_id, push=True, email_digest=True, digest_minutes=None)


def _room_dict(name: str, row: NotifySetting | None) -> dict:
    muted = row.muted_until if row is not None else None
    if muted is not None and muted.tzinfo is None:
        muted = muted.replace(tzinfo=UTC)
    if muted is not None and muted <= datetime.now(UTC):
        muted = None
    return {"room": name, "level": row.level if row is not None else "mentions",
            "muted_until": None if muted is None else ("forever" if muted >= FOREVER
                                                       else iso(muted))}


def read(member: Member, data: Any) -> dict:
    """``notify_settings``: the account's preferences and its rooms' settings (or one room's)."""
    user_id = _account(member)
    data = v.payload(data)
    if data.get("room") is not None:
        room = service.readable_room(member, v.room_name(data))
        return {"ok": True, "room": _room_dict(room.name, db.session.get(
            NotifySetting, (user_id, room.id)))}
    prefs, user = account_prefs(user_id), db.session.get(User, user_id)
    rows = db.session.execute(select(NotifySetting, Room.name).join(
        Room, Room.id == NotifySetting.room_id).where(
        NotifySetting.user_id == user_id).order_by(Room.name))
    subscriptions = db.session.scalars(select(PushSubscription).where(
        PushSubscription.user_id == user_id).order_by(PushSubscription.id))
    config = current_app.config
    return {"ok": True, "account": {
        "email": user.email, "push": prefs.push, "email_digest": prefs.email_digest,
        "digest_minutes": prefs.digest_minutes,
        "default_digest_minutes": config["NOTIFY_EMAIL_DELAY"] / 60,
        "email_available": mail.enabled(config),
        "push_key": webpush.public_key(config),
        "subscriptions": [s.to_dict() for s in subscriptions],
    }, "rooms": [_room_dict(name, row) for row, name in rows]}


def change(member: Member, data: Any) -> dict:
    """``set_notify``: with ``room``, that room's level and mute; without, the account's."""
    user_id = _account(member)
    data = v.payload(data)
    if data.get("room") is not None:
        return {"ok": True, "room": _change_room(member, user_id, data)}
    _change_account(user_id, data)
    return read(member, {})


def _change_room(member: Member, user_id: int, data: dict) -> dict:
    room = service.readable_room(member, v.room_name(data))
    level = data.get("level")
    if level is not None and level not in LEVELS:
        raise InvalidPayload("'level' is one of all, mentions, nothing.", code="invalid_level")
    muted = _muted_until(data)
    row = db.session.get(NotifySetting, (user_id, room.id))
    if row is None:
        row = NotifySetting(user_id=user_id, room_id=room.id, level="mentions")
        db.session.add(row)
    if level is not None:
        row.level = level
    if muted is not False:
        row.muted_until = muted
    db.session.commit()
    return _room_dict(room.name, row)


def _muted_until(data: dict) -> datetime | None | bool:
    """The new mute from ``mute_minutes`` or ``muted_until``; False: unchanged."""
    if "mute_minutes" in data and "muted_until" in data:
        raise InvalidPayload("Send 'mute_minutes' or 'muted_until', not both.",
                             code="invalid_mute")
    if "mute_minutes" in data:
        minutes = data["mute_minutes"]
        if minutes is None or minutes == 0:
            return None
        if isinstance(minutes, bool) or not isinstance(minutes, int) or \
                not 0 < minutes <= MAX_MUTE_MINUTES:
            raise InvalidPayload(f"'mute_minutes' is 1-{MAX_MUTE_MINUTES}, or 0 to unmute.",
                                 code="invalid_mute")
        return datetime.now(UTC) + timedelta(minutes=minutes)
    if "muted_until" not in data:
        return False
    value = data["muted_until"]
    if value is None:
        return None
    if value == "forever":
        return FOREVER
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidPayload("'muted_until' is an ISO 8601 time, \"forever\" or null.",
                             code="invalid_mute") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _change_account(user_id: int, data: dict) -> None:
    prefs = db.session.get(NotifyAccount, user_id)
    if prefs is None:
        prefs = NotifyAccount(user_id=user_id, push=True, email_digest=True)
        db.session.add(prefs)
    for key in ("push", "email_digest"):
        if key in data:
            setattr(prefs, key, v.flag(data, key))
    if "digest_minutes" in data:
        prefs.digest_minutes = v.optional_int(data, "digest_minutes", 1, 7 * 24 * 60)
    if "email" in data:
        # The address is where password resets go: whoever sets it can take the account over,
        # so it is set on the settings page with the password (webapp/resets.py), never with a
        # session or an API token alone. Digests go to that address.
        raise AppError("Set your e-mail address on the settings page (it needs your password).",
                       code="email_needs_password", status=403)
    db.session.commit()


def subscribe(member: Member, data: Any) -> dict:
    """``push_subscribe``: keep a browser's PushSubscription (its JSON) for this account."""
    user_id = _account(member)
    if not webpush.enabled(current_app.config):
        raise AppError("Web Push is not set up on this server.", code="push_unavailable",
                       status=404)
    data = v.payload(data)
    endpoint = _endpoint(data.get("endpoint"))
    keys = data.get("keys") if isinstance(data.get("keys"), dict) else {}
    p256dh, auth = _key(keys, "p256dh", 65), _key(keys, "auth", 16)
    db.session.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
    row = PushSubscription(user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth)
    db.session.add(row)
    db.session.flush()
    old = db.session.scalars(select(PushSubscription.id).where(
        PushSubscription.user_id == user_id).order_by(PushSubscription.id.desc())
        .offset(MAX_SUBSCRIPTIONS)).all()
    if old:
        db.session.execute(delete(PushSubscription).where(PushSubscription.id.in_(old)))
    db.session.commit()
    return {"ok": True, "subscription": row.to_dict()}


def unsubscribe(member: Member, data: Any) -> dict:
    """``push_unsubscribe``: forget a browser (by its endpoint); answers whether it was known."""
    user_id = _account(member)
    endpoint = v.payload(data).get("endpoint")
    if not isinstance(endpoint, str):
        raise InvalidPayload("'endpoint' must be the subscription's URL.",
                             code="invalid_subscription")
    removed = db.session.execute(delete(PushSubscription).where(
        PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint)).rowcount
    db.session.commit()
    return {"ok": True, "removed": bool(removed)}


def _endpoint(value: Any) -> str:
    """A push service's URL. The server POSTs to it, so only the push services the operator
    lists (PUSH_SERVICE_HOSTS) are accepted: otherwise a subscription could aim the server at
    hosts on its own network."""
    if not isinstance(value, str) or len(value) > 1024:
        raise InvalidPayload("'endpoint' must be the subscription's URL.",
                             code="invalid_subscription")
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    allowed = current_app.config["PUSH_SERVICE_HOSTS"]
    listed = any(host == entry or (entry.startswith(".") and host.endswith(entry))
                 for entry in allowed)
    if not listed or parts.scheme not in ("https", "http") or (
            parts.scheme == "http" and not _loopback(host)):
        raise InvalidPayload("That push service is not one this server sends to.",
                             code="invalid_subscription")
    return value


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _key(keys: dict, name: str, size: int) -> str:
    value = keys.get(name)
    try:
        ok = isinstance(value, str) and len(webpush.unb64url(value)) == size
    except ValueError:
        ok = False
    if not ok:
        raise InvalidPayload(f"'keys.{name}' must be the subscription's base64url key.",
                             code="invalid_subscription")
    return value

