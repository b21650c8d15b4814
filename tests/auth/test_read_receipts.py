"""The settings page's read receipts checkbox (issue 18): the same setting as ``read_receipts``."""
from sqlalchemy import select

from tests.auth.test_accounts import Auth, csrf_token
from webapp.extensions import db
from webapp.models import User


def receipts_of(app, name):
    with app.app_context():
        return db.session.scalar(select(User.send_receipts).where(User.name == name))


def test_the_checkbox_turns_receipts_off_and_on(app, client):
    auth = Auth(client)
    auth.register()
    page = client.get("/auth/settings").text
    assert 'id="send_receipts"' in page and "checked" in page.split('id="send_receipts"')[0][-200:] + \
        page.split('id="send_receipts"')[1][:40]
    token = csrf_token(client, "/auth/settings")
    off = client.post("/auth/read-receipts", data={"csrf_token": token}, follow_redirects=True)
    assert "Read receipts are off." in off.text and receipts_of(app, "alice") is False
    client.post("/auth/read-receipts", data={"csrf_token": token, "send_receipts": "y"})
    assert receipts_of(app, "alice") is True


def test_the_form_needs_a_login_and_its_token(app, client):
    assert client.post("/auth/read-receipts", data={}).status_code in (302, 400)
    Auth(client).register()
    client.post("/auth/read-receipts", data={})  # no CSRF token: nothing changes
    assert receipts_of(app, "alice") is True
