"""Temporary passwords (an admin's reset, or an account an admin created): good for one login,
which goes to the settings page to choose the person's own; a second login with it is refused.
Changing the password ends it."""
from __future__ import annotations

from webapp.extensions import db
from webapp.models import User

USED = "This temporary password was used already; ask an admin for a new one."


def set_by_admin(user: User) -> None:
    """The password just set is temporary (the caller commits)."""
    user.temporary_logins = 1


def login(user: User) -> str | None:
    """For a login that gave the right password: None (the person's own password), "first" (a
    temporary one, now used) or "used" (refuse it: ``USED``)."""
    if user.temporary_logins is None:
        return None
    if user.temporary_logins <= 0:
        return "used"
    user.temporary_logins = 0
    db.session.commit()
    return "first"


def chosen(user: User) -> None:
    """The person set a password of their own."""
    if user.temporary_logins is not None:
        user.temporary_logins = None
        db.session.commit()
