"""Accounts on the page: register, log in, log out, and API tokens on the settings page."""
from webapp.auth import invitation_views  # noqa: F401 - its routes are on bp
from webapp.auth.views import bp

__all__ = ["bp"]
