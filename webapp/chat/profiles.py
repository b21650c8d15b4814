"""Profiles (issue 18): a display name, an avatar and a status, for accounts only.

A person's **card** is what clients show of them (docs/protocol.md, "The profile object"):
``{"user", "guest", "display_name", "avatar_url", "status"}``, each part None when not set.
Guests have no profile: their name is all there is (``profile`` answers not_found for them).
A status has a text and/or one emoji and may expire; past ``expires_at`` it is served as None
(nothing clears it: the page hides it on time, and every later read leaves it out).

``away`` is not this module's: whoever knows who is idle adds it to the card when known.
"""
from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from webapp import accounts
from webapp import validation as v
from webapp.chat import changes, service
from webapp.chat.service import Member
from webapp.errors import Forbidden, InvalidPayload
from webapp.extensions import activity, db
from webapp.models import User, iso, utcnow

MAX_DISPLAY_NAME = 64
MAX_STATUS_TEXT = 100
MAX_NAMES = 100  # cards per ``profiles`` request: a page's worth of members
MAX_EXPIRY = timedelta(days=366)  # a status set "until next year" is a mistake, not a plan
# Characters that would reorder or hide the text around a name (bidirectional overrides and
# isolates): "Trojan Source" spoofing, refused along with control characters.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


# -- cards -------------------------------------------------------------------------------------
def avatar_url(user: User) -> str | None:
    """Where the avatar is served; the key's start in the URL changes with every upload, so a
    cached copy is never stale (``?size=64`` for the small square)."""
    if not user.avatar:
        return None
    return f"/api/users/{user.name}/avatar?v={user.avatar[:12]}"


def status(user: User, now: datetime | None = None) -> dict | None:
    """The user's status, or None when unset or expired."""
    if not (user.status_text or user.status_emoji):
        return None
    expires = user.status_expires_at
    if expires is not None:
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)  # SQLite: naive
        if expires <= (now or utcnow()):
            return None
    return {"text": user.status_text or "", "emoji": user.status_emoji,
            "expires_at": iso(expires) if expires else None}


def card(user: User, away: bool | None = None) -> dict:
    """What clients show of an account (docs/protocol.md, "The profile object"); ``away``: no
    page of theirs in the foreground for AWAY_AFTER (webapp/activity.py), read if not given."""
    if away is None:
        away = activity.away([user.id])[user.id]
    return {"user": user.name, "guest": False, "display_name": user.display_name,
            "avatar_url": avatar_url(user), "status": status(user), "away": away}


# -- reading -----------------------------------------------------------------------------------
def profile(member: Member, data: Any) -> dict:
    """One account's card: ``{"name": "bob"}``."""
    service.limit(member, "profile_read")
    name = v.nickname(v.payload(data).get("name"))
    return card(accounts.get_user(name))


def profiles(member: Member, data: Any) -> list[dict]:
    """The cards of the accounts among ``names`` (at most MAX_NAMES); names without an account
    (guests, or nobody) are left out."""
    service.limit(member, "profile_read")
    names = v.payload(data).get("names")
    if not isinstance(names, list) or not names or len(names) > MAX_NAMES:
        raise InvalidPayload(f"'names' must be a list of 1-{MAX_NAMES} names.")
    keys = {v.nickname(name).casefold() for name in names}
    users = list(db.session.scalars(
        select(User).where(User.name_key.in_(keys)).order_by(User.name_key)))
    away = activity.away([user.id for user in users])  # one read for them all
    return [card(user, away[user.id]) for user in users]


# -- changing ----------------------------------------------------------------------------------
def set_profile(member: Member, data: Any) -> tuple[dict, bool]:
    """Change one's display name and/or status; answers the card and whether anything changed.

    ``{"display_name": "Bob B."}`` ("" or null: none), ``{"status": {"text", "emoji",
    "expires_at" | "expires_in"}}`` (null, or neither text nor emoji: none). Keys left out stay.
    """
    user = account(member)
    service.limit(member, "profile")
    data = v.payload(data)
    wanted = {}
    if "display_name" in data:
        wanted["display_name"] = line(data["display_name"], "display_name", MAX_DISPLAY_NAME)
    if "status" in data:
        wanted.update(_status(data["status"]))
    before = card(user)
    for field, value in wanted.items():
        setattr(user, field, value)
    db.session.commit()
    after = card(user)
    return after, after != before


def account(member: Member) -> User:
    """The acting account; guests have no profile."""
    user = db.session.get(User, member.user_id) if member.user_id else None
    if user is None:
        raise Forbidden("Guests have no profile; register or log in.")
    return user


def line(value: Any, key: str, longest: int) -> str | None:
    """One line of text a person shows others: trimmed, at most ``longest`` characters, no
    control characters; empty (or null) is None."""
    code = f"invalid_{key.replace('.', '_')}"
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidPayload(f"'{key}' must be a string.", code=code)
    value = value.strip()
    if len(value) > longest:
        raise InvalidPayload(f"'{key}' is at most {longest} characters.", code=code)
    if any(c in BIDI_CONTROLS or unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value):
        raise InvalidPayload(f"'{key}' may not contain control characters.", code=code)
    return value or None


def _status(value: Any) -> dict:
    """The user columns a ``status`` payload sets."""
    if value is None:
        return {"status_text": None, "status_emoji": None, "status_expires_at": None}
    if not isinstance(value, dict):
        raise InvalidPayload("'status' must be an object, or null to clear it.",
                             code="invalid_status")
    text = line(value.get("text"), "status.text", MAX_STATUS_TEXT)
    mark = value.get("emoji")
    mark = changes.canonical_emoji(mark, "status.emoji") if mark not in (None, "") else None
    if text is None and mark is None:
        return _status(None)
    return {"status_text": text, "status_emoji": mark, "status_expires_at": _expiry(value)}


def _expiry(value: dict) -> datetime | None:
    """``expires_at`` (ISO 8601 with a zone) or ``expires_in`` (seconds), or neither: never."""
    at, seconds = value.get("expires_at"), value.get("expires_in")
    if at is not None and seconds is not None:
        raise InvalidPayload("Give 'expires_at' or 'expires_in', not both.", code="invalid_status")
    now = utcnow()
    if seconds is not None:
        limit = int(MAX_EXPIRY.total_seconds())
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= limit:
            raise InvalidPayload(f"'expires_in' must be 1-{limit} seconds.", code="invalid_status")
        return now + timedelta(seconds=seconds)
    if at is None:
        return None
    try:
        moment = datetime.fromisoformat(at) if isinstance(at, str) and len(at) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidPayload("'expires_at' must be an ISO 8601 time with its zone, such as "
                             "\"2026-12-01T17:00:00Z\".", code="invalid_status")
    if not now < moment <= now + MAX_EXPIRY:
        raise InvalidPayload("'expires_at' must be in the future, within a year.",
                             code="invalid_status")
    return moment.astimezone(UTC)
