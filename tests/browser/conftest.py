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
