"""Notification settings in the browser: the room header's Notify menu keeps a room's level and
mute across a reload; the settings page's section saves the e-mail settings and registers the
service worker for the push opt-in (headless Chromium has no push service to subscribe to)."""
from __future__ import annotations

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e


def open_menu(chat):
    chat.page.locator("#room-notify").click()
    dialog = chat.page.locator("dialog.notify-dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_a_rooms_level_and_mute_persist_across_a_reload(open_account, accounts):
    room = unique("notify")
    [name] = accounts.make("bell")
    chat = open_account(name)
    chat.join(room)
    dialog = open_menu(chat)
    expect(dialog.get_by_label("Mentions and direct messages")).to_be_checked()  # the default
    dialog.get_by_label("All messages").check()
    dialog.locator("#notify-mute").select_option("480")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)

    chat.page.reload()
    chat.expect_state("connected")
    expect(chat.page.locator("#room-title")).to_have_text(f"#{room}")
    dialog = open_menu(chat)
    expect(dialog.get_by_label("All messages")).to_be_checked()
    expect(dialog.locator("#notify-mute option:checked")).to_contain_text("Muted until")
    dialog.locator("#notify-mute").select_option("")  # unmute
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    dialog = open_menu(chat)
    expect(dialog.locator("#notify-mute option:checked")).to_have_text("Not muted")


def test_the_settings_section_saves_and_registers_the_service_worker(open_account, accounts,
                                                                     live_server):
    [name] = accounts.make("mail")
    chat = open_account(name)
    page = chat.page
    page.goto(live_server.url + "/auth/settings")
    section = page.locator("#notify-section")
    expect(section).to_have_attribute("data-worker", "registered")
    expect(page.locator("#push-enable")).to_be_visible()
    page.locator("#notify-digest-minutes").fill("30")
    page.locator("#notify-push").uncheck()
    page.get_by_role("button", name="Save notification settings").click()
    expect(page.locator(".flash")).to_have_text("Notification settings saved.")
    page.reload()
    expect(page.locator("#notify-digest-minutes")).to_have_value("30")
    expect(page.locator("#notify-push")).not_to_be_checked()
    expect(page.locator("#notify-email")).to_contain_text("once you set one under E-mail")
    # A bad delay is refused with the reason, and nothing changes.
    page.locator("#notify-digest-minutes").fill("0")
    page.get_by_role("button", name="Save notification settings").click()
    expect(page.locator(".flash")).to_contain_text("not saved")
    expect(page.locator("#notify-digest-minutes")).to_have_value("30")


def test_a_notifications_link_opens_its_message(open_account, accounts, live_server):
    room = unique("linked")
    [name] = accounts.make("linked", tokens=True)
    poster = ChatClient(live_server.url, name).connect(token=accounts.tokens[name])
    try:
        assert poster.call("join", {"room": room})["ok"]
        ids = [poster.call("message", {"room": room, "text": f"line {i}"})["message"]["id"]
               for i in range(3)]
    finally:
        poster.close()
    target = ids[1]
    chat = open_account(name, query=f"?room={room}&message={target}")
    expect(chat.page.locator("#room-title")).to_have_text(f"#{room}")
    expect(chat.page.locator("#messages .msg:focus")).to_contain_text("line 1")
    assert chat.page.evaluate("location.search") == ""  # a reload stays where it is
