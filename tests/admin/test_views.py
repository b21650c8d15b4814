"""The console's people pages over HTTP: users, tokens, bans, invitations; admins only, CSRF
checked, every change audited."""
from __future__ import annotations

import re

import pytest

from tests.admin.conftest import CSRF, PASSWORD, audited
from webapp import accounts
from webapp.extensions import db, socketio
from webapp.models import ApiToken, User

PAGES = ["/admin/", "/admin/users", "/admin/rooms", "/admin/tokens", "/admin/bans",
         "/admin/invitations", "/admin/limits", "/admin/audit"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_for_admins_only(app, console, member, path):
    assert console.get(path).status_code == 200
    assert member.get(path).status_code == 403
    assert app.test_client().get(path).status_code == 403


def make_user(app, name="bob", admin=False) -> int:
    with app.app_context():
        return accounts.create_user(name, PASSWORD, admin=admin).id


def reload(app, user_id) -> User:
    with app.app_context():
        return db.session.get(User, user_id)


def test_search_finds_accounts_by_part_of_the_name(app, console):
    make_user(app, "Bobby")
    make_user(app, "alice")
    page = console.get("/admin/users?q=obb").text
    assert 'data-user="Bobby"' in page and 'data-user="alice"' not in page


def test_deactivate_ends_the_socket_and_reactivate_lets_them_back(app, console):
    bob = make_user(app)
    with app.app_context():
        token = accounts.create_token(db.session.get(User, bob), "bot")[1]
    sock = socketio.test_client(app, auth={"token": token})
    assert sock.is_connected()
    assert console.post(f"/admin/users/{bob}/deactivate").status_code == 302
    assert reload(app, bob).banned_at is not None
    assert not sock.is_connected()  # this process's connection closed at once
    assert not socketio.test_client(app, auth={"token": token}).is_connected()
    assert [e.target for e in audited(app, "ban")] == [f"user:{bob}"]
    assert audited(app, "ban")[0].actor_name == "root"

    console.post(f"/admin/users/{bob}/reactivate")
    assert reload(app, bob).banned_at is None
    assert socketio.test_client(app, auth={"token": token}).is_connected()
    assert len(audited(app, "unban")) == 1


def test_reset_password_shows_it_once_and_ends_logins(app, console):
    bob = make_user(app)
    page = console.post(f"/admin/users/{bob}/reset-password")
    temporary = re.search(r'id="temporary-password"><code>([^<]+)</code>', page.text).group(1)
    with app.app_context():
        assert accounts.authenticate("bob", temporary) is not None
        assert accounts.authenticate("bob", PASSWORD) is None
    assert [e.target for e in audited(app, "password_reset")] == ["user:bob"]
    assert temporary not in str(audited(app, "password_reset")[0].details)


def test_promote_and_demote_and_no_demoting_oneself(app, console):
    bob = make_user(app)
    console.post(f"/admin/users/{bob}/promote")
    assert reload(app, bob).is_admin
    console.post(f"/admin/users/{bob}/demote")
    assert not reload(app, bob).is_admin
    assert [e.details["admin"] for e in audited(app, "role_changed")] == [True, False]
    with app.app_context():
        root = accounts.find_user("root").id
    page = console.post(f"/admin/users/{root}/demote")
    assert "cannot_demote_self" in console.get(page.location).text
    assert reload(app, root).is_admin


def test_admins_create_accounts_with_a_temporary_password(app, console):
    app.config["REGISTRATION"] = "closed"
    page = console.post("/admin/users", {"name": "newbie"})
    temporary = re.search(r'id="temporary-password"><code>([^<]+)</code>', page.text).group(1)
    with app.app_context():
        assert accounts.authenticate("newbie", temporary) is not None
    assert [e.target for e in audited(app, "user_created")] == ["user:newbie"]


def test_tokens_of_every_account_are_listed_and_revocable(app, console):
    bob = make_user(app)
    with app.app_context():
        token, clear = accounts.create_token(db.session.get(User, bob), "deploy bot")
    sock = socketio.test_client(app, auth={"token": clear})
    page = console.get("/admin/tokens").text
    assert f'data-token="{token.prefix}"' in page and "deploy bot" in page
    console.post(f"/admin/tokens/{token.id}/revoke")
    with app.app_context():
        assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert not sock.is_connected()
    assert audited(app, "token_revoked")[0].details == {"name": "deploy bot", "owner": "bob"}


def test_bans_are_listed_and_lifted(app, console):
    make_user(app)
    admin_sock = socketio.test_client(app, flask_test_client=console.client)
    assert admin_sock.emit("ban", {"user": "bob", "reason": "spam"}, callback=True)["ok"]
    assert 'data-banned="bob"' in console.get("/admin/bans").text
    console.post("/admin/bans/lift", {"user": "bob", "address": ""})
    assert 'data-banned="bob"' not in console.get("/admin/bans").text
    with app.app_context():
        assert accounts.find_user("bob").banned_at is None


def test_admins_create_and_revoke_invitations(app, console):
    page = console.post("/admin/invitations", {"max_uses": "5", "days": "7"})
    assert page.status_code == 200
    link = re.search(r"invite=(pi_[^<]+)</code>", page.text).group(1)
    assert re.search(r"0 / 5", page.text)
    row = audited(app, "invitation_created")[0]
    assert row.details["max_uses"] == 5 and link not in str(row.details)
    invitation_id = int(row.target.split(":")[1])
    console.post(f"/admin/invitations/{invitation_id}/revoke")
    assert ">revoked<" in console.get("/admin/invitations").text
    assert len(audited(app, "invitation_revoked")) == 1


POSTS = ["/admin/users/{bob}/deactivate", "/admin/users/{bob}/promote",
         "/admin/users/{bob}/reset-password", "/admin/users", "/admin/tokens/1/revoke",
         "/admin/bans/lift", "/admin/invitations", "/admin/rooms/1/archive",
         "/admin/rooms/1/delete", "/admin/rooms/1/owner"]


@pytest.mark.parametrize("path", POSTS)
def test_forms_without_a_csrf_token_are_refused_and_change_nothing(app, console, path):
    bob = make_user(app)
    before = audited(app, "ban") + audited(app, "role_changed")
    response = console.post(path.format(bob=bob), {"name": "x", "user": "bob"}, csrf=False)
    assert response.status_code == 400
    user = reload(app, bob)
    assert user.banned_at is None and not user.is_admin
    assert audited(app, "ban") + audited(app, "role_changed") == before


@pytest.mark.parametrize("path", POSTS)
def test_members_cannot_post_to_the_console(app, member, path):
    bob = make_user(app)
    assert member.post(path.format(bob=bob), {"name": "x", "user": "bob"}).status_code == 403
    assert reload(app, bob).banned_at is None


def test_a_temporary_password_is_good_for_one_login_until_changed(app, console):
    bob = make_user(app)
    page = console.post(f"/admin/users/{bob}/reset-password")
    temporary = re.search(r'id="temporary-password"><code>([^<]+)</code>', page.text).group(1)

    def log_in(client, password):
        token = CSRF.search(client.get("/auth/login").text).group(1)
        return client.post("/auth/login", data={"name": "bob", "password": password,
                                                "csrf_token": token})

    first = app.test_client()
    answer = log_in(first, temporary)
    assert answer.status_code == 302 and answer.location.endswith("/auth/settings")
    again = log_in(app.test_client(), temporary)
    assert again.status_code == 400 and "used already" in again.text
    assert audited(app, "login_failed")[-1].details == {"reason": "temporary_password_used"}

    token = CSRF.search(first.get("/auth/settings").text).group(1)
    changed = first.post("/auth/password", data={
        "current_password": temporary, "new_password": "bobs own password",
        "confirm_password": "bobs own password", "csrf_token": token})
    assert changed.status_code == 302
    assert [log_in(app.test_client(), "bobs own password").status_code for _ in range(2)] == [302, 302]


def test_the_limits_in_force_and_the_health_of_one_process(app, console):
    app.config["RATE_LIMIT_MESSAGE"] = "7 per minute"  # what the page shows is what is in force
    limits = console.get("/admin/limits").text
    assert 'data-setting="RATE_LIMIT_MESSAGE">7 per minute<' in limits
    assert 'data-setting="REGISTRATION">open<' in limits
    health = console.get("/admin/").text
    assert re.search(r'data-check="database">ok, [\d.]+ ms', health)
    assert 'data-check="redis">not configured' in health


def test_the_audit_page_filters_and_pages(app, console):
    from webapp import audit

    with app.app_context():
        for i in range(60):
            audit.record("kick", target=f"guest:g{i}")
    page = console.get("/admin/audit?action=kick").text
    assert page.count('data-action="kick"') == 50
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+[^"]*)"', page).group(1)
    rest = console.get(older.replace("&amp;", "&")).text
    assert rest.count('data-action="kick"') == 10 and 'data-action="login"' not in rest
    assert 'data-action="login"' in console.get("/admin/audit?actor=root").text
    assert 'data-action' not in console.get("/admin/audit?since=2999-01-01T00:00").text.split("<tbody>")[1]
