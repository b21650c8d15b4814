"""Connecting: refused nicknames go back to the form; a dropped connection rejoins and catches up."""
from __future__ import annotations

import json
import re
import time

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


class HeldJoins:
    """Sits on the page's WebSocket and, while ``holding``, keeps back the server's answers to the
    page's joins of ``room``; the answers to every other join go through and are counted."""

    JOIN = re.compile(r'^42(\d+)\["join",(.*)\]$')
    ACK = re.compile(r"^43(\d+)\[")

    def __init__(self, room: str) -> None:
        self.room = room
        self.holding = False
        self.held: set[str] = set()
        self.joins: dict[str, str] = {}  # ack id -> room, of the joins the page asked for
        self.answered: list[str] = []

    def route(self, ws) -> None:
        server = ws.connect_to_server()

        def from_page(frame) -> None:
            join = self.JOIN.match(frame) if isinstance(frame, str) else None
            if join:
                self.joins[join[1]] = json.loads(join[2])["room"]
            server.send(frame)

        def from_server(frame) -> None:
            ack = self.ACK.match(frame) if isinstance(frame, str) else None
            room = self.joins.get(ack[1]) if ack else None
            if room == self.room and self.holding:
                self.held.add(ack[1])
                return
            if room:
                self.answered.append(room)
            ws.send(frame)

        ws.on_message(from_page)
        server.on_message(from_server)


def test_a_reload_before_a_join_is_answered_keeps_the_room(open_chat):
    """Reloading while a room's join is still on its way (a slow server, a big room) must not
    drop the room: the next load comes back to it, in view, as it was."""
    room = unique("slowjoin")
    wire = HeldJoins(room)
    page = open_chat(unique("reloader"), query="?transport=websocket",
                     setup=lambda p: p.route_web_socket("**/socket.io/**", wire.route))
    page.join(room)

    wire.holding = True
    wire.answered.clear()
    page.page.reload()
    page.expect_state("connected")
    deadline = time.monotonic() + 10
    # The other room's join is answered while this one's is held (and the page saves its rooms).
    while not (wire.held and "general" in wire.answered):
        assert time.monotonic() < deadline, (wire.held, wire.answered)
        page.page.wait_for_timeout(50)  # lets Playwright run the route's handlers

    wire.holding = False
    page.page.reload()
    page.expect_state("connected")
    expect(page.title).to_have_text(f"#{room}")
    expect(page.room_button(room)).to_be_visible()
    expect(page.members).to_contain_text(page.name)
