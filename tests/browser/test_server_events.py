"""Moderation events from the server (message_deleted, kicked, invited) change the page.

They are put on the page's WebSocket by the test, exactly as the server would send them."""
from __future__ import annotations

import json

import pytest

from tests.browser.pages import expect
from tests.support import unique

pytestmark = pytest.mark.e2e


class Tap:
    """Passes the page's WebSocket through and lets the test speak as the server."""

    def __init__(self) -> None:
        self.route = None

    def __call__(self, ws) -> None:
        ws.connect_to_server()
        self.route = ws

    def emit(self, event: str, data: dict) -> None:
        self.route.send("42" + json.dumps([event, data]))


def test_deleted_messages_kicks_and_invites(open_chat):
    tap = Tap()
    page = open_chat(unique("moderated"), setup=lambda p: p.route_web_socket("**/socket.io/**", tap))
    page.expect_transport("websocket")
    room = unique("modroom")
    page.join(room)
    for text in ("keep me", "delete me", "keep me too"):
        page.send(text)
        expect(page.message(text)).to_be_visible()
    doomed = int(page.message_item("delete me").get_attribute("data-id"))

    tap.emit("message_deleted", {"room": room, "id": doomed})
    expect(page.message("delete me")).to_have_count(0)
    expect(page.page.locator("#messages .msg-text")).to_have_text(["keep me", "keep me too"])
    # "keep me too" now follows "keep me" directly, so it joins its group.
    expect(page.message_item("keep me too")).to_have_class("msg mine continued")

    secret = unique("secret")
    tap.emit("invited", {"room": secret, "by": "ops"})
    expect(page.room_button(secret)).to_be_visible()
    expect(page.page.locator("#toasts")).to_contain_text(f"ops invited you to #{secret}.")

    tap.emit("kicked", {"room": room, "by": "ops"})
    expect(page.page.locator(f"#room-list button.joined[data-room='{room}']")).to_have_count(0)
    expect(page.page.locator("#room-title")).to_have_text("#general")
    expect(page.page.locator("#toasts")).to_contain_text(f"ops removed you from #{room}.")
