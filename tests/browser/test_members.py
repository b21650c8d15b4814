"""The member list from presence deltas (the page speaks protocol 2): the join ack's list, then
each join and leave applied to it; a person with two connections is listed once, until the last
one goes."""
from __future__ import annotations

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e


def test_the_member_list_follows_joins_and_leaves(open_chat, live_server, accounts):
    room = unique("members")
    early = ChatClient(live_server.url, unique("early")).connect()
    assert early.call("join", {"room": room})["ok"]
    alice = open_chat(unique("alice"))
    alice.join(room)
    count = alice.page.locator("#member-count")
    expect(alice.members).to_contain_text(early.name)  # from the join ack
    expect(count).to_have_text("2")

    (bob,) = accounts.make("bob", tokens=True)
    tabs = [ChatClient(live_server.url, bob).connect(token=accounts.tokens[bob]) for _ in range(2)]
    try:
        for tab in tabs:
            assert tab.call("join", {"room": room})["ok"]
        expect(alice.members).to_contain_text(bob)
        expect(count).to_have_text("3")  # two connections, one person
        tabs[0].close()
        early.close()
        expect(alice.members).not_to_contain_text(early.name)
        expect(count).to_have_text("2")
        expect(alice.members).to_contain_text(bob)  # still there in the other tab
        tabs[1].close()
        expect(alice.members).not_to_contain_text(bob)
        expect(count).to_have_text("1")
        expect(alice.members).to_contain_text(alice.name)
    finally:
        for client in (early, *tabs):
            client.close()
