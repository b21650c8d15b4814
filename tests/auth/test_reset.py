"""Password reset by e-mail against a real SMTP server on loopback (tests/mailbox.Mailbox): the
link arrives, works once, expires; the answer never tells whether an address has an account."""
import re

import pytest
from flask_migrate import upgrade

from tests.auth.test_accounts import Auth, csrf_token
from tests.mailbox import Mailbox
from tests.support import eventually
from webapp import accounts, create_app
from webapp.extensions import socketio

PASSWORD = "correct horse battery"
NEW = "a brand new passphrase"


@pytest.fixture
def mailbox():
    with Mailbox() as box:
        yield box


@pytest.fixture
def mail_app(tmp_path, mailbox):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "ASYNC_MODE": "threading",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'reset.sqlite3'}",
        "FILE_DIR": str(tmp_path / "files"), "LOG_LEVEL": "WARNING",
        "PUBLIC_URL": "http://chat.example.test", **mailbox.config,
    })
    with app.app_context():
        upgrade()
    return app


class Person(Auth):
    def set_email(self, email, password=PASSWORD):
        return self.client.post("/auth/email", data={
            "email": email, "email_password": password, "csrf_token": csrf_token(self.client, "/auth/settings")})

    def forgot(self, email):
        return self.client.post("/auth/forgot", data={
            "email": email, "csrf_token": csrf_token(self.client, "/auth/forgot")})

    def reset(self, path, password=NEW):
        return self.client.post(path, data={
            "new_password": password, "confirm_password": password,
            "csrf_token": csrf_token(self.client, "/auth/login")})


@pytest.fixture
def alice(mail_app):
    person = Person(mail_app.test_client())
    person.register()
    assert person.set_email("Alice@Example.com").status_code == 302
    return person


def link_in(message) -> str:
    url = re.search(r"http://chat\.example\.test(/auth/reset/\S+)", message.get_content()).group(1)
    return url


def test_the_link_resets_the_password_once_and_ends_every_session(mail_app, mailbox, alice):
    other_device = Person(mail_app.test_client())
    other_device.login()
    stranger = Person(mail_app.test_client())
    answer = stranger.forgot("alice@EXAMPLE.com")  # any case
    assert answer.status_code == 200 and 'data-testid="reset-sent"' in answer.text
    path = link_in(mailbox.wait_for(lambda m: m["To"] == "alice@example.com"))
    assert stranger.client.get(path).status_code == 200
    assert stranger.reset(path).status_code == 302
    # every session of alice ended, this device's too; the new password works, the old not
    for device in (alice, other_device):
        assert device.client.get("/auth/settings").status_code == 302
        assert not socketio.test_client(mail_app, flask_test_client=device.client).is_connected()
    assert alice.login(password=PASSWORD).status_code == 400
    assert alice.login(password=NEW).status_code == 302
    # used once: the link is dead now
    again = stranger.reset(path, password="yet another passphrase")
    assert again.status_code == 400 and 'data-testid="reset-invalid"' in again.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(mail_app, mailbox, alice):
    stranger = Person(mail_app.test_client())
    unknown = stranger.forgot("nobody@example.com")
    known = stranger.forgot("alice@example.com")
    assert unknown.status_code == known.status_code == 200
    strip = lambda page: re.sub(r'value="[^"]*"', "", page)
    assert strip(unknown.text) == strip(known.text)
    mailbox.wait_for(lambda m: m["To"] == "alice@example.com")
    assert mailbox.count() == 1


def test_the_link_expires(mail_app, mailbox, alice):
    Person(mail_app.test_client()).forgot("alice@example.com")
    path = link_in(mailbox.wait_for())
    mail_app.config["PASSWORD_RESET_MINUTES"] = -1
    assert mail_app.test_client().get(path).status_code == 400


@pytest.mark.parametrize("tamper", [
    lambda path: path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"),  # signature
    lambda path: "/auth/reset/not-a-token",
])
def test_a_forged_link_is_refused(mail_app, mailbox, alice, tamper):
    Person(mail_app.test_client()).forgot("alice@example.com")
    path = tamper(link_in(mailbox.wait_for()))
    assert Person(mail_app.test_client()).reset(path).status_code == 400
    assert alice.login(password=PASSWORD).status_code == 302


def test_requests_are_rate_limited_per_address(mail_app, mailbox, alice):
    stranger = Person(mail_app.test_client())
    statuses = [stranger.forgot("alice@example.com").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # RATE_LIMIT_PASSWORD_RESET: 5 per hour
    assert eventually(lambda: mailbox.count() == 5, timeout=20)


def test_an_address_belongs_to_one_account(mail_app, alice):
    bob = Person(mail_app.test_client())
    bob.register(name="bob")
    taken = bob.set_email("ALICE@example.com")
    assert taken.status_code == 400 and "Another account uses this address" in taken.text
    assert bob.set_email("not an address").status_code == 400


def test_setting_the_address_takes_the_password(mail_app, alice):
    # a stolen session alone cannot point resets at the thief's mailbox
    wrong = alice.set_email("thief@example.com", password="not the password")
    assert wrong.status_code == 400 and "The password is wrong" in wrong.text
    with mail_app.app_context():
        assert accounts.find_user("alice").email == "alice@example.com"  # stored lower-cased


def test_without_smtp_there_is_no_reset(app, client):
    assert client.get("/auth/forgot").status_code == 404
    assert "Forgot your password" not in client.get("/auth/login").text
    with app.app_context():
        accounts.create_user("carol", PASSWORD)
    assert client.get("/auth/reset/whatever").status_code == 404
