"""Read state in the page (issue 18): badges come from the server, reading a room in one tab
clears it in the account's other tabs, mentions are counted for the person mentioned (and still
after a reload), and a DM shows "Seen" under what the other person has read."""
from __future__ import annotations

import re

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e


def test_reading_in_one_tab_clears_the_badge_in_the_other(open_account, accounts, live_server):
    busy, quiet = unique("busy"), unique("quiet")
    alice_name, bob_name = accounts.make("alice", "bob", tokens=True)
    laptop, phone = open_account(alice_name), open_account(alice_name)
    for tab in (laptop, phone):
        tab.join(busy)
        tab.join(quiet)  # in view: busy is elsewhere
    bob = ChatClient(live_server.url, bob_name).connect(token=accounts.tokens[bob_name])
    try:
        assert bob.call("join", {"room": busy})["ok"]
        assert bob.call("message", {"room": busy, "text": "news for alice"})["ok"]
        for tab in (laptop, phone):
            expect(tab.room_button(busy).locator(".badge")).to_have_text("1")
        laptop.open_room(busy)
        expect(laptop.message("news for alice")).to_be_visible()
        expect(phone.room_button(busy).locator(".badge")).to_have_count(0)

        # Counted by the server: a tab opened now shows the badge a fresh page could not know.
        assert bob.call("message", {"room": busy, "text": "and more"})["ok"]
        laptop.open_room(quiet)
        assert bob.call("message", {"room": busy, "text": "@" + alice_name + " look"})["ok"]
        expect(laptop.room_button(busy).locator(".badge-mention")).to_be_visible()
        phone.page.reload()
        phone.expect_state("connected")
        badge = phone.room_button(busy).locator(".badge")
        expect(badge).to_have_class(re.compile(r"\bbadge-mention\b"))
        expect(badge).to_have_text("@2")
        phone.screenshot("read-state-badges")
    finally:
        bob.close()


def test_a_dm_shows_seen_under_what_the_other_read(open_account, accounts, live_server):
    alice_name, bob_name = accounts.make("alice", "bob", tokens=True)
    alice = open_account(alice_name)
    bob = ChatClient(live_server.url, bob_name).connect(token=accounts.tokens[bob_name])
    try:
        room = bob.call("dm", {"user": alice_name})["room"]["name"]
        assert bob.call("join", {"room": room})["ok"]
        expect(alice.dm_button(room)).to_be_visible()
        alice.dm_button(room).click()
        alice.send("did you see this?")
        expect(alice.message("did you see this?")).to_be_visible()
        expect(alice.page.locator("#messages .seen")).to_have_count(0)
        assert bob.call("read", {"room": room, "id": alice.message_id("did you see this?")})["ok"]
        seen = alice.message_item("did you see this?").locator(".seen")
        expect(seen).to_have_text("Seen")
        alice.screenshot("dm-seen")
    finally:
        bob.close()


def test_the_mentions_view_lists_them_and_opens_one_in_its_room(open_account, accounts, live_server):
    elsewhere = unique("elsewhere")
    alice_name, bob_name = accounts.make("alice", "bob", tokens=True)
    alice = open_account(alice_name)
    bob = ChatClient(live_server.url, bob_name).connect(token=accounts.tokens[bob_name])
    try:
        assert bob.call("join", {"room": elsewhere})["ok"]
        said = bob.call("message", {"room": elsewhere, "text": f"@{alice_name} can you check?"})
        assert said["ok"]
        assert bob.call("message", {"room": elsewhere, "text": "unrelated"})["ok"]
        alice.page.locator("#open-mentions").click()
        hits = alice.page.locator("#mention-list .mention-open")
        expect(hits).to_have_count(1)
        expect(hits.first).to_contain_text("can you check?")
        alice.screenshot("mentions-view")
        hits.first.click()
        expect(alice.title).to_have_text(f"#{elsewhere}")
        expect(alice.message_item(f"@{alice_name} can you check?")).to_have_class(
            re.compile(r"\bmentions-me\b"))
    finally:
        bob.close()
