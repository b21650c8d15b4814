"""Scrolling back through a long room: the join shows the last 50, older pages load on scroll-up."""
from __future__ import annotations

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

SEEDED = 80


# The server allows one person 30 messages per 10 s, so three seeders share the work.
SEEDERS = 3


@pytest.fixture
def long_room(live_server):
    """A room holding messages "message 1" .. "message 80"; answers (room, {n: id})."""
    room = unique("long")
    seeders = [ChatClient(live_server.url, unique("seeder")).connect() for _ in range(SEEDERS)]
    try:
        for seeder in seeders:
            assert seeder.call("join", {"room": room})["ok"]
        ids = {}
        per_seeder = -(-SEEDED // SEEDERS)
        for n in range(1, SEEDED + 1):
            seeder = seeders[(n - 1) // per_seeder]
            ack = seeder.call("message", {"room": room, "text": f"message {n}", "client_id": f"seed-{n}"})
            assert ack["ok"], ack
            ids[n] = ack["message"]["id"]
    finally:
        for seeder in seeders:
            seeder.close()
    return room, ids


TEXT_TOP = "id => document.querySelector(`#messages [data-id='${id}'] .msg-text`).getBoundingClientRect().top"


def text_top(page, message_id: int) -> float:
    """Where the text of a message is on screen: what a reader keeps their eyes on."""
    return page.evaluate(TEXT_TOP, message_id)


def test_scroll_back_loads_older_messages_in_place(open_chat, long_room, live_server):
    room, ids = long_room
    reader = open_chat(unique("reader"))
    reader.join(room)
    expect(reader.message("message 80")).to_be_visible()
    expect(reader.message("message 31")).to_have_count(1)
    expect(reader.message("message 30")).to_have_count(0)

    # Scroll to the very top; message 31 must stay put on screen while 1-30 are put above it.
    # (One script: the scroll event that starts the load fires only after it returns.)
    before = reader.page.evaluate(
        f"id => {{ document.getElementById('scroller').scrollTop = 0; return ({TEXT_TOP})(id); }}",
        ids[31],
    )
    expect(reader.message("message 1")).to_have_count(1)
    assert abs(text_top(reader.page, ids[31]) - before) < 2
    expect(reader.page.locator("#messages .msg")).to_have_count(SEEDED)
    expect(reader.page.locator("#history-status")).to_have_text(f"This is the beginning of #{room}.")
    reader.page.locator("#scroller").evaluate("node => { node.scrollTop = 0; }")
    expect(reader.message("message 1")).to_be_in_viewport()
    reader.screenshot("history-start")
    # Ids are in order on screen, no duplicates.
    shown = reader.page.locator("#messages .msg").evaluate_all("nodes => nodes.map(n => +n.dataset.id)")
    assert shown == sorted(ids.values())

    # Reading old messages, a new one does not yank the view down; a button offers to jump.
    friend = ChatClient(live_server.url, unique("friend")).connect()
    try:
        assert friend.call("join", {"room": room})["ok"]
        friend.call("message", {"room": room, "text": "something new", "client_id": "new-1"})
        jump = reader.page.locator("#jump-latest")
        expect(jump).to_be_visible()
        expect(reader.message("message 1")).to_be_in_viewport()
        jump.click()
        expect(reader.message("something new")).to_be_in_viewport()
        expect(jump).to_be_hidden()
    finally:
        friend.close()
