"""The room in view and the sidebar: an empty room's hint, the typing line, the quiet guest tag,
the member column's toggle, mention badges, direct messages by name, and toasts that keep clear
of the Send button."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"


def overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_an_empty_room_typing_guests_and_the_member_column(open_chat):
    room = unique("fresh")
    alice = open_chat(unique("alice"))
    alice.join(room)
    # Nothing said yet: the page says what to do.
    intro = alice.page.locator("#room-intro")
    expect(intro).to_be_visible()
    expect(intro.locator(".intro-title")).to_have_text(f"Welcome to #{room}")
    expect(intro).to_contain_text("Write the first message below")
    expect(alice.page.locator("#history-status")).to_have_text("")
    alice.screenshot("empty-room")

    bob = open_chat(unique("bob"))
    bob.join(room)
    # Typing shows on a line of its own, with dots that catch the eye.
    bob.composer.press_sequentially("Hello the")
    expect(alice.typing).to_have_text(f"{bob.name} is typing...")
    expect(alice.typing).to_have_attribute("data-active", "true")
    expect(alice.typing.locator(".typing-dots")).to_be_visible()
    alice.screenshot("typing")
    bob.composer.fill("")
    bob.send("Hello there")
    expect(alice.typing).to_have_attribute("data-active", "false")
    expect(intro).to_be_hidden()
    expect(alice.page.locator("#history-status")).to_have_text(f"This is the beginning of #{room}.")

    # A guest's "guest" tag is quiet: a round avatar always, the tag on hover, and the member list.
    item = alice.message_item("Hello there")
    expect(item.locator(".avatar")).to_have_class(re.compile(r"\bguest\b"))
    expect(item.locator(".tag")).to_have_text("guest")
    expect(item.locator(".tag")).to_be_hidden()
    item.hover()
    expect(item.locator(".tag")).to_be_visible()
    expect(alice.members.locator(".member").filter(has_text=bob.name)).to_contain_text("guest")

    # "2 online" on a wide screen shows and hides the member column; it never does nothing.
    toggle = alice.page.locator("#toggle-members")
    expect(toggle).to_have_text("2 online")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(alice.page.locator("#members")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    alice.screenshot("members-hidden")
    toggle.click()
    expect(alice.page.locator("#members")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def test_a_mention_gets_a_badge_of_its_own(open_chat, live_server):
    room = unique("loud")
    bob = open_chat(unique("bob"), phone=True)
    bob.page.locator("#toggle-sidebar").click()
    bob.join(room)
    bob.page.locator("#toggle-sidebar").click()
    bob.open_room("general")
    carol = ChatClient(live_server.url, unique("carol")).connect()
    try:
        assert carol.call("join", {"room": room})["ok"]
        carol.call("message", {"room": room, "text": "an ordinary message", "client_id": "plain-1"})
        badge = bob.room_button(room).locator(".badge")
        expect(badge).to_have_text("1")
        expect(badge).not_to_have_class(re.compile(r"\bbadge-mention\b"))
        # On a phone the room list is a drawer: its button says when something is for you.
        hamburger = bob.page.locator("#toggle-sidebar")
        bob.page.keyboard.press("Escape")
        expect(hamburger).not_to_have_class(re.compile(r"\bhas-mention\b"))

        carol.call("message", {"room": room, "text": f"@{bob.name} can you look?", "client_id": "at-1"})
        expect(hamburger).to_have_class(re.compile(r"\bhas-mention\b"))
        hamburger.click()
        expect(badge).to_have_text("@2")
        expect(badge).to_have_class(re.compile(r"\bbadge-mention\b"))
        expect(badge).to_have_attribute("aria-label", "2 unread, 1 for you")
        bob.screenshot("phone-mention-badge")
        bob.room_button(room).click()
        expect(bob.title).to_have_text(f"#{room}")
        expect(bob.room_button(room).locator(".badge")).to_have_count(0)
        expect(hamburger).not_to_have_class(re.compile(r"\bhas-mention\b"))
    finally:
        carol.close()


class Tap:
    """Passes the page's WebSocket through and lets the test speak as the server."""

    def __init__(self) -> None:
        self.route = None

    def __call__(self, ws) -> None:
        ws.connect_to_server()
        self.route = ws

    def emit(self, event: str, data: dict) -> None:
        self.route.send("42" + json.dumps([event, data]))


def test_a_notice_on_a_phone_keeps_clear_of_the_send_button(open_chat):
    tap = Tap()
    page = open_chat(unique("small"), phone=True, setup=lambda p: p.route_web_socket("**/socket.io/**", tap))
    page.expect_transport("websocket")
    # A DM's invitation, as the server sends it (this guest cannot really join one).
    tap.emit("invited", {"room": "dm-901-902", "by": "zoe"})
    toast = page.toasts.filter(has_text="zoe opened a direct conversation with you.")
    expect(toast).to_be_visible()
    send = page.page.locator("#composer button[type=submit]")
    assert not overlaps(toast.bounding_box(), send.bounding_box())
    assert not overlaps(toast.bounding_box(), page.composer.bounding_box())
    page.screenshot("phone-toast")
    toast.click()  # a click dismisses it
    expect(toast).to_have_count(0)
    page.page.locator("#toggle-sidebar").click()
    expect(page.dm_button("dm-901-902").locator(".room-name")).to_have_text("zoe")


def test_a_direct_conversation_goes_by_the_other_persons_name(open_chat, live_server):
    alice_name, bob_name = unique("alice"), unique("bob")
    for name in (alice_name, bob_name):
        live_server.flask("users", "create", name, "--password", PASSWORD)
    token = live_server.flask("tokens", "create", bob_name, "bot")
    page = open_chat(login=False)
    page.page.goto(live_server.url + "/auth/login")
    page.page.get_by_label("Name").fill(alice_name)
    page.page.get_by_label("Password").fill(PASSWORD)
    page.page.get_by_role("button", name="Log in").click()
    page.expect_state("connected")
    bob = ChatClient(live_server.url, bob_name).connect(token=token)
    try:
        ack = bob.call("dm", {"user": alice_name})
        assert ack["ok"], ack
        room = ack["room"]["name"]
        toast = page.toasts.filter(has_text=f"{bob_name} opened a direct conversation with you.")
        expect(toast).to_be_visible()
        assert not overlaps(toast.bounding_box(), page.page.locator("#composer button[type=submit]").bounding_box())
        expect(page.dm_button(room).locator(".room-name")).to_have_text(bob_name)

        # The page joined the DM by itself: what bob says arrives, and counts as for alice.
        assert bob.call("join", {"room": room})["ok"]
        assert bob.call("message", {"room": room, "text": "psst, alice", "client_id": "dm-1"})["ok"]
        badge = page.dm_button(room).locator(".badge")
        expect(badge).to_have_text("@1")
        expect(badge).to_have_class(re.compile(r"\bbadge-mention\b"))
        page.dm_button(room).click()
        expect(page.title).to_have_text(bob_name)
        expect(page.composer).to_have_attribute("placeholder", f"Message {bob_name}")
        expect(page.message("psst, alice")).to_be_visible()
        expect(page.page).to_have_title(f"{bob_name} · Parley")
        page.screenshot("direct-message")

        # Remembered across a reload, and learnt again from the room when it was forgotten
        # (another browser): the room's members and history name the other person.
        page.page.reload()
        page.expect_state("connected")
        expect(page.title).to_have_text(bob_name)
        page.page.evaluate("""() => Object.keys(localStorage)
            .filter((key) => key.startsWith("parley.peers."))
            .forEach((key) => localStorage.removeItem(key))""")
        page.page.reload()
        page.expect_state("connected")
        # Learnt from the room's members and history once the rooms are joined again: after a
        # whole suite's rooms on the shared server that can take longer than the default 5 s.
        expect(page.title).to_have_text(bob_name, timeout=20_000)
        expect(page.dm_button(room).locator(".room-name")).to_have_text(bob_name)
    finally:
        bob.close()
