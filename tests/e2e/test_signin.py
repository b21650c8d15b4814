"""Sign-in on the real server (eventlet, ``python wsgi.py``): a two-factor login, an admin who
must enrol first, a password reset by e-mail (tests/mailbox.Mailbox) and a single sign-on
login against a real OpenID Connect provider (tests/oidc_provider.py), all over HTTP."""
from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.mailbox import Mailbox
from tests.oidc_provider import Provider
from tests.security.test_sessions import Browser, PlainSocket, rest_read, socket_identity
from tests.support import LiveServer, unique

PASSWORD = "a long password here"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One server wired to a mailbox and a provider, with REQUIRE_2FA_FOR_ADMINS on."""
    with Mailbox() as mailbox, Provider() as provider:
        server = LiveServer(tmp_path_factory.mktemp("signin"), REQUIRE_2FA_FOR_ADMINS="true",
                            **mailbox.env)
        client_id, secret = provider.register(f"{server.url}/auth/oidc/callback")
        server.env.update(PUBLIC_URL=server.url, OIDC_ISSUER=provider.issuer,
                          OIDC_CLIENT_ID=client_id, OIDC_CLIENT_SECRET=secret,
                          OIDC_ADMIN_GROUP="chat-admins")
        server.start()
        yield server, mailbox, provider
        server.stop()


def cookie(browser: Browser) -> str:
    return browser.cookie("session")


def plain_identity(url: str, cookie_header: str) -> dict:
    """/ws with the cookie: the welcome, or the refusal's error."""
    sock = PlainSocket(url, cookie_header)
    try:
        return sock.identity()
    finally:
        sock.ws.close()


def enrol(browser: Browser) -> str:
    page = browser.session.get(browser.url + "/auth/2fa/setup", timeout=30).text
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    done = browser.submit("/auth/2fa/setup", code=pyotp.TOTP(secret).now())
    assert done.status_code == 200 and "recovery-codes" in done.text
    return secret


def test_a_two_factor_login_is_no_login_until_the_code(world):
    server = world[0]
    name = unique("tf")
    browser = Browser(server.url).register(name)
    secret = enrol(browser)
    browser.logout()
    half = browser.submit("/auth/login", name=name, password=PASSWORD)
    assert half.headers["Location"].endswith("/auth/2fa")
    assert socket_identity(server.url, cookie(browser)) == "auth_required"
    wrong = browser.submit("/auth/2fa", form_page="/auth/2fa", code="000000")
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert browser.submit("/auth/2fa", form_page="/auth/2fa", code=code).status_code == 302
    assert socket_identity(server.url, cookie(browser)) == (name, False)


def test_an_admin_must_enrol_before_the_session_works(world):
    server = world[0]
    name = unique("root")
    browser = Browser(server.url).register(name)
    server.flask("users", "promote", name)
    assert socket_identity(server.url, cookie(browser)) == "2fa_required"
    assert plain_identity(server.url, cookie(browser))["code"] == "2fa_required"
    assert rest_read(server.url, cookie(browser)) == 403
    page = browser.session.get(server.url + "/", allow_redirects=False, timeout=30)
    assert page.headers["Location"].endswith("/auth/2fa/setup")
    enrol(browser)
    assert socket_identity(server.url, cookie(browser)) == (name, False)
    assert plain_identity(server.url, cookie(browser))["user"] == name
    assert rest_read(server.url, cookie(browser)) == 200


def test_a_password_reset_by_e_mail(world):
    server, mailbox = world[0], world[1]
    name = unique("rs")
    address = f"{name}@example.com"
    browser = Browser(server.url).register(name)
    assert browser.submit("/auth/email", form_page="/auth/settings", email=address,
                          email_password=PASSWORD).status_code == 302
    stranger = Browser(server.url)
    assert stranger.submit("/auth/forgot", email=address).status_code == 200
    text = mailbox.wait_for(lambda m: m["To"] == address, timeout=30).get_content()
    link = re.search(re.escape(server.url) + r"(/auth/reset/\S+)", text).group(1)
    done = stranger.submit(link, new_password="the new password!", confirm_password="the new password!")
    assert done.status_code == 302
    assert socket_identity(server.url, cookie(browser)) == "auth_required"  # its session ended
    assert Browser(server.url).login(name, "the new password!")


def test_single_sign_on_through_the_provider(world):
    server, provider = world[0], world[2]
    who = unique("sso")
    provider.person.update(sub=who, preferred_username=who, email=f"{who}@example.com",
                           groups=[])
    browser = Browser(server.url)
    # requests follows every redirect: the server, the provider's authorize, the callback
    landed = browser.session.get(server.url + "/auth/oidc/login", timeout=30)
    assert landed.status_code == 200 and landed.url == server.url + "/"
    assert socket_identity(server.url, cookie(browser)) == (who, False)
    provider.forge = "wrong_key"
    try:
        refused = Browser(server.url).session.get(server.url + "/auth/oidc/login", timeout=30)
    finally:
        provider.forge = None
    assert refused.status_code == 403 and 'data-code="oidc_failed"' in refused.text
