"""Register, log in, log out, tokens: through the real pages with CSRF on, and the CLI."""
import re

import pytest

from webapp import accounts
from webapp.extensions import socketio


def csrf_token(client, path):
    page = client.get(path)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)


class Auth:
    """flaskr-style helper: act on the account pages like a person."""

    def __init__(self, client):
        self.client = client

    def register(self, name="alice", password="correct horse battery"):
        return self.client.post("/auth/register", data={
            "name": name, "password": password, "confirm": password,
            "csrf_token": csrf_token(self.client, "/auth/register"),
        })

    def login(self, name="alice", password="correct horse battery"):
        return self.client.post("/auth/login", data={
            "name": name, "password": password, "csrf_token": csrf_token(self.client, "/auth/login"),
        })

    def logout(self):
        return self.client.post("/auth/logout", data={"csrf_token": csrf_token(self.client, "/auth/settings")})


@pytest.fixture
def auth(client):
    return Auth(client)


def test_register_logs_in_and_the_socket_uses_the_session(app, client, auth):
    assert auth.register().status_code == 302
    sock = socketio.test_client(app, flask_test_client=client)  # no auth payload at all
    assert sock.is_connected()
    ack = sock.emit("join", {"room": "general"}, callback=True)
    assert ack["members"] == ["alice"]
    msg = sock.emit("message", {"room": "general", "text": "hi"}, callback=True)["message"]
    assert msg["author"] == "alice" and msg["guest"] is False


def test_passwords_are_stored_hashed_with_a_current_kdf(app, auth):
    auth.register()
    with app.app_context():
        stored = accounts.find_user("alice").password_hash
    assert "correct horse" not in stored and stored.startswith("scrypt:")


def test_forms_without_a_csrf_token_are_refused(client):
    response = client.post("/auth/register", data={"name": "x", "password": "p" * 12, "confirm": "p" * 12})
    assert response.status_code == 400
    with client.application.app_context():
        assert accounts.find_user("x") is None


def test_wrong_password_is_refused_and_login_is_throttled(auth):
    auth.register()
    auth.logout()
    statuses = [auth.login(password="wrong password!").status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    # even the right password waits out the window
    assert auth.login().status_code == 429


def test_logout_ends_the_socket_identity(app, client, auth):
    auth.register()
    auth.logout()
    assert not socketio.test_client(app, flask_test_client=client).is_connected()


def test_tokens_are_shown_once_stored_hashed_and_revocable(app, client, auth):
    auth.register()
    page = client.post("/auth/settings", data={"name": "my bot", "csrf_token": csrf_token(client, "/auth/settings")})
    clear = re.search(r"<code>(pt_[^<]+)</code>", page.text).group(1)
    assert clear not in client.get("/auth/settings").text  # shown once
    with app.app_context():
        token = accounts.list_tokens(accounts.find_user("alice"))[0]
        assert token.token_hash != clear and clear not in token.token_hash
    bot = socketio.test_client(app, auth={"token": clear})
    assert bot.is_connected()
    client.post(f"/auth/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/auth/settings")})
    assert not bot.is_connected()  # revoking closes its live connections
    assert not socketio.test_client(app, auth={"token": clear}).is_connected()


def test_settings_need_a_login(client):
    assert client.get("/auth/settings").status_code == 302


def test_cli_creates_users_admins_and_tokens(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "root", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["users", "promote", "root"]).exit_code == 0
    token = runner.invoke(args=["tokens", "create", "root", "deploy bot"]).output.strip()
    assert token.startswith("pt_")
    with app.app_context():
        assert accounts.find_user("root").is_admin
    assert socketio.test_client(app, auth={"token": token}).is_connected()
    assert runner.invoke(args=["tokens", "create", "nobody", "x"]).exit_code != 0


def test_cli_deactivation_ends_the_login_and_closes_connections(app, client, auth):
    auth.register()
    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "deactivate", "alice"])
    assert result.exit_code == 0, result.output
    assert not sock.is_connected()  # no Redis here: the order is carried out in this process
    assert client.get("/auth/settings").status_code == 302
    assert not socketio.test_client(app, flask_test_client=client).is_connected()
    assert runner.invoke(args=["users", "deactivate", "nobody"]).exit_code != 0


def test_a_login_stands_only_with_the_current_secret_and_within_its_lifetime(app):
    with app.app_context():
        user = accounts.create_user("ada", "a long password here")
        login_id = accounts.begin_login(user).login_id
        user_id, secret, issued, nonce = login_id.split(":")
        year = 365 * 24 * 3600
        assert accounts.resume_login(login_id, year) is user
        assert accounts.begin_login(user).login_id != login_id  # every login is its own
        for stale in (
            f"{user_id}:{secret}:{int(issued) - year - 60}:{nonce}",  # older than its lifetime
            f"{user_id}:{secret[:-1]}x:{issued}:{nonce}",  # another secret
            user_id,  # a session from before session secrets
            f"{user_id}:{secret}:{issued}",
            f"{user_id}:{secret}:{issued}:{nonce}:extra",
            f"²:{secret}:{issued}:{nonce}",
        ):
            assert accounts.resume_login(stale, year) is None, stale
        accounts.end_sessions(user)
        assert accounts.resume_login(login_id, year) is None
