"""Connecting: refused nicknames go back to the form; a dropped connection rejoins and catches up."""
from __future__ import annotations

import pytest
import socketio

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e


def test_taken_name_goes_back_to_the_form(open_chat, live_server):
    taken = unique("taken")
    holder = ChatClient(live_server.url, taken).connect()
    try:
        page = open_chat(login=False)
        page.page.locator("#nickname").fill(taken)
        page.page.locator("#nickname").press("Enter")
        expect(page.page.locator("#login-error")).to_have_text(f"The name '{taken}' is already online.")
        expect(page.page.locator("#login")).to_be_visible()
        page.screenshot("name-taken")
        # Another name works, and is remembered for the next visit.
        page.login(unique("other"))
        page.page.reload()
        page.expect_state("connected")
    finally:
        holder.close()


def test_a_reload_over_long_polling_keeps_the_name(open_chat, live_server):
    """The goodbye on reload reaches the server, so the name is free for the new page at once --
    not after the server's ping timeout (45 s) -- and still nobody else's.

    Reloading right after joining, while the page still polls (its upgrade to WebSocket under
    way), lost socket.io's own goodbye in about a third of runs here; the page now also sends
    one as a beacon (static/js/connection.js).
    """
    name = unique("reload")
    page = open_chat(login=False)
    page.login(name)  # and at once, maybe mid-upgrade to WebSocket:
    for _ in range(3):
        page.page.reload()
        page.expect_state("connected")
    other = socketio.Client(reconnection=False)
    errors = []
    other.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        other.connect(live_server.url, auth={"name": name}, wait_timeout=5)
    assert errors and errors[0]["data"]["code"] == "name_taken"  # held by the reloaded page


def test_invalid_name_shows_the_rule(open_chat):
    page = open_chat(login=False)
    page.page.locator("#nickname").fill("no spaces!")
    page.page.locator("#nickname").press("Enter")
    expect(page.page.locator("#login-error")).to_contain_text("1-32 characters")


def test_invalid_room_shows_the_server_error(open_chat):
    page = open_chat(unique("picky"))
    page.page.locator("#join-room").fill("Not A Room")
    page.page.locator("#join-room").press("Enter")
    expect(page.page.locator("#join-error")).to_contain_text("lowercase a-z")


def test_reconnect_rejoins_and_catches_up(fresh_server, open_chat):
    """The page loses its connection, misses a message, and gets it back after reconnecting.

    (fresh_server comes first so that it stops last, after the pages have closed.)
    """
    fresh_server.start()
    room = unique("flaky")
    page = open_chat(unique("flaky"), query="?transport=polling", server=fresh_server)
    page.join(room)
    # Polling, like the page: a server that has served a WebSocket is slow to stop on SIGTERM.
    friend = ChatClient(fresh_server.url, unique("friend"), transports=["polling"]).connect()
    assert friend.call("join", {"room": room})["ok"]
    expect(page.members).to_contain_text(friend.name)

    # Cut the page off (its polling requests fail) and make it notice by typing.
    page.page.route("**/socket.io/**", lambda route: route.abort())
    page.composer.press_sequentially("x")
    expect(page.page.locator("#conn-label")).to_contain_text("reconnecting (attempt")
    page.composer.fill("")
    page.send("written while offline")
    expect(page.page.locator("#pending .pending-state")).to_have_text("Waiting for the connection...")
    friend.call("message", {"room": room, "text": "said while you were away", "client_id": "away-1"})
    friend.close()
    page.screenshot("reconnecting")

    # A crash and restart forgets the stale connection that still holds the page's name.
    fresh_server.stop(kill=True)
    page.page.unroute("**/socket.io/**")
    fresh_server.start()
    # Reconnection backs off up to 5 s between attempts (and one attempt may hang until its timeout).
    page.expect_state("connected", timeout=25_000)
    expect(page.message("said while you were away")).to_be_visible()
    # What was said meanwhile sits under a "New messages" line.
    expect(page.message_item("said while you were away").locator(".new-divider")).to_have_text("New messages")
    expect(page.message("written while offline")).to_be_visible()
    expect(page.page.locator("#pending .msg")).to_have_count(0)
    expect(page.members).to_contain_text(page.name)
