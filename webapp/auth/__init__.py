"""Accounts on the page: register, log in, log out, and API tokens on the settings page."""
from webapp.auth.views import bp

__all__ = ["bp"]
