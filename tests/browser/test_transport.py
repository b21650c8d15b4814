"""Transports: WebSocket by default, and chatting still works with only long-polling."""
from __future__ import annotations

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e


def test_polling_only_page_chats(open_chat, live_server):
    room = unique("polling")
    friend = ChatClient(live_server.url, unique("friend")).connect()
    try:
        assert friend.call("join", {"room": room})["ok"]
        page = open_chat(unique("poller"), query="?transport=polling", login=False)
        websockets = []
        page.page.on("websocket", lambda ws: websockets.append(ws.url))
        page.login()
        page.join(room)
        expect(page.members).to_contain_text(friend.name)

        page.send("hello over polling")
        got = friend.wait("message", lambda m: m["text"] == "hello over polling")
        assert got["author"] == page.name
        friend.call("message", {"room": room, "text": "and back again", "client_id": "back-1"})
        expect(page.message("and back again")).to_be_visible()

        # A reload says goodbye first, so the server frees the name for the reloaded page at once.
        page.page.reload()
        page.expect_state("connected")
        page.open_room(room)
        expect(page.message("and back again")).to_be_visible()
        assert websockets == []
    finally:
        friend.close()


def test_default_transport_upgrades_to_websocket(open_chat):
    page = open_chat(login=False)
    with page.page.expect_websocket() as opened:
        page.login(unique("ws"))
    websocket = opened.value
    assert "transport=websocket" in websocket.url
    # Frames flow both ways once the page talks: the upgrade went through (CSP allows it).
    with websocket.expect_event("framereceived"):
        page.join(unique("ws-room"))
    assert not websocket.is_closed()
    page.expect_transport("websocket")


def test_blocked_websocket_falls_back_to_polling_by_itself(open_chat, live_server):
    """Like a proxy that refuses WebSocket: every upgrade is closed at once, nothing is forced."""
    blocked = []

    def block(ws):
        blocked.append(ws.url)
        ws.close(code=1006, reason="blocked by a proxy")

    room = unique("blocked")
    friend = ChatClient(live_server.url, unique("friend")).connect()
    try:
        assert friend.call("join", {"room": room})["ok"]
        page = open_chat(unique("walled"), setup=lambda p: p.route_web_socket("**/socket.io/**", block))
        page.join(room)
        assert blocked and "transport=websocket" in blocked[0]
        page.expect_transport("polling")
        page.send("hello through the wall")
        got = friend.wait("message", lambda m: m["text"] == "hello through the wall")
        assert got["author"] == page.name
        friend.call("message", {"room": room, "text": "heard you", "client_id": "heard-1"})
        expect(page.message("heard you")).to_be_visible()
        page.expect_transport("polling")
    finally:
        friend.close()
