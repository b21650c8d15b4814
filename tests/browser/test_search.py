"""Searching messages in the page: the header's box ("/" or Ctrl+K), results newest first and
grouped by room with the words found marked, filters, paging, errors; a result opened in its room
at the message, with what was said around it; and an owner's controls wherever the room was made."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

SEEDED = 80
SEEDERS = 3  # the server allows one person 30 messages per 10 s


def seed(url: str, room: str, texts: list[str], seeders: int = SEEDERS) -> list[int]:
    """Post ``texts`` to ``room`` in order (shared among guests); answers their ids."""
    clients = [ChatClient(url, unique("seeder")).connect() for _ in range(seeders)]
    try:
        for client in clients:
            assert client.call("join", {"room": room})["ok"]
        ids = []
        per_client = -(-len(texts) // seeders)
        for n, text in enumerate(texts):
            ack = clients[n // per_client].call("message", {"room": room, "text": text, "client_id": f"seed-{n}"})
            assert ack["ok"], ack
            ids.append(ack["message"]["id"])
        return ids
    finally:
        for client in clients:
            client.close()


@pytest.fixture(scope="module")
def long_room(live_server):
    """A room of "message 1" .. "message 80"; 30 and 40 carry a word found twice, 28 one of its own
    (all three older than the 50 that joining the room shows)."""
    room, pair, needle = unique("archive"), unique("pair"), unique("needle")
    texts = [f"message {n}" for n in range(1, SEEDED + 1)]
    texts[29] = f"message 30 {pair}"
    texts[39] = f"message 40 {pair}"
    texts[27] = f"message 28 {needle}"
    return {"room": room, "pair": pair, "needle": needle, "texts": texts,
            "ids": seed(live_server.url, room, texts)}


def shown_ids(page) -> list[int]:
    return page.page.locator("#messages .msg").evaluate_all("nodes => nodes.map(n => +n.dataset.id)")


def test_a_phrase_with_accents_is_found_and_marked(open_chat, live_server):
    room, tag = unique("cafe"), unique("menu")
    seed(live_server.url, room, [
        f"🎉 Le Café est prêt {tag}",  # an emoji first: two UTF-16 units, one code point
        f"the cafe is shut, est-ce vrai {tag}",  # both words, not the phrase
        f"Cafe\u0301 {tag}",  # the accent as a combining mark of its own
    ], seeders=1)
    reader = open_chat(unique("reader"), timezone="UTC")

    # "/" (not in a field) goes to the box; a quoted phrase is found without its accents.
    reader.page.locator("#scroller").focus()
    reader.page.keyboard.press("/")
    expect(reader.search_box).to_be_focused()
    expect(reader.search_box).to_have_value("")
    reader.search(f'"cafe est" {tag}')
    expect(reader.hits).to_have_count(1)
    hit = reader.hits.first
    expect(hit.locator(".hit-text")).to_have_text(f"🎉 Le Café est prêt {tag}")
    expect(hit.locator("mark")).to_have_text(["Café est", tag])
    expect(hit.locator(".msg-author")).to_have_text(re.compile(r"^seeder-"))
    expect(hit.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(reader.page.locator("#search-results .search-room")).to_have_text([f"#{room}"])
    expect(reader.search_status).to_have_text("1 message found.")
    reader.screenshot("search-results")

    # Any case, any accent; newest first; an accent typed apart is marked with its letter.
    reader.search(f"CAFÉ {tag}")
    expect(reader.hits.locator(".hit-text")).to_have_text([
        f"Cafe\u0301 {tag}", f"the cafe is shut, est-ce vrai {tag}", f"🎉 Le Café est prêt {tag}"])
    expect(reader.hits.nth(0).locator("mark")).to_have_text(["Cafe\u0301", tag])
    expect(reader.hits.nth(1).locator("mark")).to_have_text(["cafe", tag])

    # Nothing found: said so. Too short a query, or one the server refuses: said inline.
    reader.search(f"{tag} croissant")
    expect(reader.hits).to_have_count(0)
    expect(reader.search_status).to_have_text(f"No messages match “{tag} croissant”.")
    reader.search("ab")
    expect(reader.search_error).to_contain_text("at least 3 characters")
    reader.page.locator("#search-author").fill("not a name!")
    reader.search(tag)
    expect(reader.search_error).to_contain_text("Could not search:")
    expect(reader.hits).to_have_count(0)

    # Filters: the author, and the days (in the browser's time zone, UTC here) it was said.
    reader.page.locator("#search-author").fill("")
    reader.page.locator("#search-author").press("Enter")
    expect(reader.hits).to_have_count(3)
    expect(reader.search_error).to_have_text("")
    today = datetime.now(UTC).date()
    reader.page.locator("#search-to").fill((today - timedelta(days=1)).isoformat())
    expect(reader.search_status).to_have_text(f"No messages match “{tag}” with these filters.")
    reader.page.locator("#search-to").fill(today.isoformat())
    reader.page.locator("#search-from").fill(today.isoformat())
    expect(reader.hits).to_have_count(3)
    reader.page.locator("#search-author").fill("nobody-of-that-name")
    reader.page.locator("#search-author").press("Enter")
    expect(reader.hits).to_have_count(0)

    # Escape in the box closes the results.
    reader.search_box.press("Escape")
    expect(reader.page.locator("#search-view")).to_be_hidden()
    expect(reader.composer).to_be_focused()


def test_a_private_rooms_messages_are_not_found_by_others(open_chat, accounts, live_server):
    [owner_name] = accounts.make("owner", tokens=True)
    secret, tag = unique("secret"), unique("plan")
    owner = ChatClient(live_server.url, owner_name).connect(token=accounts.tokens[owner_name])
    try:
        assert owner.call("create_room", {"room": secret, "private": True})["ok"]
        assert owner.call("join", {"room": secret})["ok"]
        assert owner.call("message", {"room": secret, "text": f"the secret {tag}"})["ok"]
        assert owner.call("join", {"room": "general"})["ok"]
        assert owner.call("message", {"room": "general", "text": f"the public {tag}"})["ok"]
        # Its member finds both: the secret one is there to find.
        assert len(owner.call("search", {"q": tag})["results"]) == 2
    finally:
        owner.close()

    outsider = open_chat(unique("outsider"))
    outsider.search(tag)
    expect(outsider.hits).to_have_count(1)
    expect(outsider.hits.locator(".hit-text")).to_have_text(f"the public {tag}")
    expect(outsider.page.locator("#search-results")).not_to_contain_text("secret")
    # Asking for the room by name tells nothing either.
    outsider.page.locator("#join-room").fill(secret)
    outsider.page.locator("#join-room").press("Enter")
    expect(outsider.page.locator("#join-error")).to_contain_text("private")
    outsider.search(f"secret {tag}")
    expect(outsider.hits).to_have_count(0)


def test_a_result_in_another_room_opens_at_the_message_in_its_context(open_chat, long_room):
    room, ids, texts = long_room["room"], long_room["ids"], long_room["texts"]
    reader = open_chat(unique("reader"))
    expect(reader.title).to_have_text("#general")

    reader.search(long_room["needle"])
    expect(reader.hits).to_have_count(1)
    reader.hits.first.click()

    # The room is joined and open at the message, with what came before and after it.
    expect(reader.title).to_have_text(f"#{room}")
    expect(reader.room_button(room)).to_have_class(re.compile(r"\bjoined\b"))
    target = reader.message_item(texts[27])
    expect(target).to_be_in_viewport()
    expect(target).to_be_focused()
    expect(target).to_have_class(re.compile(r"\bflash\b"))
    expect(reader.message("message 27")).to_have_count(1)
    expect(reader.message("message 29")).to_have_count(1)
    # About half a page each side (3-52 of 1-80): not the live end, not the start.
    expect(reader.message("message 3")).to_have_count(1)
    expect(reader.message("message 52")).to_have_count(1)
    expect(reader.message("message 80")).to_have_count(0)
    expect(reader.message("message 2")).to_have_count(0)
    assert shown_ids(reader) == ids[2:52]
    jump = reader.page.locator("#jump-latest")
    expect(jump).to_have_text("Jump to latest ↓")
    expect(jump).to_be_visible()
    # The results stay beside it (a wide screen), for the next one.
    expect(reader.page.locator("#search-view")).to_be_visible()
    reader.screenshot("search-opened-in-context")

    # Scrolling up loads the older messages, as ever.
    reader.page.locator("#scroller").evaluate("node => { node.scrollTop = 0; }")
    expect(reader.message("message 1")).to_have_count(1)
    expect(reader.page.locator("#history-status")).to_have_text(f"This is the beginning of #{room}.")
    expect(reader.message("message 80")).to_have_count(0)

    # "Jump to latest": back at the live end, where new messages show as they come.
    jump.click()
    expect(reader.message("message 80")).to_be_in_viewport()
    expect(jump).to_be_hidden()
    assert shown_ids(reader) == ids[30:]
    reader.send("back at the end")
    expect(reader.message("back at the end")).to_be_in_viewport()


def test_the_keyboard_finds_and_opens_a_result_and_scrolling_down_reaches_the_end(open_chat, long_room, live_server):
    room, texts = long_room["room"], long_room["texts"]
    reader = open_chat(unique("reader"))
    expect(reader.title).to_have_text("#general")

    # Ctrl+K from the composer, then the arrows walk the results and Enter opens one.
    reader.composer.press("Control+k")
    expect(reader.search_box).to_be_focused()
    reader.page.keyboard.type(long_room["pair"])
    reader.page.keyboard.press("Enter")
    expect(reader.hits).to_have_count(2)
    expect(reader.hits.locator(".hit-text")).to_have_text([texts[39], texts[29]])  # newest first
    reader.page.keyboard.press("ArrowDown")
    expect(reader.hits.nth(0)).to_be_focused()
    reader.page.keyboard.press("ArrowDown")
    expect(reader.hits.nth(1)).to_be_focused()
    reader.page.keyboard.press("ArrowUp")
    reader.page.keyboard.press("ArrowUp")
    expect(reader.search_box).to_be_focused()
    reader.page.keyboard.press("ArrowDown")
    reader.page.keyboard.press("End")
    expect(reader.hits.nth(1)).to_be_focused()
    reader.page.keyboard.press("Enter")
    expect(reader.title).to_have_text(f"#{room}")
    expect(reader.message_item(texts[29])).to_be_focused()
    expect(reader.message("message 80")).to_have_count(0)

    # Meanwhile someone writes at the live end: the button says so, the stretch shown stays.
    friend = ChatClient(live_server.url, unique("friend")).connect()
    try:
        assert friend.call("join", {"room": room})["ok"]
        assert friend.call("message", {"room": room, "text": "said just now"})["ok"]
        jump = reader.page.locator("#jump-latest")
        expect(jump).to_have_text("New messages: jump to latest ↓")
        expect(reader.message("said just now")).to_have_count(0)
        expect(reader.message_item(texts[29])).to_be_in_viewport()
    finally:
        friend.close()

    # Scrolling down loads the newer pages until the live end, which is there as usual.
    reader.page.locator("#scroller").evaluate("node => { node.scrollTop = node.scrollHeight; }")
    expect(reader.message("message 80")).to_have_count(1)
    expect(reader.message("said just now")).to_have_count(1)
    expect(reader.page.locator("#jump-latest")).to_be_hidden()
    ids = shown_ids(reader)
    assert ids == sorted(set(ids))
    assert ids[:len(long_room["ids"]) - 4] == long_room["ids"][4:]


def test_on_a_phone_a_result_opens_clear_of_the_panel_and_a_reply_in_its_thread(open_chat, live_server):
    room, tag = unique("phone"), unique("asked")
    texts = [f"line {n}" for n in range(1, 61)]
    texts[4] = f"line 5 {tag}"
    ids = seed(live_server.url, room, texts, seeders=2)
    answerer = ChatClient(live_server.url, unique("answerer")).connect()
    try:
        assert answerer.call("join", {"room": room})["ok"]
        assert answerer.call("message", {"room": room, "text": f"an answer {tag}", "reply_to": ids[4]})["ok"]
    finally:
        answerer.close()
    reader = open_chat(unique("reader"), phone=True)

    reader.search(tag)
    expect(reader.hits.locator(".hit-text")).to_have_text([f"an answer {tag}", f"line 5 {tag}"])
    expect(reader.hits.first.locator(".hit-thread")).to_have_text("in a thread")
    # The panel covers a phone's screen: it makes way for the message.
    reader.hits.nth(1).click()
    expect(reader.page.locator("#search-view")).to_be_hidden()
    expect(reader.title).to_have_text(f"#{room}")
    expect(reader.message_item(f"line 5 {tag}")).to_be_in_viewport()
    expect(reader.message("line 4")).to_have_count(1)
    expect(reader.message("line 60")).to_have_count(0)
    # Writing from there: what one writes goes to the live end, so the page goes there too.
    reader.send("written while reading the past")
    expect(reader.message("written while reading the past")).to_be_in_viewport()
    expect(reader.message("line 60")).to_have_count(1)
    expect(reader.page.locator("#jump-latest")).to_be_hidden()

    # A reply opens in its thread, under its root.
    reader.search(tag)
    reader.hits.first.click()
    expect(reader.thread).to_be_visible()
    expect(reader.page.locator("#thread-root .msg-text")).to_have_text(f"line 5 {tag}")
    expect(reader.page.locator("#thread-list .msg").filter(has_text=f"an answer {tag}")).to_be_focused()


def test_a_pin_further_back_than_the_history_loaded_is_shown_in_its_context(open_chat, accounts, live_server):
    [owner_name] = accounts.make("owner", tokens=True)
    room = unique("pinboard")
    owner = ChatClient(live_server.url, owner_name).connect(token=accounts.tokens[owner_name])
    try:
        assert owner.call("create_room", {"room": room})["ok"]
        ids = seed(live_server.url, room, [f"note {n}" for n in range(1, 61)], seeders=2)
        assert owner.call("join", {"room": room})["ok"]
        assert owner.call("pin", {"room": room, "id": ids[1], "on": True})["ok"]
    finally:
        owner.close()
    reader = open_chat(unique("reader"))
    reader.join(room)
    expect(reader.message("note 60")).to_be_visible()
    expect(reader.message("note 2")).to_have_count(0)
    reader.page.locator("#open-pins").click()
    reader.page.locator("#pin-list .pin").get_by_role("button", name=re.compile("^Show")).click()
    expect(reader.message_item("note 2")).to_be_focused()
    expect(reader.message_item("note 2")).to_be_in_viewport()
    expect(reader.message("note 1")).to_have_count(1)
    expect(reader.message("note 3")).to_have_count(1)
    expect(reader.message("note 60")).to_have_count(0)
    # Back to the room from the sidebar: at its live end again.
    reader.room_button(room).click()
    expect(reader.message("note 60")).to_be_in_viewport()
    expect(reader.page.locator("#jump-latest")).to_be_hidden()


def test_more_results_come_a_page_at_a_time(open_chat, live_server):
    room, tag = unique("many"), unique("often")
    seed(live_server.url, room, [f"{tag} number {n}" for n in range(1, 26)], seeders=1)
    reader = open_chat(unique("reader"))
    reader.search(tag)
    expect(reader.hits).to_have_count(20)
    expect(reader.search_status).to_have_text("20 messages found so far.")
    expect(reader.hits.first.locator(".hit-text")).to_have_text(f"{tag} number 25")
    more = reader.page.get_by_role("button", name="More results")
    expect(more).to_be_visible()
    # The keyboard reaches it after the last result; the first new result takes focus.
    reader.hits.last.focus()
    reader.page.keyboard.press("ArrowDown")
    expect(more).to_be_focused()
    reader.page.keyboard.press("Enter")
    expect(reader.hits).to_have_count(25)
    expect(reader.hits.nth(20)).to_be_focused()
    expect(reader.hits.last.locator(".hit-text")).to_have_text(f"{tag} number 1")
    expect(reader.search_status).to_have_text("25 messages found.")
    expect(more).to_be_hidden()
    # One room, one group.
    expect(reader.page.locator("#search-results .search-group")).to_have_count(1)

    # This room only: from the room the results are not in, none.
    reader.page.locator("#search-room").select_option("room")
    expect(reader.search_status).to_have_text(f"No messages match “{tag}” with these filters.")
    # It follows the room in view.
    reader.open_room(room)
    expect(reader.hits).to_have_count(20)
    expect(reader.page.locator("#search-room option[value=room]")).to_have_text(f"This room (#{room})")
    reader.page.locator("#search-room").select_option("all")
    expect(reader.search_status).to_have_text("20 messages found so far.")


def test_too_many_searches_are_answered_inline(open_chat):
    reader = open_chat(unique("hasty"))
    reader.search_box.fill(unique("anything"))
    for _ in range(22):  # the server allows 20 in 10 s
        reader.search_box.press("Enter")
    expect(reader.search_error).to_contain_text("Too many searches in a short time: try again in")


def test_an_owner_has_the_controls_of_a_room_made_elsewhere(open_account, accounts, live_server):
    """The room is created by a program (the owner's API token); the owner's browser, which never
    saw it made, shows the owner's controls from the join's answer."""
    owner_name, bob_name = accounts.make("owner", "bob", tokens=True)
    private, public = unique("den"), unique("square")
    owner_client = ChatClient(live_server.url, owner_name).connect(token=accounts.tokens[owner_name])
    bob_client = ChatClient(live_server.url, bob_name).connect(token=accounts.tokens[bob_name])
    guest = ChatClient(live_server.url, unique("guest")).connect()
    try:
        assert owner_client.call("create_room", {"room": private, "private": True})["ok"]
        assert owner_client.call("create_room", {"room": public})["ok"]
        assert owner_client.call("invite", {"room": private, "user": bob_name})["ok"]
        assert bob_client.call("join", {"room": private})["ok"]
        assert bob_client.call("message", {"room": private, "text": "bob was here"})["ok"]
        assert guest.call("join", {"room": public})["ok"]
        assert guest.call("message", {"room": public, "text": "a guest was here"})["ok"]

        owner = open_account(owner_name)
        owner.join(private)
        expect(owner.page.get_by_role("button", name="Invite", exact=True)).to_be_visible()
        expect(owner.action("bob was here", "Delete")).to_be_visible()
        owner.members.get_by_role("button", name=re.compile(f"^{re.escape(bob_name)}")).click()
        card = owner.page.get_by_role("dialog", name=bob_name)
        expect(card.get_by_role("button", name=f"Remove from #{private}")).to_be_visible()
        owner.page.keyboard.press("Escape")
        expect(card).to_have_count(0)

        # A public room of theirs: they pin there (others may not) and delete anyone's message.
        owner.join(public)
        expect(owner.page.get_by_role("button", name="Invite", exact=True)).to_be_hidden()
        expect(owner.action("a guest was here", "Pin")).to_be_visible()
        expect(owner.action("a guest was here", "Delete")).to_be_visible()

        # Bob, a member, has none of it.
        bob = open_account(bob_name)
        bob.join(private)
        expect(bob.page.get_by_role("button", name="Invite", exact=True)).to_be_hidden()
        bob.join(public)
        expect(bob.action("a guest was here", "Pin")).to_have_count(0)
        expect(bob.action("a guest was here", "Delete")).to_have_count(0)
    finally:
        for client in (owner_client, bob_client, guest):
            client.close()
