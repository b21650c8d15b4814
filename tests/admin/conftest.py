"""Console fixtures: an admin's and a member's logged-in test clients, forms posted with CSRF."""
from __future__ import annotations

import re

import pytest

from webapp import accounts
from webapp.extensions import db
from webapp.models import AuditEvent

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Console:
    """A logged-in browser on the console: ``get``, and ``post`` with the page's CSRF token."""

    def __init__(self, app, name: str, admin: bool) -> None:
        self.app, self.client = app, app.test_client()
        with app.app_context():
            accounts.create_user(name, PASSWORD, admin=admin)
        login = self.client.get("/auth/login")
        token = CSRF.search(login.text).group(1)
        response = self.client.post("/auth/login", data={"name": name, "password": PASSWORD,
                                                         "csrf_token": token})
        assert response.status_code == 302, response.text

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, csrf: bool = True):
        if csrf:
            page = self.client.get("/auth/settings")
            data = {**(data or {}), "csrf_token": CSRF.search(page.text).group(1)}
        return self.client.post(path, data=data or {})


@pytest.fixture
def console(app):
    return Console(app, "root", admin=True)


@pytest.fixture
def member(app):
    return Console(app, "mallory", admin=False)


def audited(app, action: str) -> list[AuditEvent]:
    """The audit rows of ``action``, oldest first."""
    with app.app_context():
        return list(db.session.query(AuditEvent).filter_by(action=action).order_by(AuditEvent.id))
