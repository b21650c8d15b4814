"""What the console does to accounts and tokens: the service behind webapp/admin/views.py.

No request objects: each function takes the acting admin (a User) and, for what the chat's own
moderation does (bans), goes through the same functions as the chat's ``ban`` and ``unban``, so
a deactivation from the console ends sessions, tokens and connections on every process exactly
as one from the chat does. Every change is audited.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from webapp import accounts, audit
from webapp import temporary_passwords as temporary
from webapp.chat import cluster, moderation
from webapp.chat.service import Member
from webapp.errors import AppError, NotFound
from webapp.extensions import db
from webapp.models import ApiToken, User, new_session_secret, utcnow
from webapp.server.offload import run_blocking

PAGE = 50


def as_member(admin: User, address: str | None) -> Member:
    """The admin as the chat's moderation functions know people (no connection)."""
    return Member(sid=None, name=admin.name, guest=False, user_id=admin.id, admin=True,
                  address=address)


def user(user_id: int) -> User:
    found = db.session.get(User, user_id)
    if found is None:
        raise NotFound("No such user.")
    return found


def search_users(query: str, *, after: int = 0) -> list[User]:
    """Accounts whose name contains ``query`` (any case), by id, a page after id ``after``."""
    rows = select(User).where(User.id > after)
    if query:
        rows = rows.where(User.name_key.contains(query.casefold(), autoescape=True))
    return list(db.session.scalars(rows.order_by(User.id).limit(PAGE)))


def deactivate(admin: User, target: User, address: str | None) -> None:
    """The chat's ban of an account: logins and tokens end, connections close everywhere."""
    cluster.ban_everywhere(*moderation.ban(as_member(admin, address), {"user": target.name}))


def reactivate(admin: User, target: User, address: str | None) -> None:
    moderation.unban(as_member(admin, address), {"user": target.name})


def set_role(admin: User, target: User, make_admin: bool) -> None:
    """Promote or demote; the target's connections close so they come back with the new role
    (a connection's role is decided when it connects)."""
    if target.id == admin.id and not make_admin:
        raise AppError("Admins cannot demote themselves: ask another admin.",
                       code="cannot_demote_self", status=400)
    if target.is_admin == make_admin:
        return
    accounts.set_admin(target.name, make_admin)
    cluster.close_room_everywhere(f"user:{target.id}")
    audit.record("role_changed", actor=admin, target=f"user:{target.name}",
                 details={"admin": make_admin})


def temporary_password() -> str:
    """A password to hand over once: 96 random bits, readable aloud in groups."""
    raw = secrets.token_hex(12)
    return "-".join(raw[i:i + 6] for i in range(0, len(raw), 6))


def reset_password(admin: User, target: User) -> str:
    """Set a temporary password (answered once, never stored in clear) and end every login of
    the account and its connections made with one; its API tokens stay."""
    clear = temporary_password()
    db.session.commit()  # no transaction held while hashing (accounts._end_read)
    target.password_hash = run_blocking(generate_password_hash, clear)
    target.session_secret = new_session_secret()
    temporary.set_by_admin(target)
    db.session.commit()
    cluster.disconnect_logins(target.id)
    audit.record("password_reset", actor=admin, target=f"user:{target.name}")
    return clear


def create_account(admin: User, name: str) -> tuple[User, str]:
    """A new account with a temporary password (for REGISTRATION=closed)."""
    clear = temporary_password()
    created = accounts.create_user(name, clear)
    temporary.set_by_admin(created)
    db.session.commit()
    audit.record("user_created", actor=admin, target=f"user:{created.name}")
    return created, clear


def tokens(after: int = 0) -> list[ApiToken]:
    """Every account's live API tokens, a page after id ``after``."""
    rows = select(ApiToken).where(ApiToken.revoked_at.is_(None), ApiToken.id > after)
    return list(db.session.scalars(rows.order_by(ApiToken.id).limit(PAGE)))


def revoke_token(admin: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()
    db.session.commit()
    cluster.disconnect_token(token.id)
    audit.record("token_revoked", actor=admin, target=f"token:{token.id}",
                 details={"name": token.name, "owner": token.user.name})
    return token
