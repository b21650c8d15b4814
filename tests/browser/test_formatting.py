"""Light formatting (links, code, @mentions), mention notifications, the unread title and the
"New messages" divider, as the people in a room see them."""
from __future__ import annotations

import os
import re

import pytest

from tests.browser.pages import ROOT, expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

# Stand-ins for what a headless browser cannot do by itself: a Notification API that records
# what it shows (permission not asked yet), and a tab the test can hide and show.
FAKE_DESKTOP = """
window.__notes = [];
class FakeNotification {
  constructor(title, options) { window.__notes.push({ title, body: options.body }); }
  close() {}
  static requestPermission() { FakeNotification.permission = "granted"; return Promise.resolve("granted"); }
}
FakeNotification.permission = "default";
Object.defineProperty(window, "Notification", { value: FakeNotification, configurable: true, writable: true });
let hidden = false;
Object.defineProperty(Document.prototype, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
Object.defineProperty(Document.prototype, "hidden", { get: () => hidden });
window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event("visibilitychange")); };
"""

# (text, tokens) for the parser; tokens are (type, value).
PARSED = [
    ("plain words", [("text", "plain words")]),
    ("see https://example.org/a_(b). ok", [("text", "see "), ("link", "https://example.org/a_(b)"), ("text", ". ok")]),
    ("(https://example.org/x)", [("text", "("), ("link", "https://example.org/x"), ("text", ")")]),
    ("javascript:alert(1) and ftp://x", [("text", "javascript:alert(1) and ftp://x")]),
    ("hi @bob, mail bob@example.com", [("text", "hi "), ("mention", "bob"), ("text", ", mail bob@example.com")]),
    ("`a @b https://c`", [("code", "a @b https://c")]),
    ("x ```py\nprint(1)\n``` y", [("text", "x "), ("codeblock", "print(1)"), ("text", " y")]),
    ("``` <b>no</b> ```", [("codeblock", " <b>no</b> ")]),
    ("unclosed `code and ```block", [("text", "unclosed `code and ```block")]),
]


def test_the_parser_splits_text_into_safe_tokens(open_chat):
    page = open_chat(login=False)
    got = page.page.evaluate(
        """async (texts) => {
            const { parse } = await import("/static/js/richtext.js");
            return texts.map((text) => parse(text).map((t) => [t.type, t.value]));
        }""",
        [text for text, _ in PARSED],
    )
    for (text, tokens), answer in zip(PARSED, got):
        assert [tuple(token) for token in answer] == tokens, text


def test_mentions_links_code_and_the_new_messages_divider(open_chat, live_server):
    room = unique("design")
    alice = open_chat(unique("alice"))
    alice.join(room)
    bob = open_chat(unique("bob"), init_script=FAKE_DESKTOP)
    bob.join(room)
    guest = ChatClient(live_server.url, unique("carol")).connect()
    try:
        assert guest.call("join", {"room": room})["ok"]
        _mention_notifies_a_hidden_tab(alice, bob, room)
        _unread_rooms_get_a_divider(alice, bob, guest, room)
    finally:
        guest.close()


def _mention_notifies_a_hidden_tab(alice, bob, room):
    # Asked politely: a prompt with a button, and nothing until it is pressed.
    prompt = bob.page.locator("#notify-prompt")
    expect(prompt).to_be_visible()
    prompt.get_by_role("button", name="Enable").click()
    expect(prompt).to_be_hidden()

    bob.page.evaluate("window.__setHidden(true)")
    text = (f"@{bob.name} the spec is at https://example.org/spec?v=2. "
            "Use `parse(<text>)` there, not this:\n```\n<b onclick=alert(1)>bold</b>\n```")
    alice.send(text)
    item = bob.page.locator("#messages .msg").filter(has_text="the spec is at")
    expect(item).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(item.locator(".mention-me")).to_have_text(f"@{bob.name}")
    link = item.locator("a")
    expect(link).to_have_attribute("href", "https://example.org/spec?v=2")
    expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    expect(link).to_have_attribute("target", "_blank")
    expect(item.locator("code").first).to_have_text("parse(<text>)")
    expect(item.locator("pre code")).to_have_text("<b onclick=alert(1)>bold</b>")
    expect(bob.page.locator("#messages b, #messages [onclick]")).to_have_count(0)
    # The hidden tab counts it in its title and shows a desktop notification.
    expect(bob.page).to_have_title(re.compile(rf"^\(1\) #{room}"))
    notes = bob.page.evaluate("window.__notes")
    assert notes == [{"title": f"{alice.name} mentioned you in #{room}", "body": text}]
    # Coming back to the tab reads it.
    bob.page.evaluate("window.__setHidden(false)")
    expect(bob.page).to_have_title(f"#{room} · Parley")


def _unread_rooms_get_a_divider(alice, bob, guest, room):
    bob.open_room("general")
    alice.send("First thing while you were away")
    alice.send("and a second thing, grouped with the first")
    # Stored before the guest speaks (sending returns at once): else the guest's could come between.
    expect(alice.message("and a second thing, grouped with the first")).to_be_visible()
    guest.call("message", {"room": room, "text": f"Agreed with @{alice.name}", "client_id": "g-1"})
    expect(bob.room_button(room).locator(".badge")).to_have_text("3")
    expect(bob.page).to_have_title("(3) #general · Parley")

    bob.open_room(room)
    expect(bob.page).to_have_title(f"#{room} · Parley")
    first_new = bob.page.locator("#messages .msg.first-new")
    expect(first_new).to_have_count(1)
    expect(first_new.locator(".new-divider")).to_have_text("New messages")
    expect(first_new.locator(".msg-text")).to_have_text("First thing while you were away")
    # Grouping: alice's second message hangs under her first; the guest starts a new group.
    expect(bob.message_item("and a second thing, grouped with the first")).to_have_class(re.compile(r"\bcontinued\b"))
    carol = bob.message_item(f"Agreed with @{alice.name}")
    expect(carol).not_to_have_class(re.compile(r"\bcontinued\b"))
    expect(carol.locator(".tag")).to_have_text("guest")
    expect(bob.message_item("First thing while you were away").locator(".tag")).to_have_text("guest")
    bob.send(f"Thanks @{alice.name}, reading it now.")
    expect(alice.message_item(f"Thanks @{alice.name}, reading it now.")).to_have_class(re.compile(r"\bmentions-me\b"))
    # For the picture: a mention of bob waiting in another room, and alice typing.
    assert guest.call("join", {"room": "general"})["ok"]
    guest.call("message", {"room": "general", "text": f"@{bob.name} got a minute?", "client_id": "g-2"})
    expect(bob.room_button("general").locator(".badge-mention")).to_have_text("@1")
    alice.composer.press_sequentially("Looks good")
    expect(bob.typing).to_have_text(f"{alice.name} is typing...")
    bob.screenshot("formatting-divider")
    # The README's picture is refreshed on request only, so `make test` leaves the tree clean:
    # PARLEY_README_SCREENSHOT=1 make test
    readme = ROOT / "docs" / "screenshot.png" if os.environ.get("PARLEY_README_SCREENSHOT") else None
    bob.screenshot("readme", path=readme)

    alice.composer.fill("")
    # Switching away and back: everything has been read, the divider is gone.
    bob.open_room("general")
    expect(bob.message(f"@{bob.name} got a minute?")).to_be_visible()
    bob.open_room(room)
    expect(bob.page.locator("#messages .new-divider")).to_have_count(0)
