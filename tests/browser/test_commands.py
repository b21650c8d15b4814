"""Slash commands from the page: the completion list a "/" opens, /topic seen in both pages'
headers, /me drawn as an action in both, and an unknown command refused with nothing sent."""
from __future__ import annotations

import pytest

from tests.browser.pages import expect
from tests.browser.test_rooms_ui import create_room
from tests.support import unique

pytestmark = pytest.mark.e2e


def test_me_and_topic_from_the_page(open_chat, open_account, accounts):
    [alice_name] = accounts.make("alice")
    alice = open_account(alice_name)
    room = unique("cmds")
    create_room(alice, room, private=False)  # hers: she may set its topic
    bob = open_chat(unique("bob"))
    bob.join(room)

    # "/" lists the commands; typing narrows them; Tab takes the one selected.
    menu = alice.page.locator("#command-menu")
    alice.composer.press_sequentially("/")
    expect(menu.get_by_role("option")).to_have_count(5)
    expect(menu.get_by_role("option").first).to_contain_text("/me <action>")
    alice.composer.press_sequentially("to")
    expect(menu.get_by_role("option")).to_have_text(["/topic <text>"])
    alice.screenshot("command-menu")
    alice.composer.press("Tab")
    expect(alice.composer).to_have_value("/topic ")
    expect(menu).to_be_hidden()

    alice.composer.press_sequentially("Release on Friday")
    alice.composer.press("Enter")
    for person in (alice, bob):
        expect(person.page.locator("#room-topic")).to_have_text("Release on Friday")
    expect(alice.composer).to_have_value("")

    alice.send("/me waves")
    for person in (alice, bob):
        action = person.page.locator("#messages .msg.action .msg-text")
        expect(action).to_have_text(f"* {alice_name} waves")
    assert alice.page.locator("#messages .msg").count() == 1  # the topic was no message

    # A guest may not set a public room's topic; an unknown command sends nothing.
    bob.send("/topic mine")
    expect(bob.toasts.filter(has_text="Only the room's owner")).to_be_visible()
    bob.send("/nope at all")
    expect(bob.toasts.filter(has_text="Unknown command '/nope'")).to_be_visible()
    expect(bob.composer).to_have_value("/nope at all")  # given back, to correct it
    bob.screenshot("unknown-command")
    expect(alice.page.locator("#room-topic")).to_have_text("Release on Friday")
    assert alice.page.locator("#messages .msg").count() == 1

    # "//" posts the text as it is.
    bob.composer.fill("//shrug")
    bob.composer.press("Enter")
    expect(alice.message("/shrug")).to_be_visible()
