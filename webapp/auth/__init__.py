"""Accounts on the page: register, log in, log out, and API tokens on the settings page."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from webapp.auth import views  # noqa: F401  (routes attach to bp)
