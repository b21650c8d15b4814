"""Registration invitations: links that let people make an account when REGISTRATION=invite.

A link is ``/auth/register?invite=<token>``; only the token's SHA-256 is stored (like API
tokens: 192 random bits leave nothing to brute-force). A link is single-use, good for N
registrations or unlimited, may expire, and can be revoked. Admins create them, and other
accounts too with INVITES_BY_MEMBERS. Each creation, revocation and use is audited.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from webapp import audit
from webapp.errors import AppError, Forbidden, NotFound, RateLimited
from webapp.extensions import db, ratelimits
from webapp.models import Invitation, User, iso, utcnow

PREFIX = "pi_"
MAX_USES = 1000
MAX_HOURS = 366 * 24


def _digest(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


def may_create(user: User) -> bool:
    """Admins always; other accounts when INVITES_BY_MEMBERS is on."""
    return bool(user.is_admin or current_app.config["INVITES_BY_MEMBERS"])


def create(user: User, *, max_uses: int | None, hours: float | None) -> tuple[Invitation, str]:
    """A new link by ``user``; answers the row and the clear token (shown once)."""
    if not may_create(user):
        raise Forbidden("Only admins may create invitations here.")
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        raise AppError(f"Uses: 1 to {MAX_USES}, or unlimited.", code="invalid_invitation_uses")
    if hours is not None and not 0 < hours <= MAX_HOURS:
        raise AppError(f"An invitation lasts at most {MAX_HOURS} hours.", code="invalid_expiry")
    if not ratelimits.hit("invitation", f"user:{user.id}"):
        raise RateLimited("Too many invitations; try again later.",
                          retry_after=ratelimits.retry_after("invitation", f"user:{user.id}"))
    clear = PREFIX + secrets.token_urlsafe(24)
    expires = utcnow() + timedelta(hours=hours) if hours else None
    invitation = Invitation(token_hash=_digest(clear), prefix=clear[:10], created_by=user.id,
                            max_uses=max_uses, expires_at=expires)
    db.session.add(invitation)
    db.session.commit()
    audit.record("invitation_created", actor=user, target=f"invitation:{invitation.id}",
                 details={"max_uses": max_uses, "expires_at": iso(expires) if expires else None})
    return invitation, clear


def listed(user: User | None = None) -> list[Invitation]:
    """Live and past invitations, newest first: all of them (``user`` None: the console) or
    those ``user`` created."""
    query = select(Invitation)
    if user is not None:
        query = query.where(Invitation.created_by == user.id)
    return list(db.session.scalars(query.order_by(Invitation.id.desc()).limit(200)))


def revoke(user: User, invitation_id: int) -> Invitation:
    """Revoke a link: admins any, others their own."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not (user.is_admin or invitation.created_by == user.id):
        raise NotFound("No such invitation.")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        db.session.commit()
        audit.record("invitation_revoked", actor=user, target=f"invitation:{invitation.id}")
    return invitation


def status(invitation: Invitation) -> str:
    """``active``, ``revoked``, ``expired`` or ``used_up``."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at is not None and _aware(invitation.expires_at) <= utcnow():
        return "expired"
    if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
        return "used_up"
    return "active"


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive


REFUSALS = {
    "revoked": ("This invitation was revoked.", "invitation_revoked"),
    "expired": ("This invitation has expired.", "invitation_expired"),
    "used_up": ("This invitation has been used up.", "invitation_used_up"),
}


def check(clear: object) -> Invitation:
    """The active invitation for this token, or an AppError saying why not (403)."""
    invitation = None
    if isinstance(clear, str) and clear.startswith(PREFIX) and len(clear) <= 100:
        invitation = db.session.scalar(
            select(Invitation).where(Invitation.token_hash == _digest(clear)))
    if invitation is None:
        raise AppError("This invitation link is not valid.", code="invalid_invitation", status=403)
    state = status(invitation)
    if state != "active":
        message, code = REFUSALS[state]
        raise AppError(message, code=code, status=403)
    return invitation


def take(clear: object) -> Invitation:
    """Count one use of an active invitation, atomically: two people on the last use of a link
    cannot both get it (the UPDATE's condition is checked under the row's lock)."""
    invitation = check(clear)
    now = utcnow()
    taken = db.session.execute(
        update(Invitation).where(
            Invitation.id == invitation.id, Invitation.revoked_at.is_(None),
            or_(Invitation.expires_at.is_(None), Invitation.expires_at > now),
            or_(Invitation.max_uses.is_(None), Invitation.uses < Invitation.max_uses),
        ).values(uses=Invitation.uses + 1).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not taken:  # it stopped being active meanwhile: say why
        db.session.refresh(invitation)
        check(clear)
        message, code = REFUSALS["used_up"]
        raise AppError(message, code=code, status=403)
    return invitation


def give_back(invitation: Invitation) -> None:
    """Return a use taken for a registration that then failed (the name was taken, say)."""
    db.session.execute(update(Invitation).where(Invitation.id == invitation.id)
                       .values(uses=Invitation.uses - 1)
                       .execution_options(synchronize_session=False))
    db.session.commit()
