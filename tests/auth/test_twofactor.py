"""Two-factor authentication through the real pages (CSRF on): enrol, the login's second step,
one-time codes, recovery codes, turning it off, and REQUIRE_2FA_FOR_ADMINS."""
import re
import time

import pyotp
import pytest

from tests.auth.test_accounts import Auth, csrf_token
from webapp import accounts, create_app
from webapp.auth import steps
from webapp.extensions import socketio
from webapp.models import RecoveryCode

PASSWORD = "correct horse battery"


def code_at(secret: str, offset: int = 0) -> str:
    """The code of the step ``offset`` steps from now (the server takes one step either side)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * offset)


class TwoFactor(Auth):
    def enrol(self) -> tuple[str, list[str]]:
        page = self.client.get("/auth/2fa/setup")
        secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.text).group(1)
        assert "<svg" in page.text and f"secret={secret}" in page.text  # QR code + otpauth URI
        done = self.client.post("/auth/2fa/setup", data={
            "code": code_at(secret), "csrf_token": csrf_token(self.client, "/auth/2fa/setup")})
        assert done.status_code == 200, done.text
        return secret, re.findall(r"<code>([a-z2-7]{5}-[a-z2-7]{5})</code>", done.text)

    def second_step(self, code: str):
        return self.client.post("/auth/2fa", data={
            "code": code, "csrf_token": csrf_token(self.client, "/auth/login")})

    def logged_in(self) -> bool:
        return self.client.get("/auth/settings").status_code == 200


@pytest.fixture
def tf(client):
    helper = TwoFactor(client)
    helper.register()
    return helper


def test_enrol_shows_ten_recovery_codes_once_and_stores_them_hashed(app, tf):
    _, codes = tf.enrol()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "On: logging in asks for a code" in tf.client.get("/auth/settings").text
    with app.app_context():
        stored = [row.code_hash for row in RecoveryCode.query.all()]
    assert len(stored) == 10 and not set(codes) & set(stored)
    # enrolled: the setup page does not show the secret again
    assert tf.client.get("/auth/2fa/setup").status_code == 302


def test_a_wrong_code_does_not_turn_it_on(tf):
    tf.client.get("/auth/2fa/setup")
    page = tf.client.post("/auth/2fa/setup", data={
        "code": "000000", "csrf_token": csrf_token(tf.client, "/auth/2fa/setup")})
    assert page.status_code == 400
    assert "Off." in tf.client.get("/auth/settings").text


def test_the_password_alone_is_no_login_until_the_code(app, client, tf):
    secret, _ = tf.enrol()
    tf.logout()
    answer = tf.login()
    assert answer.status_code == 302 and answer.location.endswith("/auth/2fa")
    # half logged in: no page, no socket
    assert not tf.logged_in()
    assert not socketio.test_client(app, flask_test_client=client).is_connected()
    assert tf.second_step("123456").status_code == 400
    answer = tf.second_step(code_at(secret, 1))
    assert answer.status_code == 302 and tf.logged_in()
    assert socketio.test_client(app, flask_test_client=client).is_connected()


def test_a_code_works_once(tf):
    secret, _ = tf.enrol()
    tf.logout()
    tf.login()
    code = code_at(secret, 1)
    assert tf.second_step(code).status_code == 302
    tf.logout()
    tf.login()
    replayed = tf.second_step(code)
    assert replayed.status_code == 400 and "used already" in replayed.text
    assert not tf.logged_in()


def test_a_recovery_code_works_once(tf):
    _, codes = tf.enrol()
    tf.logout()
    tf.login()
    assert tf.second_step(codes[3].upper()).status_code == 302  # case and dash do not matter
    assert "9 recovery codes left" in tf.client.get("/auth/settings").text
    tf.logout()
    tf.login()
    assert tf.second_step(codes[3]).status_code == 400
    assert tf.second_step(codes[4]).status_code == 302


def test_the_half_login_expires(tf, monkeypatch):
    secret, _ = tf.enrol()
    tf.logout()
    tf.login()
    monkeypatch.setattr(steps, "PENDING_SECONDS", -1)
    answer = tf.second_step(code_at(secret, 1))
    assert answer.status_code == 302 and answer.location.endswith("/auth/login")
    assert not tf.logged_in()


def test_codes_are_limited_like_passwords(tf):
    secret, _ = tf.enrol()
    tf.logout()
    tf.login()  # the enrolment's code and the password counted already: 8 of 10 left
    statuses = [tf.second_step("000000").status_code for _ in range(9)]
    assert statuses == [400] * 8 + [429]
    assert tf.second_step(code_at(secret, 1)).status_code == 429


@pytest.mark.parametrize("how", ["code", "password"])
def test_turning_it_off_takes_a_code_or_the_password(tf, how):
    secret, _ = tf.enrol()
    form = {"csrf_token": csrf_token(tf.client, "/auth/settings")}
    assert tf.client.post("/auth/2fa/disable", data={**form, "secret": "wrong"}).status_code == 400
    assert "On:" in tf.client.get("/auth/settings").text
    secret_or_password = code_at(secret, 1) if how == "code" else PASSWORD
    answer = tf.client.post("/auth/2fa/disable", data={**form, "secret": secret_or_password})
    assert answer.status_code == 302
    tf.logout()
    assert tf.login().location.endswith("/")  # straight in: no second step


@pytest.fixture
def strict_app(tmp_path):
    from flask_migrate import upgrade

    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "ASYNC_MODE": "threading",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'strict.sqlite3'}",
        "FILE_DIR": str(tmp_path / "files"), "LOG_LEVEL": "WARNING",
        "REQUIRE_2FA_FOR_ADMINS": True,
    })
    with app.app_context():
        upgrade()
        accounts.create_user("root", PASSWORD, admin=True)
        accounts.create_user("carol", PASSWORD)
    return app


def test_an_admin_without_two_factor_must_enrol_first(strict_app):
    client = strict_app.test_client()
    admin = TwoFactor(client)
    assert admin.login(name="root").status_code == 302
    for page in ("/", "/auth/settings"):
        answer = client.get(page)
        assert answer.status_code == 302 and answer.location.endswith("/auth/2fa/setup")
    sock = socketio.test_client(strict_app, flask_test_client=client)
    assert not sock.is_connected()
    rest = client.get("/api/rooms/general/messages")
    assert rest.status_code == 403 and rest.json["error"]["code"] == "2fa_required"
    with strict_app.app_context():  # a bot's token of that admin is unaffected
        _, token = accounts.create_token(accounts.find_user("root"), "bot")
    assert client.get("/api/rooms/general/messages", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    admin.enrol()
    assert client.get("/").status_code == 200
    assert socketio.test_client(strict_app, flask_test_client=client).is_connected()


def test_the_admin_rule_leaves_other_users_alone(strict_app):
    client = strict_app.test_client()
    TwoFactor(client).login(name="carol")
    assert client.get("/").status_code == 200
    assert socketio.test_client(strict_app, flask_test_client=client).is_connected()


def test_an_admin_turns_it_off_from_the_shell_for_a_lost_phone(app, tf):
    tf.enrol()
    result = app.test_cli_runner().invoke(args=["users", "reset-2fa", "alice"])
    assert result.exit_code == 0, result.output
    assert not tf.logged_in()  # their logins ended
    assert tf.login().location.endswith("/")  # and the password alone logs in again
    assert app.test_cli_runner().invoke(args=["users", "reset-2fa", "nobody"]).exit_code != 0


@pytest.mark.parametrize("remember", [True, False])
def test_keep_me_logged_in_chosen_with_the_password_holds_after_the_code(tf, remember):
    secret, _ = tf.enrol()
    tf.logout()
    tf.client.post("/auth/login", data={
        "name": "alice", "password": PASSWORD, **({"remember": "y"} if remember else {}),
        "csrf_token": csrf_token(tf.client, "/auth/login")})
    done = tf.second_step(code_at(secret, 1))
    cookies = " ".join(done.headers.getlist("Set-Cookie"))
    assert ("remember_token=" in cookies) is remember
