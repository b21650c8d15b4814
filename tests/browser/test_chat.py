"""Two people chat in a room: messages, presence, typing and unread counts, live in both tabs."""
from __future__ import annotations

import pytest

from tests.browser.pages import expect
from tests.support import unique

pytestmark = pytest.mark.e2e


def test_two_people_see_each_other(open_chat):
    room = unique("lobby")
    alice = open_chat(unique("alice"))
    alice.join(room)
    bob = open_chat(unique("bob"))
    bob.join(room)

    # Presence: the member list and a notice in the pane.
    expect(alice.members).to_contain_text(bob.name)
    expect(alice.notices.last).to_have_text(f"{bob.name} joined")
    expect(bob.members).to_contain_text(alice.name)

    # Typing: bob types, alice is told, and sending clears it.
    bob.composer.press_sequentially("Hi Al")
    expect(alice.typing).to_have_text(f"{bob.name} is typing...")
    bob.composer.fill("")
    bob.send("Hi Alice! <b>not bold</b>")
    expect(alice.message("Hi Alice! <b>not bold</b>")).to_be_visible()
    expect(bob.message("Hi Alice! <b>not bold</b>")).to_be_visible()
    expect(bob.page.locator("#pending .msg")).to_have_count(0)
    expect(alice.typing).to_have_text("")

    # Shift+Enter is a newline, Enter sends.
    alice.composer.fill("Hello Bob")
    alice.composer.press("Shift+Enter")
    alice.composer.press_sequentially("two lines")
    alice.composer.press("Enter")
    expect(bob.message("Hello Bob\ntwo lines")).to_be_visible()
    expect(alice.composer).to_have_value("")
    alice.send("Shall we make a plan for Friday?")
    bob.send("Sure, let's meet at noon.")
    expect(alice.message("Sure, let's meet at noon.")).to_be_visible()
    alice.screenshot("chat-alice")
    bob.screenshot("chat-bob")

    # Unread count for a room not in view.
    alice.open_room("general")
    bob.send("Are you still there?")
    expect(alice.room_button(room).locator(".badge")).to_have_text("1")
    # Keyboard: Alt+Down / Alt+Up walk the joined rooms.
    alice.composer.press("Alt+ArrowDown")
    expect(alice.page.locator("#room-title")).to_have_text(f"#{room}")
    expect(alice.room_button(room).locator(".badge")).to_have_count(0)
    alice.composer.press("Alt+ArrowUp")
    expect(alice.page.locator("#room-title")).to_have_text("#general")
    alice.open_room(room)

    # Leaving: alice sees bob go from the member list at once; the line waits out the grace
    # period in which a reconnecting person comes back (static/js/presence.js, 10 s).
    bob.page.locator("#leave-room").click()
    expect(alice.members).not_to_contain_text(bob.name)
    expect(alice.notices.last).to_have_text(f"{bob.name} left", timeout=20_000)


def test_a_phone_sized_screen_chats_with_drawers(open_chat):
    room = unique("phone")
    alice = open_chat(unique("alice"), phone=True)
    page = alice.page
    expect(page.locator("#sidebar")).not_to_be_visible()
    expect(page.locator("#members")).not_to_be_visible()

    # The room list is a drawer: open it, join, and it closes again.
    page.locator("#toggle-sidebar").click()
    expect(page.locator("#toggle-sidebar")).to_have_attribute("aria-expanded", "true")
    alice.screenshot("phone-rooms")
    alice.join(room)
    expect(page.locator("#sidebar")).not_to_be_visible()

    bob = open_chat(unique("bob"))
    bob.join(room)
    bob.send("Hi from a big screen")
    expect(alice.message("Hi from a big screen")).to_be_in_viewport()
    alice.composer.tap()
    alice.send("Hi from a phone, with a rather long line that has to wrap on a narrow screen")
    expect(bob.message("Hi from a phone, with a rather long line that has to wrap on a narrow screen")).to_be_visible()
    # Nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    alice.screenshot("phone")

    # Members are a drawer too; Escape closes it.
    page.locator("#toggle-members").click()
    expect(alice.members).to_contain_text(bob.name)
    page.keyboard.press("Escape")
    expect(page.locator("#members")).not_to_be_visible()

    # An unread badge in the drawer, and switching rooms from it.
    page.locator("#toggle-sidebar").click()
    page.locator("#room-list button[data-room='general']").click()
    expect(page.locator("#room-title")).to_have_text("#general")
    bob.send("Still there?")
    page.locator("#toggle-sidebar").click()
    expect(alice.room_button(room).locator(".badge")).to_have_text("1")
    alice.room_button(room).click()
    expect(alice.message("Still there?")).to_be_visible()

    page.emulate_media(color_scheme="dark")
    alice.screenshot("phone-dark")
    bob.page.emulate_media(color_scheme="dark")
    bob.screenshot("chat-dark")
