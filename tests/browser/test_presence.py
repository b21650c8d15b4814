"""Who came and went: one line for a run of joins and leaves, nothing for a reconnect, the same
for everyone after a server restart, and the last known member list kept while reconnecting."""
from __future__ import annotations

import re

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

# A leave is shown once the person has stayed away 10 s (static/js/presence.js), well within this.
AFTER_GRACE_MS = 20_000


def test_comings_and_goings_share_one_line_and_reconnects_are_not_news(open_chat, live_server):
    room = unique("busy")
    alice = open_chat(unique("alice"))
    alice.join(room)
    guests = [ChatClient(live_server.url, unique(f"g{n}")).connect() for n in range(4)]
    late = None
    try:
        for guest in guests:
            assert guest.call("join", {"room": room})["ok"]
        names = [guest.name for guest in guests]
        expect(alice.notices).to_have_text([f"{names[0]}, {names[1]} and 2 others joined"])
        # Everyone the line stands for is in its tooltip.
        expect(alice.notices.first).to_have_attribute("title", re.compile(re.escape(f"{names[3]}: joined")))

        # A message ends the run.
        guests[0].call("message", {"room": room, "text": "hi all", "client_id": "hi-1"})
        expect(alice.message("hi all")).to_be_visible()

        # Dropping out and coming straight back (a reload, a reconnect) is not news.
        guests[1].close()
        expect(alice.members).not_to_contain_text(names[1])
        guests[1] = ChatClient(live_server.url, names[1]).connect()
        assert guests[1].call("join", {"room": room})["ok"]
        expect(alice.members).to_contain_text(names[1])

        # Someone comes and goes, someone leaves for good: one line, once they have stayed away.
        late = ChatClient(live_server.url, unique("late")).connect()
        assert late.call("join", {"room": room})["ok"]
        expect(alice.notices.last).to_have_text(f"{late.name} joined")
        late.close()
        guests[2].close()
        expect(alice.notices.last).to_have_text(f"{late.name} joined and left; {names[2]} left", timeout=AFTER_GRACE_MS)
        expect(alice.notices).to_have_text([
            f"{names[0]}, {names[1]} and 2 others joined",
            f"{late.name} joined and left; {names[2]} left",
        ])
        alice.screenshot("presence-collapsed")
    finally:
        for client in [*guests, late]:
            if client:
                client.close()


def test_after_a_server_restart_both_people_see_the_same(fresh_server, open_chat):
    """(fresh_server comes first so that it stops last, after the pages have closed.)"""
    fresh_server.start()
    room = unique("restart")
    alice = open_chat(unique("alice"), server=fresh_server)
    alice.join(room)
    bob = open_chat(unique("bob"), server=fresh_server)
    bob.join(room)
    expect(alice.notices).to_have_text([f"{bob.name} joined"])
    expect(bob.members).to_contain_text(alice.name)
    expect(bob.notices).to_have_count(0)  # alice was there before bob came

    # While the server is down, both keep the last list they had, marked as such.
    fresh_server.stop(kill=True)
    for person, other in ((alice, bob), (bob, alice)):
        expect(person.page.locator("#members-stale")).to_be_visible()
        expect(person.page.locator("#members")).to_have_attribute("data-stale", "true")
        expect(person.page.locator("#member-count")).to_have_text("2")
        expect(person.members).to_contain_text(other.name)
    alice.screenshot("members-reconnecting")

    # Both come back, one after the other: nobody "left" or "joined".
    fresh_server.start()
    for person, other in ((alice, bob), (bob, alice)):
        person.expect_state("connected", timeout=25_000)
        expect(person.page.locator("#members-stale")).to_be_hidden()
        expect(person.members).to_contain_text(other.name)  # the server's word now, not the stale list
    bob.send("everyone back?")
    expect(alice.message("everyone back?")).to_be_visible()
    assert alice.notice_texts() == [f"{bob.name} joined"]
    assert bob.notice_texts() == []

    # A reload that cannot reach the server shows the list of the last visit, greyed.
    alice.page.route("**/socket.io/**", lambda route: route.abort())
    alice.page.reload()
    expect(alice.page.locator("#members-stale")).to_contain_text("Connecting")
    expect(alice.page.locator("#member-count")).to_have_text("2")
    expect(alice.members).to_contain_text(bob.name)
    alice.page.unroute("**/socket.io/**")
    alice.expect_state("connected", timeout=25_000)
    expect(alice.page.locator("#members-stale")).to_be_hidden()
