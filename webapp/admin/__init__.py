"""The admin console: pages under /admin for running the server without a shell on it.

Admins only (anyone else gets 403), every form CSRF-protected (Flask-WTF, as the account pages)
and every change audited (webapp/audit.py). docs/operations.md, "Admin console".
"""
from flask import render_template
from flask_login import current_user

from webapp.admin import data, pages, rooms  # noqa: F401 - their routes are on bp
from webapp.admin.views import bp
from webapp.models import iso

bp.add_app_template_filter(iso, "iso")  # templates/admin/_macros.html: times in UTC, ISO 8601


@bp.before_request
def _admins_only():
    if not (current_user.is_authenticated and current_user.is_admin):
        return render_template("admin/refused.html"), 403
    return None


@bp.after_request
def _no_store(response):
    """Console pages carry temporary passwords, links and CSRF tokens: never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


__all__ = ["bp"]
