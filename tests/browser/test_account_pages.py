"""The account pages (log in, register, settings) in the chat page's design, dark mode and phone
layout included; password rules shown up front; the token section's Copy button, local dates
and empty form."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import PHONE
from tests.browser.pages import expect
from tests.support import unique

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
# UTC+12:45 (+13:45 in summer): a local time here never shows the minutes of the UTC one.
ZONE = "Pacific/Chatham"
LOOK = """() => {
  const body = getComputedStyle(document.body);
  const card = document.querySelector(".login-card");
  return { background: body.backgroundColor, font: body.fontFamily, color: body.color,
           card: card ? getComputedStyle(card).backgroundColor : null };
}"""


def test_login_and_register_look_like_the_chat_page(open_chat, live_server):
    page = open_chat(login=False)
    chat_light = page.page.evaluate(LOOK)
    page.page.emulate_media(color_scheme="dark")
    chat_dark = page.page.evaluate(LOOK)
    page.page.emulate_media(color_scheme="light")

    page.page.goto(live_server.url + "/auth/register")
    expect(page.page.locator(".login-card .logo")).to_be_visible()
    assert page.page.evaluate(LOOK) == chat_light
    # The rules of a password are there before anything is typed, and ticked off while typing.
    rules = page.page.locator("#password-rules li")
    expect(rules).to_have_text([re.compile(r"^At least 10 characters"), re.compile(r"^The same again")])
    expect(page.page.get_by_label("Password", exact=True)).to_have_attribute("aria-describedby", "password-rules")
    expect(rules.first).to_have_attribute("data-met", "")
    page.page.get_by_label("Password", exact=True).fill("too short")
    expect(rules.first).to_have_attribute("data-met", "false")
    expect(rules.last).to_have_attribute("data-met", "")  # nothing typed in "Repeat password" yet
    page.page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.page.get_by_label("Repeat password").fill(PASSWORD)
    expect(rules.first).to_have_attribute("data-met", "true")
    expect(rules.last).to_have_attribute("data-met", "true")
    expect(page.page.locator("#name-hint")).to_contain_text("letters, digits")
    page.screenshot("register", full_page=True)

    page.page.emulate_media(color_scheme="dark")
    assert page.page.evaluate(LOOK) == chat_dark
    assert chat_dark["background"] != chat_light["background"]
    page.screenshot("register-dark", full_page=True)

    phone = open_chat(login=False, phone=True)
    phone.page.goto(live_server.url + "/auth/login")
    expect(phone.page.get_by_role("button", name="Log in")).to_be_in_viewport()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot("login-phone", full_page=True)


def test_settings_tokens_and_password(open_chat, live_server):
    page = open_chat(login=False, timezone=ZONE)
    page.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    name = unique("owner")
    page.page.goto(live_server.url + "/auth/register")
    page.page.get_by_label("Name").fill(name)
    page.page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.page.get_by_label("Repeat password").fill(PASSWORD)
    page.page.get_by_role("button", name="Create account").click()
    page.expect_state("connected")
    page.page.get_by_role("link", name="Settings").click()

    # The password form of the settings page: the same fields and rules as registering.
    password = page.page.locator(".settings-section").filter(has=page.page.get_by_role("heading", name="Password"))
    expect(password.get_by_label("Current password")).to_be_visible()
    expect(password.locator("#new_password-rules li").first).to_contain_text("At least 10 characters")
    expect(password.get_by_role("button", name="Change password")).to_be_visible()

    page.page.get_by_label("Token name").fill("deploy bot")
    page.page.get_by_role("button", name="Create token").click()
    token = page.page.locator("[data-testid=new-token] code")
    expect(token).to_have_text(re.compile(r"^pt_"))
    # The form is empty again, ready for the next token.
    expect(page.page.get_by_label("Token name")).to_have_value("")
    copy = page.page.locator("button[data-copy]")
    expect(copy).to_have_text("Copy")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.page.evaluate("navigator.clipboard.readText()") == token.text_content()

    # Dates in the browser's time zone, not the server's ISO text.
    created = page.page.locator(".tokens time").first
    iso = created.get_attribute("datetime")
    local = datetime.fromisoformat(iso).astimezone(ZoneInfo(ZONE))
    expect(created).not_to_have_text(iso)
    expect(created).to_contain_text(f":{local.minute:02d}")
    expect(created).to_contain_text(str(local.year))
    expect(page.page.locator(".tokens tbody tr").filter(has_text="deploy bot")).to_contain_text("never")
    page.screenshot("settings", full_page=True)
    page.page.emulate_media(color_scheme="dark")
    page.screenshot("settings-dark", full_page=True)

    # Reloading the answer to the form does not send it again.
    page.page.reload()
    expect(page.page.locator("[data-testid=new-token]")).to_have_count(0)
    expect(page.page.locator(".tokens tbody tr")).to_have_count(1)

    page.page.set_viewport_size(PHONE)
    expect(page.page.get_by_role("button", name="Revoke")).to_be_in_viewport(ratio=0.5)
    assert page.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.page.emulate_media(color_scheme="light")
    page.screenshot("settings-phone", full_page=True)
