"""Accounts on the page: register (open, by invitation or closed), log in (with two-factor), log
out, and API tokens on the settings page."""
from webapp.auth import invitation_views, reset, sso, twofactor  # noqa: F401  (their pages join bp)
from webapp.auth.views import bp

__all__ = ["bp"]
