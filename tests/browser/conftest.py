"""Browser fixtures: one headless Chromium per session, a fresh context for every person in a test."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium"))
# Quiet, deterministic Chromium: no sandbox (containers run as root), no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _require(ok: bool, reason: str) -> None:
    """Skip on a laptop without a browser; in CI a missing browser is a failure, never a skip."""
    if ok:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    _require(CHROMIUM.exists(), f"no Chromium at {CHROMIUM}; apt-get install chromium")
    from playwright.sync_api import sync_playwright

    from tests.browser.pages import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def open_chat(browser, live_server):
    """Open the chat page as someone new: ``open_chat("alice-1234", query="?transport=polling")``.

    Each call gets its own browser context (own localStorage), so two calls are two people.
    ``phone=True`` opens a phone-sized touch screen; ``init_script`` runs in every document before
    the page's own scripts (stubs); ``setup(page)`` runs before the first navigation (routes, clock);
    ``timezone`` sets the browser's time zone (an IANA name).
    JavaScript errors and Content-Security-Policy violations (the server sends a strict CSP,
    webapp/security.py) on any page fail the test.
    """
    from tests.browser.pages import ChatPage

    contexts, errors = [], []

    def _open(
        name: str | None = None, query: str = "", server=None, login: bool = True,
        phone: bool = False, init_script: str | None = None, setup=None, timezone: str | None = None,
    ) -> ChatPage:
        # Reduced motion: drawers appear at once, so screenshots never catch a transition.
        screen = {"viewport": PHONE, "has_touch": True, "is_mobile": True} if phone else {"viewport": DESKTOP}
        if timezone:
            screen["timezone_id"] = timezone
        context = browser.new_context(**screen, reduced_motion="reduce")
        context.set_default_timeout(10_000)
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        if setup:
            setup(page)
        page.on("pageerror", lambda exc: errors.append(f"{name}: {exc}"))
        page.on("console", lambda msg: _csp_violation(msg, name, errors))
        chat = ChatPage(page, name, (server or live_server).url + "/" + query)
        chat.open()
        if login:
            chat.login()
        return chat

    yield _open
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors or CSP violations: {errors}"


def _csp_violation(message, name, errors) -> None:
    if "Content Security Policy" in message.text:
        errors.append(f"{name}: {message.text}")


# Accounts made in one process (a `flask users create` each would cost a second apiece), each
# with a login already begun the way the login form begins one (webapp/auth/views.py), so a page
# starts logged in without the form -- whose per-address limit (RATE_LIMIT_LOGIN, 10 a minute)
# the tests of one run would soon reach from 127.0.0.1.
# argv is JSON [[name, admin, token?], ...]; prints {name: [token or null, cookie name, value]}.
_MAKE_ACCOUNTS = """
import json, sys
from flask import session
from flask_login import login_user
from webapp import accounts, create_app
app = create_app()
out = {}
with app.app_context():
    for name, admin, token in json.loads(sys.argv[1]):
        user = accounts.create_user(name, PASSWORD, admin=admin)
        clear = accounts.create_token(user, "browser-tests")[1] if token else None
        with app.test_request_context("/"):
            login_user(accounts.begin_login(user))
            response = app.response_class()
            app.session_interface.save_session(app, session._get_current_object(), response)
            cookie = response.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)
        out[name] = [clear, *cookie]
print(json.dumps(out))
"""
ACCOUNT_PASSWORD = "correct horse battery staple"


class Accounts:
    """Registered users on a live server: ``accounts.make("alice", "bob", admin=False)`` answers
    their (unique) names; ``tokens[name]`` is an API token when made with ``tokens=True``."""

    def __init__(self, server) -> None:
        self.server = server
        self.tokens: dict[str, str | None] = {}
        self.cookies: dict[str, tuple[str, str]] = {}

    def make(self, *prefixes: str, admin: bool = False, tokens: bool = False) -> list[str]:
        import json
        import subprocess
        import sys

        from tests.support import ROOT, unique

        names = [unique(prefix) for prefix in prefixes]
        script = _MAKE_ACCOUNTS.replace("PASSWORD", repr(ACCOUNT_PASSWORD))
        result = subprocess.run(
            [sys.executable, "-c", script, json.dumps([[n, admin, tokens] for n in names])],
            cwd=ROOT, env=self.server.env, check=True, capture_output=True, text=True, timeout=60,
        )
        for name, (token, cookie, value) in json.loads(result.stdout.strip().splitlines()[-1]).items():
            self.tokens[name] = token
            self.cookies[name] = (cookie, value)
        return names


@pytest.fixture
def accounts(live_server):
    return Accounts(live_server)


@pytest.fixture
def open_account(open_chat, live_server, accounts):
    """Open the chat page logged in as an account made by ``accounts``: ``open_account(name)``
    (its session cookie is in the browser before the page loads)."""

    def _open(name: str, server=None, setup=None, **options):
        base = (server or live_server).url
        cookie, value = accounts.cookies[name]

        def log_in(page):
            page.context.add_cookies([{"name": cookie, "value": value, "url": base}])
            if setup:
                setup(page)

        chat = open_chat(name, login=False, server=server, setup=log_in, **options)
        chat.expect_state("connected")
        expect_logged_in(chat, name)
        return chat

    return _open


def expect_logged_in(chat, name: str) -> None:
    from tests.browser.pages import expect

    expect(chat.page.locator("#me-name")).to_have_text(name)
    expect(chat.page.locator("#room-title")).not_to_have_text("No room")
