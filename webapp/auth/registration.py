"""Who may register (REGISTRATION=open|invite|closed), and making the account with the
invitation it used: the register page's rules (webapp/auth/views.py)."""
from __future__ import annotations

from flask import render_template

from webapp import accounts, audit, invitations
from webapp.errors import AppError
from webapp.models import User

# Refusals of a link, answered with the page saying so (not as a form error).
INVITATION_REFUSALS = {"invalid_invitation", "invitation_revoked", "invitation_expired",
                       "invitation_used_up"}


def registration_refused(mode: str, invite: str | None):
    """The page saying why registering is not possible here, or None when it is."""
    if mode == "closed":
        return closed_page("Registration is closed here: an admin creates accounts.",
                           "registration_closed")
    if mode == "invite":
        if not invite:
            return closed_page("Registration here is by invitation: ask for a link.",
                               "invitation_required")
        try:
            invitations.check(invite)
        except AppError as exc:
            return closed_page(exc.message, exc.code)
    return None


def closed_page(message: str, code: str):
    return render_template("auth/register_closed.html", message=message, code=code), 403


def create_account(name: str, password: str, invite: str | None) -> User:
    """The new account, using up one use of ``invite`` (REGISTRATION=invite), audited; a use
    taken for a registration that then fails (the name is taken) is given back."""
    invitation = invitations.take(invite) if invite is not None else None
    try:
        user = accounts.create_user(name, password)
    except AppError:
        if invitation is not None:
            invitations.give_back(invitation)
        raise
    details = {"invitation": invitation.prefix} if invitation is not None else None
    audit.record("register", actor=user, target=f"user:{user.name}", details=details)
    if invitation is not None:
        audit.record("invitation_used", actor=user, target=f"invitation:{invitation.id}")
    return user
