"""Password reset by e-mail: a signed link that expires and works once, and the address it goes to.

The link names the user and a fingerprint of their password hash, signed with SECRET_KEY
(itsdangerous, with its own salt) and dated: it dies after PASSWORD_RESET_MINUTES, and as soon
as the password changes -- by this link or any other way -- so it cannot be used twice.
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp import accounts, audit, mail
from webapp.errors import AppError
from webapp.extensions import db, socketio
from webapp.models import User

log = logging.getLogger(__name__)
SALT = "parley.password-reset"  # a reset link is never good as any other signed value


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def set_email(user: User, email: str | None) -> None:
    """Set (or with None or "", remove) the address of ``user``; one account per address."""
    email = (email or "").strip() or None
    user.email = email.lower() if email else None  # stored lower-cased: unique either way
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AppError("Another account uses this address.", code="email_taken",
                       status=409) from None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    # A digest, not the hash itself: the link travels by e-mail and sits in mailboxes.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def token_for(user: User) -> str:
    return _serializer().dumps({"user": user.id, "password": _fingerprint(user)})


def user_for(token: str) -> User | None:
    """The user a reset link is for, while it stands: signed, in time, password unchanged."""
    max_age = current_app.config["PASSWORD_RESET_MINUTES"] * 60
    try:
        data = _serializer().loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("user")) if isinstance(data.get("user"), int) else None
    if user is None or user.banned_at is not None:
        return None
    if not hmac.compare_digest(_fingerprint(user), str(data.get("password"))):
        return None  # used already, or the password changed since
    return user


def request_reset(email: str) -> None:
    """Mail a reset link if an account has ``email``; the caller answers the same either way,
    and the sending happens after the answer, so neither words nor timing tell."""
    user = find_by_email(email)
    if user is None or user.banned_at is not None:
        return
    link = f"{current_app.config['PUBLIC_URL']}/auth/reset/{token_for(user)}"
    text = render_template("auth/reset_email.txt", user=user, link=link,
                           minutes=int(current_app.config["PASSWORD_RESET_MINUTES"]))
    socketio.start_background_task(
        _send, current_app._get_current_object(), user.email, text)


def _send(app, to: str, text: str) -> None:
    try:
        mail.send(app.config, to, "Reset your Parley password", text)
    except mail.MailError:
        log.warning("a password reset e-mail was not sent", exc_info=True)


def reset(user: User, new_password: str) -> None:
    """Set the new password and end every login of ``user``; the link dies with the old hash."""
    accounts.set_password(user, new_password)
    audit.record("password_reset", actor=user, target=f"user:{user.name}")
