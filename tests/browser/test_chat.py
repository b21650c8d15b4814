"""Two people chat in a room: messages, presence, typing and unread counts, live in both tabs."""
from __future__ import annotations

import pytest

from tests.browser.pages import ROOT, expect
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
    alice.screenshot("readme", path=ROOT / "docs" / "screenshot.png")
    bob.screenshot("chat-bob")

    # Unread count for a room not in view.
    alice.open_room("general")
    bob.send("Are you still there?")
    expect(alice.room_button(room).locator(".badge")).to_have_text("1")
    alice.open_room(room)
    expect(alice.room_button(room).locator(".badge")).to_have_count(0)

    # Leaving: alice sees bob go.
    bob.page.locator("#leave-room").click()
    expect(alice.notices.last).to_have_text(f"{bob.name} left")
    expect(alice.members).not_to_contain_text(bob.name)


def test_layouts_for_phone_and_dark_mode(open_chat):
    alice = open_chat(unique("alice"))
    alice.join(unique("phone"))
    alice.send("Looks fine on a phone too.")
    alice.page.emulate_media(color_scheme="dark")
    alice.screenshot("chat-dark")
    alice.page.set_viewport_size({"width": 390, "height": 844})
    expect(alice.page.locator("#sidebar")).not_to_be_visible()
    alice.screenshot("phone")
    alice.page.locator("#toggle-sidebar").click()
    expect(alice.page.locator("#join-room")).to_be_visible()
    alice.screenshot("phone-rooms")
    alice.page.keyboard.press("Escape")
    expect(alice.page.locator("#sidebar")).not_to_be_visible()
