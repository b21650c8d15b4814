"""Accounts on the chat page: register through the form, chat as a member, log out."""
from __future__ import annotations

import re

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e


def test_register_then_chat_as_a_member(open_chat, live_server):
    room = unique("members")
    guest = ChatClient(live_server.url, unique("guest")).connect()
    try:
        assert guest.call("join", {"room": room})["ok"]
        page = open_chat(login=False)
        page.page.locator("#login").get_by_role("link", name="register").click()
        name = unique("member")
        page.page.get_by_label("Name").fill(name)
        page.page.get_by_label("Password", exact=True).fill("correct horse battery")
        page.page.get_by_label("Repeat password").fill("correct horse battery")
        page.page.get_by_role("button", name="Create account").click()

        # Back on the chat, connected by the session cookie: no nickname form.
        page.expect_state("connected")
        expect(page.page.locator("#login")).to_be_hidden()
        expect(page.page.locator("#me-name")).to_have_text(name)
        expect(page.page.get_by_role("link", name="Settings")).to_have_attribute("href", "/auth/settings")
        page.join(room)
        page.send("hello, I have an account now")
        got = guest.wait("message", lambda m: m["text"] == "hello, I have an account now")
        assert got["author"] == name and got["guest"] is False
        expect(page.message_item("hello, I have an account now").locator(".msg-author")).to_have_text(name)
        expect(page.message_item("hello, I have an account now").locator(".tag")).to_have_count(0)
        guest.call("message", {"room": room, "text": "welcome!", "client_id": "welcome-1"})
        expect(page.message_item("welcome!").locator(".tag")).to_have_text("guest")
        page.screenshot("member")

        # Reloading keeps the session; logging out goes back to the nickname form.
        page.page.reload()
        page.expect_state("connected")
        page.page.get_by_role("button", name="Log out").click()
        expect(page.page.locator("#login")).to_be_visible()
        expect(page.page.locator("#login").get_by_role("link", name="Log in")).to_be_visible()
        assert re.search(r"/$", page.page.url)
    finally:
        guest.close()
