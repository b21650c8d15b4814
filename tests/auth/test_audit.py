"""The account pages and the shell leave audit rows: logins and failures (the name tried and the
address), logout, registration, password changes, tokens made and revoked, promotions."""
from __future__ import annotations

from tests.auth.test_accounts import Auth, csrf_token
from webapp.extensions import db
from webapp.models import AuditEvent

PASSWORD = "correct horse battery"


def trail(app) -> list[tuple]:
    with app.app_context():
        return [(e.action, e.actor_name, e.target, e.address)
                for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]


def test_the_account_pages_are_audited(app, client):
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    auth = Auth(client)
    auth.register()
    auth.logout()
    auth.login(password="wrong password!")
    auth.login(name="nobody")
    auth.login()
    client.post("/auth/settings", data={"name": "bot", "csrf_token": csrf_token(client, "/auth/settings")})
    with app.app_context():
        token_id = db.session.query(AuditEvent).filter_by(action="token_created").one().target
    client.post(f"/auth/tokens/{token_id.split(':')[1]}/revoke",
                data={"csrf_token": csrf_token(client, "/auth/settings")})
    client.post("/auth/password", data={
        "current_password": PASSWORD, "new_password": "another long password",
        "confirm_password": "another long password",
        "csrf_token": csrf_token(client, "/auth/settings")})
    here = "198.51.100.7"
    assert trail(app) == [
        ("register", "alice", "user:alice", here),
        ("logout", "alice", "user:alice", here),
        ("login_failed", None, "user:alice", here),
        ("login_failed", None, "user:nobody", here),
        ("login", "alice", "user:alice", here),
        ("token_created", "alice", token_id, here),
        ("token_revoked", "alice", token_id, here),
        ("password_changed", "alice", "user:alice", here),
    ]


def test_the_shell_commands_are_audited(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["users", "create", "bob", "--password", PASSWORD])
    runner.invoke(args=["users", "promote", "bob"])
    runner.invoke(args=["tokens", "create", "bob", "deploy"])
    runner.invoke(args=["users", "deactivate", "bob"])
    assert [(a, t) for a, _, t, _ in trail(app)] == [
        ("user_created", "user:bob"), ("role_changed", "user:bob"),
        ("token_created", "token:1"), ("ban", "user:1")]
    with app.app_context():
        assert {e.details["by"] for e in db.session.query(AuditEvent)} == {"flask command"}
