"""Accounts on the page: register, log in (with two-factor), log out, and API tokens on the
settings page."""
from webapp.auth import reset, sso, twofactor  # noqa: F401  (their pages join the blueprint)
from webapp.auth.views import bp

__all__ = ["bp"]
