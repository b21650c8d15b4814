"""Accounts and API tokens: create, authenticate, log in, promote, ban, issue and revoke tokens."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from webapp import validation as v
from webapp.errors import AppError, NotFound
from webapp.extensions import db
from webapp.models import ApiToken, User, new_session_secret, utcnow
from webapp.server.offload import run_blocking

MIN_PASSWORD = 10
TOKEN_PREFIX = "pt_"  # makes a leaked token easy to recognise (secret scanners, logs)
# A real hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def find_user(name: str) -> User | None:
    return db.session.scalar(select(User).where(User.name_key == name.casefold()))


def get_user(name: str) -> User:
    user = find_user(name)
    if user is None:
        raise NotFound(f"No user called '{name}'.")
    return user


def create_user(name: str, password: str, *, admin: bool = False) -> User:
    """Register an account; Werkzeug's default KDF (scrypt) hashes the password, off the loop."""
    name = v.person_name(name)
    _check_strength(password)
    if find_user(name) is not None:
        raise _name_taken(name)
    _end_read()
    password_hash = run_blocking(generate_password_hash, password)
    user = User(name=name, name_key=name.casefold(), password_hash=password_hash, is_admin=admin)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # registered by someone else while we hashed
        db.session.rollback()
        raise _name_taken(name) from None
    return user


def authenticate(name: str, password: str) -> User | None:
    """The user with this name and password, or None; banned users are refused."""
    user = find_user(name) if isinstance(name, str) else None
    # An unknown name costs the same hash as a wrong password, so timing does not tell.
    stored = user.password_hash if user is not None else _DUMMY_HASH
    _end_read()
    if not run_blocking(check_password_hash, stored, password or ""):
        return None
    if user is None or user.banned_at:
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password if ``current`` is right, and end every login of ``user`` (the caller
    logs this browser in again). Both hashes run off the loop, outside any transaction."""
    _check_strength(new)
    _end_read()
    if not run_blocking(check_password_hash, user.password_hash, current or ""):
        raise AppError("The current password is wrong.", code="wrong_password", status=400)
    user.password_hash = run_blocking(generate_password_hash, new)
    user.session_secret = new_session_secret()
    db.session.commit()


def set_password(user: User, new: str) -> None:
    """Set a new password without the old one (a reset link vouched for the person) and end
    every login of ``user``. The hash runs off the loop, outside any transaction."""
    _check_strength(new)
    _end_read()
    user.password_hash = run_blocking(generate_password_hash, new)
    user.session_secret = new_session_secret()
    db.session.commit()


def _check_strength(password: object) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AppError(f"A password has at least {MIN_PASSWORD} characters.", code="weak_password")


def _name_taken(name: str) -> AppError:
    return AppError(f"The name '{name}' is taken.", code="name_taken", status=409)


def _end_read() -> None:
    """End the read transaction before a hash: a login waiting its turn for a hashing thread
    must not hold one of the pool's few database connections that chat events need."""
    db.session.commit()  # nothing is pending; expire_on_commit=False keeps the user loaded


# -- Logins ---------------------------------------------------------------------------------
# Flask-Login keeps one string per login, in the session and in the remember-me cookie (both
# signed with SECRET_KEY): "<user id>:<session secret>:<issued, unix seconds>:<nonce>". The
# user's session secret ends every login at once when it changes; the issue time ends a login
# server-side after its lifetime (however long the browser keeps the cookie); the nonce makes each
# login's cookie its own, so one copied cookie is not every login's.


def begin_login(user: User) -> User:
    """Name a new login of ``user``: ``login_user(begin_login(user))``."""
    if not user.session_secret:  # a row added by hand, without the model's default
        end_sessions(user)
    user.login_id = ":".join(
        (str(user.id), user.session_secret, str(int(time.time())), secrets.token_urlsafe(6))
    )
    return user


def resume_login(login_id: str, lifetime: float) -> User | None:
    """The user a session or remember-me cookie names, if that login still stands: the user is
    not banned, the secret is the current one, and it is at most ``lifetime`` seconds old."""
    parts = login_id.split(":")
    if len(parts) != 4:
        return None  # also every login made before session secrets existed: a bare id
    user_id, secret, issued, _nonce = parts
    if not (user_id.isascii() and user_id.isdigit() and issued.isascii() and issued.isdigit()):
        return None
    if time.time() - int(issued) > lifetime:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.banned_at is not None or not user.session_secret:
        return None
    if not hmac.compare_digest(secret.encode(), user.session_secret.encode()):
        return None
    user.login_id = login_id
    return user


def end_sessions(user: User) -> None:
    """End every login of ``user``: all sessions and remember-me cookies, on every device."""
    user.session_secret = new_session_secret()
    db.session.commit()


def set_admin(name: str, admin: bool = True) -> User:
    user = get_user(name)
    user.is_admin = admin
    db.session.commit()
    return user


def ban(name: str) -> User:
    """Deactivate an account: its logins end and its tokens stop working (the caller closes
    its live connections)."""
    user = get_user(name)
    user.banned_at = user.banned_at or utcnow()
    user.session_secret = new_session_secret()
    db.session.commit()
    return user


def _digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token; the clear text is returned once and never stored."""
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
        raise AppError("A token name is 1-64 characters.", code="invalid_token_name")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name.strip(), token_hash=_digest(clear), prefix=clear[:10]
    )
    db.session.add(token)
    db.session.commit()
    return token, clear


def verify_token(clear: object) -> ApiToken | None:
    """The live token for this clear text, or None (unknown, revoked, or its user banned)."""
    if not isinstance(clear, str) or not clear.startswith(TOKEN_PREFIX) or len(clear) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(clear)))
    if token is None or token.revoked_at or token.user.banned_at:
        return None
    token.last_used_at = utcnow()
    db.session.commit()
    return token


def list_tokens(user: User) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    return list(db.session.scalars(query.order_by(ApiToken.id)))


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()
    db.session.commit()
    return token
