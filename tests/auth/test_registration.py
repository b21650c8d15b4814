"""REGISTRATION=open|invite|closed and invitation links: through the real pages, CSRF on."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.auth.test_accounts import csrf_token
from webapp import accounts, invitations
from webapp.extensions import db
from webapp.models import AuditEvent, Invitation, utcnow

PASSWORD = "correct horse battery"


def register(client, name, invite=None):
    path = "/auth/register" + (f"?invite={invite}" if invite else "")
    token = csrf_token(client, "/auth/login")
    return client.post(path, data={"name": name, "password": PASSWORD, "confirm": PASSWORD,
                                   "csrf_token": token})


def exists(app, name) -> bool:
    with app.app_context():
        return accounts.find_user(name) is not None


def make_invitation(app, *, max_uses=1, hours=24.0) -> str:
    with app.app_context():
        admin = accounts.find_user("root") or accounts.create_user("root", PASSWORD, admin=True)
        return invitations.create(admin, max_uses=max_uses, hours=hours)[1]


def test_open_registration_is_the_default(app, client):
    assert app.config["REGISTRATION"] == "open"
    assert register(client, "alice").status_code == 302
    assert exists(app, "alice")


def test_closed_registration_refuses_the_page_and_the_form(app, client):
    app.config["REGISTRATION"] = "closed"
    page = client.get("/auth/register")
    assert page.status_code == 403 and 'data-code="registration_closed"' in page.text
    assert register(client, "alice").status_code == 403
    assert not exists(app, "alice")


def test_invite_mode_needs_a_link(app, client):
    app.config["REGISTRATION"] = "invite"
    assert 'data-code="invitation_required"' in client.get("/auth/register").text
    assert register(client, "alice").status_code == 403
    assert register(client, "alice", invite="pi_not-a-real-one").status_code == 403
    assert not exists(app, "alice")


def test_a_single_use_link_registers_one_person_and_is_audited(app, client):
    app.config["REGISTRATION"] = "invite"
    link = make_invitation(app)
    assert client.get(f"/auth/register?invite={link}").status_code == 200
    assert register(client, "alice", invite=link).status_code == 302
    assert exists(app, "alice")
    second = app.test_client()
    refused = register(second, "bob", invite=link)
    assert refused.status_code == 403 and 'data-code="invitation_used_up"' in refused.text
    assert not exists(app, "bob")
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert actions[-2:] == ["register", "invitation_used"]


def test_a_multi_use_link_counts_its_uses(app):
    app.config["REGISTRATION"] = "invite"
    link = make_invitation(app, max_uses=2)
    assert [register(app.test_client(), n, invite=link).status_code
            for n in ("ann", "ben", "cat")] == [302, 302, 403]
    assert [exists(app, n) for n in ("ann", "ben", "cat")] == [True, True, False]


def test_an_unlimited_link_keeps_working(app):
    app.config["REGISTRATION"] = "invite"
    link = make_invitation(app, max_uses=None, hours=None)
    assert all(register(app.test_client(), f"user{i}", invite=link).status_code == 302
               for i in range(4))


def test_a_failed_registration_gives_its_use_back(app, client):
    app.config["REGISTRATION"] = "invite"
    link = make_invitation(app)
    with app.app_context():
        accounts.create_user("taken", PASSWORD)
    assert register(client, "taken", invite=link).status_code == 400  # the name is taken
    assert register(client, "fresh", invite=link).status_code == 302


@pytest.mark.parametrize("spoil, code", [
    (lambda inv: setattr(inv, "expires_at", utcnow() - timedelta(seconds=1)), "invitation_expired"),
    (lambda inv: setattr(inv, "revoked_at", utcnow()), "invitation_revoked"),
    (lambda inv: setattr(inv, "uses", 1), "invitation_used_up"),
])
def test_expired_revoked_and_used_up_links_are_refused(app, client, spoil, code):
    app.config["REGISTRATION"] = "invite"
    link = make_invitation(app)
    with app.app_context():
        spoil(db.session.query(Invitation).one())
        db.session.commit()
    page = client.get(f"/auth/register?invite={link}")
    assert page.status_code == 403 and f'data-code="{code}"' in page.text
    assert register(client, "alice", invite=link).status_code == 403
    assert not exists(app, "alice")


def login(client, name):
    return client.post("/auth/login", data={"name": name, "password": PASSWORD,
                                            "csrf_token": csrf_token(client, "/auth/login")})


def test_members_create_and_revoke_links_on_the_settings_page_when_allowed(app, client):
    with app.app_context():
        accounts.create_user("alice", PASSWORD)
    login(client, "alice")
    assert "Invitations" not in client.get("/auth/settings").text
    token = csrf_token(client, "/auth/settings")
    assert client.post("/auth/invitations", data={"csrf_token": token, "days": "1"}).status_code == 403

    app.config.update(INVITES_BY_MEMBERS=True, REGISTRATION="invite")
    page = client.post("/auth/invitations", data={"csrf_token": csrf_token(client, "/auth/settings"),
                                                  "max_uses": "3", "days": "1"})
    assert page.status_code == 200
    link = re.search(r"<code>(http://[^<]+invite=(pi_[^<]+))</code>", page.text)
    assert link is not None
    with app.app_context():
        row = db.session.query(Invitation).one()
        assert row.max_uses == 3 and link.group(2) not in row.token_hash
    client.post(f"/auth/invitations/{row.id}/revoke",
                data={"csrf_token": csrf_token(client, "/auth/settings")})
    assert register(app.test_client(), "bob", invite=link.group(2)).status_code == 403


def test_invitation_forms_without_csrf_are_refused(app, client):
    app.config["INVITES_BY_MEMBERS"] = True
    with app.app_context():
        accounts.create_user("alice", PASSWORD)
    login(client, "alice")
    assert client.post("/auth/invitations", data={"days": "1"}).status_code == 400
    with app.app_context():
        assert db.session.query(Invitation).count() == 0
