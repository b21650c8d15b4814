"""Never lose or duplicate a message: queued offline across a reload, retried with the same
client_id when an answer is lost, and marked "Not sent" (with Retry) only after a few tries."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

QUEUED = ["one, written offline", "two, written offline", "three, written offline"]


def history(server, room: str) -> list[dict]:
    reader = ChatClient(server.url, unique("reader"), transports=["polling"]).connect()
    try:
        assert reader.call("join", {"room": room})["ok"]
        ack = reader.call("history", {"room": room, "limit": 100})
        assert ack["ok"], ack
        return ack["messages"]
    finally:
        reader.close()


def test_queued_messages_survive_a_reload_and_go_out_once_in_order(fresh_server, open_chat):
    """(fresh_server comes first so that it stops last, after the pages have closed.)"""
    fresh_server.start()
    room = unique("queue")
    page = open_chat(unique("queuer"), server=fresh_server)
    page.join(room)
    page.send("before the outage")
    expect(page.message("before the outage")).to_be_visible()

    fresh_server.stop(kill=True)
    expect(page.banner).to_be_visible()
    for text in QUEUED:
        page.send(text)
    expect(page.pending.locator(".pending-state")).to_have_text(["Waiting for the connection..."] * 3)

    # The server comes back, but this page must not reach it until it has reloaded: only the
    # page itself (HTML, scripts) loads, its Socket.IO requests fail.
    page.page.route("**/socket.io/**", lambda route: route.abort())
    fresh_server.start()
    page.page.reload()
    expect(page.page.locator("#room-title")).to_have_text(f"#{room}")
    expect(page.pending.locator(".msg-text")).to_have_text(QUEUED)
    expect(page.banner).to_contain_text("Connecting to the server")
    page.screenshot("queued-after-reload")

    page.page.unroute("**/socket.io/**")
    page.expect_state("connected", timeout=20_000)
    expect(page.pending).to_have_count(0)
    expect(page.page.locator("#messages .msg-text")).to_have_text(["before the outage", *QUEUED])
    stored = [m["text"] for m in history(fresh_server, room)]
    assert stored == ["before the outage", *QUEUED]
    # Nothing is left to send on the next visit.
    page.page.reload()
    page.expect_state("connected")
    expect(page.page.locator("#messages .msg-text")).to_have_text(["before the outage", *QUEUED])
    expect(page.pending).to_have_count(0)


class Saboteur:
    """Sits on the page's WebSocket and spoils the server's answers about one message."""

    ACK = re.compile(r"^43(\d+)\[")

    def __init__(self, marker: str, mode: str) -> None:
        self.marker, self.mode = marker, mode  # mode: "drop" once, or "fail" until disarmed
        self.sent: list[str] = []  # client_ids of the marker message, one per try
        self.armed = True

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda frame: self.from_page(frame, server))
        server.on_message(lambda frame: self.from_server(frame, ws))

    def from_page(self, frame, server) -> None:
        if isinstance(frame, str) and self.marker in frame:
            self.sent.append(json.loads(frame[frame.index("["):])[1]["client_id"])
        server.send(frame)

    def from_server(self, frame, ws) -> None:
        if not (self.armed and isinstance(frame, str) and self.marker in frame):
            return ws.send(frame)
        if self.mode == "drop":
            if len(self.sent) > 1:  # only the answers to the first try are lost
                ws.send(frame)
            return
        ack = self.ACK.match(frame)
        if ack:  # the broadcast is dropped, the ack becomes a transient failure
            ws.send(f'43{ack[1]}[{{"ok":false,"error":{{"code":"internal","message":"The server failed."}}}}]')


def open_sabotaged(open_chat, saboteur: Saboteur, clock: bool = False):
    def setup(page):
        page.route_web_socket("**/socket.io/**", saboteur.route)
        if clock:
            page.clock.install()

    page = open_chat(unique("lossy"), setup=setup)
    page.expect_transport("websocket")
    return page


def test_a_lost_answer_is_retried_with_the_same_client_id(open_chat, live_server):
    saboteur = Saboteur("the ack of this one is lost", "drop")
    page = open_sabotaged(open_chat, saboteur, clock=True)
    room = unique("lossy")
    page.join(room)
    page.send(saboteur.marker)
    expect(page.pending.locator(".pending-state")).to_have_text("Sending...")
    page.page.wait_for_timeout(300)
    page.page.clock.fast_forward(11_000)  # past the 10 s ack timeout
    expect(page.message(saboteur.marker)).to_have_count(1)
    expect(page.pending).to_have_count(0)
    assert len(saboteur.sent) == 2 and saboteur.sent[0] == saboteur.sent[1]
    assert [m["text"] for m in history(live_server, room)] == [saboteur.marker]


def test_failed_after_a_few_tries_then_retry_by_hand(open_chat, live_server):
    saboteur = Saboteur("the server keeps failing this one", "fail")
    page = open_sabotaged(open_chat, saboteur)
    room = unique("failing")
    page.join(room)
    page.send(saboteur.marker)
    expect(page.pending.locator(".pending-state")).to_have_text("No answer yet, trying again...")
    failed = page.pending.filter(has_text="Not sent")
    expect(failed).to_have_count(1, timeout=15_000)
    expect(failed).to_contain_text("The server failed.")
    assert len(saboteur.sent) == 5 and len(set(saboteur.sent)) == 1
    page.screenshot("failed-message")

    saboteur.armed = False
    failed.get_by_role("button", name="Retry").click()
    expect(page.message(saboteur.marker)).to_have_count(1)
    expect(page.pending).to_have_count(0)
    assert len(set(saboteur.sent)) == 1
    # The server stored it on the first try; the later tries were recognised as the same message.
    assert [m["text"] for m in history(live_server, room)] == [saboteur.marker]


def test_a_lost_broadcast_turns_up_at_the_periodic_check(open_chat, live_server):
    """The connection stays up but one live message never arrives (a server crashed between its
    commit and its broadcast): the page's periodic history check finds it."""
    marker = "this broadcast is lost"

    def lose_broadcast(ws):
        server = ws.connect_to_server()

        def from_server(frame):
            # Only the live event is lost ("42" is an event, "43" an ack such as history's answer).
            if not (str(frame).startswith('42["message"') and marker in str(frame)):
                ws.send(frame)

        server.on_message(from_server)

    def setup(page):
        page.route_web_socket("**/socket.io/**", lose_broadcast)
        page.clock.install()

    page = open_chat(unique("reader"), setup=setup)
    page.expect_transport("websocket")
    room = unique("gappy")
    page.join(room)
    friend = ChatClient(live_server.url, unique("friend")).connect()
    try:
        assert friend.call("join", {"room": room})["ok"]
        assert friend.call("message", {"room": room, "text": marker, "client_id": "lost-1"})["ok"]
        friend.call("message", {"room": room, "text": "this one arrives", "client_id": "live-1"})
        expect(page.message("this one arrives")).to_be_visible()
        expect(page.message(marker)).to_have_count(0)
        page.page.clock.fast_forward(31_000)  # the check runs every 30 s
        expect(page.page.locator("#messages .msg-text")).to_have_text([marker, "this one arrives"])
    finally:
        friend.close()
