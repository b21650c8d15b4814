"""The end of every login (password, single sign-on): the login itself, or first the second step.

Between the password and the code a browser is half logged in: its session holds a marker
naming the user, signed with the session cookie and good for ``PENDING_SECONDS``. It is not a
login: Flask-Login knows nothing of it, so no page, socket or API call serves that user until
the code is right (webapp/auth/twofactor.py).
"""
from __future__ import annotations

import hmac
import time

from flask import redirect, session, url_for
from flask_login import login_user

from webapp import accounts, twofactor
from webapp.extensions import db
from webapp.models import User

PENDING = "signin_pending"
PENDING_SECONDS = 300  # long enough to find the phone, short enough to be no login


def finish_login(user: User, remember: bool = False):
    """Log ``user`` in, or, with two-factor on, send the browser to the second step."""
    if twofactor.enabled(user):
        session[PENDING] = {"user": user.id, "secret": user.session_secret or "",
                            "remember": bool(remember), "at": int(time.time())}
        return redirect(url_for("auth.second_step"))
    return complete_login(user, remember)


def complete_login(user: User, remember: bool = False):
    session.pop(PENDING, None)
    login_user(accounts.begin_login(user), remember=remember)
    return redirect(url_for("main.index"))


def pending() -> tuple[User, bool] | None:
    """The half-logged-in user and their "keep me logged in", while the marker stands: not
    expired, the user not banned, and no log out everywhere or password change since."""
    marker = session.get(PENDING)
    if not isinstance(marker, dict) or time.time() - marker.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, marker.get("user"))
    if user is None or user.banned_at is not None:
        return None
    if not hmac.compare_digest((user.session_secret or "").encode(), marker["secret"].encode()):
        return None
    return user, bool(marker.get("remember"))
