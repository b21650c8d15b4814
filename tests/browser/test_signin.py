"""Sign-in in Chromium: enrol in two-factor from the settings page and log in with a code
(computed here by pyotp); a password reset from the login page's link; single sign-on through
a real OpenID Connect provider (tests/oidc_provider.py), and its refusal page."""
from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.browser.pages import expect
from tests.mailbox import Mailbox
from tests.oidc_provider import Provider
from tests.support import LiveServer, unique

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def signin_server(tmp_path_factory):
    """A server of its own with e-mail and single sign-on configured."""
    with Mailbox() as mailbox, Provider() as provider:
        server = LiveServer(tmp_path_factory.mktemp("browser-signin"), **mailbox.env)
        client_id, secret = provider.register(f"{server.url}/auth/oidc/callback")
        server.env.update(PUBLIC_URL=server.url, OIDC_ISSUER=provider.issuer,
                          OIDC_CLIENT_ID=client_id, OIDC_CLIENT_SECRET=secret,
                          OIDC_LABEL="Example SSO")
        server.start()
        server.mailbox, server.provider = mailbox, provider
        yield server
        server.stop()


def register(page, url: str, name: str) -> None:
    page.goto(url + "/auth/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


def test_enrol_then_log_in_with_a_code(open_chat, signin_server):
    url, name = signin_server.url, unique("tf")
    chat = open_chat(login=False, server=signin_server)
    page = chat.page
    register(page, url, name)
    chat.expect_state("connected")
    page.goto(url + "/auth/settings")
    expect(page.get_by_test_id("2fa-status")).to_contain_text("Off.")
    page.get_by_role("link", name="Turn on two-factor").click()
    expect(page.locator(".qr svg")).to_be_visible()
    chat.screenshot("two-factor-setup", full_page=True)
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    chat.screenshot("two-factor-recovery-codes", full_page=True)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_test_id("2fa-status")).to_contain_text("10 recovery codes left")

    page.get_by_role("button", name="Log out").first.click()
    page.goto(url + "/auth/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/auth/2fa$"))
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".form-error")).to_contain_text("wrong")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    chat.expect_state("connected")
    expect(page.locator("#me-name")).to_have_text(name)


def test_forgot_password_from_the_login_page(open_chat, signin_server):
    url, name = signin_server.url, unique("rs")
    chat = open_chat(login=False, server=signin_server)
    page = chat.page
    register(page, url, name)
    chat.expect_state("connected")
    page.goto(url + "/auth/settings")
    page.get_by_label("E-mail address").fill(f"{name}@example.com")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Save address").click()
    expect(page.locator(".flash")).to_contain_text("saved")

    other = open_chat(login=False, server=signin_server).page
    other.goto(url + "/auth/login")
    other.get_by_role("link", name="Forgot your password?").click()
    other.get_by_label("E-mail address").fill(f"{name}@example.com")
    other.get_by_role("button", name="Send the link").click()
    expect(other.get_by_test_id("reset-sent")).to_be_visible()
    mail = signin_server.mailbox.wait_for(lambda m: m["To"] == f"{name}@example.com", timeout=30)
    link = re.search(r"http://\S+/auth/reset/\S+", mail.get_content()).group(0)
    other.goto(link)
    other.get_by_label("New password", exact=True).fill("a brand new passphrase")
    other.get_by_label("Repeat new password").fill("a brand new passphrase")
    other.get_by_role("button", name="Save the new password").click()
    expect(other.locator(".flash")).to_contain_text("Password changed")
    other.goto(link)
    expect(other.get_by_test_id("reset-invalid")).to_be_visible()  # once only


def test_single_sign_on_and_its_refusal(open_chat, signin_server):
    provider, who = signin_server.provider, unique("sso")
    provider.person.update(sub=who, preferred_username=who, email=f"{who}@example.com")
    chat = open_chat(login=False, server=signin_server)
    page = chat.page
    # offered on the chat page's nickname screen and on the login page
    expect(page.locator("#login").get_by_test_id("oidc-login")).to_have_text(
        "Log in with Example SSO")
    page.goto(signin_server.url + "/auth/login")
    chat.screenshot("login-with-sso-and-reset", full_page=True)
    page.get_by_test_id("oidc-login").click()
    chat.expect_state("connected")
    expect(page.locator("#me-name")).to_have_text(who)
    page.goto(signin_server.url + "/auth/settings")
    expect(page.get_by_test_id("oidc-linked")).to_contain_text(f"{who}@example.com")

    provider.forge = "expired"
    try:
        other = open_chat(login=False, server=signin_server).page
        other.goto(signin_server.url + "/auth/login")
        expect(other.get_by_role("link", name="Log in with Example SSO")).to_be_visible()
        other.get_by_test_id("oidc-login").click()
        expect(other.get_by_test_id("oidc-refused")).to_be_visible()
    finally:
        provider.forge = None
