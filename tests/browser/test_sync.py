"""Protocol v2 on the page: changes to messages (edits, deletions, reactions, replies, pins) apply
live, once and in their latest state; what changed while the page was away comes back with
``sync`` from the room's seq; a missed change is fetched as soon as a later one shows the gap,
and a room whose change log cannot bring the page up to date is loaded again."""
from __future__ import annotations

import json
import re

import pytest

from tests.browser.pages import expect
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e


class Wire:
    """Sits on the page's WebSocket: loses the server's events named in ``lose`` (once each),
    answers the page's next ``expire`` sync requests with ``sync_expired`` itself, and lets
    the test speak as the server (``emit``)."""

    SYNC = re.compile(r'^42(\d+)\["sync",')

    def __init__(self) -> None:
        self.page_ws = None
        self.lose: list[str] = []
        self.lost: list[str] = []
        self.expire = 0
        self.sent: list[str] = []

    def route(self, ws) -> None:
        server = ws.connect_to_server()
        self.page_ws = ws
        ws.on_message(lambda frame: self.from_page(frame, server))
        server.on_message(self.from_server)

    def from_page(self, frame, server) -> None:
        if isinstance(frame, str):
            self.sent.append(frame)
            sync = self.SYNC.match(frame)
            if sync and self.expire:
                self.expire -= 1
                error = {"ok": False, "error": {"code": "sync_expired", "message": "Reload the room.",
                                                "seq": 0, "compacted_seq": 0}}
                self.page_ws.send(f"43{sync[1]}{json.dumps([error])}")
                return
        server.send(frame)

    def from_server(self, frame) -> None:
        if isinstance(frame, str):
            for event in self.lose:
                if frame.startswith(f'42["{event}"'):
                    self.lose.remove(event)
                    self.lost.append(event)
                    return
        self.page_ws.send(frame)

    def emit(self, event: str, data: dict) -> None:
        self.page_ws.send("42" + json.dumps([event, data]))

    def requests(self, op: str) -> list[dict]:
        return [json.loads(f[f.index("["):])[1] for f in self.sent if re.match(rf'^42\d*\["{op}"', f)]


def author(live_server, accounts) -> ChatClient:
    """An account speaking through the protocol (a bot, say), who creates and so owns a room."""
    [name] = accounts.make("author", tokens=True)
    return ChatClient(live_server.url, name).connect(token=accounts.tokens[name])


def ok(ack: dict) -> dict:
    assert ack["ok"], ack
    return ack


def post(client: ChatClient, room: str, text: str, **more) -> dict:
    return ok(client.call("message", {"room": room, "text": text, "client_id": unique("c"), **more}))["message"]


def test_changes_made_by_others_show_live(open_chat, live_server, accounts):
    room = unique("live")
    alice = author(live_server, accounts)
    try:
        ok(alice.call("create_room", {"room": room}))  # hers: she may pin in it
        ok(alice.call("join", {"room": room}))
        bob = open_chat(unique("bob"))
        bob.join(room)
        first = post(alice, room, "first draft")
        post(alice, room, "stays as it is")
        expect(bob.message("first draft")).to_be_visible()

        ok(alice.call("edit", {"room": room, "id": first["id"], "text": "the final text"}))
        expect(bob.message("the final text")).to_be_visible()
        expect(bob.message("first draft")).to_have_count(0)
        item = bob.message_item("the final text")
        expect(item.locator(".edited-mark")).to_have_text("(edited)")

        ok(alice.call("react", {"room": room, "id": first["id"], "emoji": "👍", "on": True}))
        ok(alice.call("react", {"room": room, "id": first["id"], "emoji": "🎉", "on": True}))
        chips = bob.reactions("the final text")
        expect(chips.locator(".reaction-emoji")).to_have_text(["👍", "🎉"])
        expect(chips.locator(".reaction-count")).to_have_text(["1", "1"])
        expect(chips.first).to_have_attribute("title", f"{alice.name} reacted with 👍")
        expect(chips.first).to_have_attribute("aria-pressed", "false")
        ok(alice.call("react", {"room": room, "id": first["id"], "emoji": "🎉", "on": False}))
        expect(chips.locator(".reaction-emoji")).to_have_text(["👍"])

        # A reply lives in its thread: the root says how many there are.
        post(alice, room, "an answer in the thread", reply_to=first["id"])
        expect(item.locator(".replies-link")).to_have_text("1 reply")
        expect(bob.message("an answer in the thread")).to_have_count(0)

        ok(alice.call("pin", {"room": room, "id": first["id"], "on": True}))
        expect(item.locator(".pin-mark")).to_have_text("📌 Pinned")

        ok(alice.call("delete_message", {"room": room, "id": first["id"]}))
        expect(bob.message("the final text")).to_have_count(0)
        expect(bob.page.locator("#messages .msg-text")).to_have_text(["stays as it is"])
        bob.screenshot("sync-live")
    finally:
        alice.close()


def test_what_changed_while_away_shows_after_a_reconnect_and_a_reload(open_account, accounts, live_server):
    """An account (no guest name to wait for) on long-polling loses its connection, and later
    its page reloads while the server cannot be reached; each time the room has moved on."""
    room = unique("away")
    alice = author(live_server, accounts)
    [reader] = accounts.make("reader")
    try:
        ok(alice.call("create_room", {"room": room}))
        ok(alice.call("join", {"room": room}))
        edited = post(alice, room, "to be edited")
        reacted = post(alice, room, "to be reacted to")
        doomed = post(alice, room, "to be deleted")
        page = open_account(reader, query="?transport=polling")
        sent: list[str] = []  # what the page posts over long-polling
        page.page.on("request", lambda request: request.method == "POST" and sent.append(request.post_data or ""))
        page.join(room)
        expect(page.page.locator("#messages .msg-text")).to_have_text(
            ["to be edited", "to be reacted to", "to be deleted"])

        # Cut off; typing makes the page notice.
        page.page.route("**/socket.io/**", lambda route: route.abort())
        page.composer.press_sequentially("x")
        expect(page.page.locator("#conn-label")).to_contain_text("reconnecting")
        page.composer.fill("")
        ok(alice.call("edit", {"room": room, "id": edited["id"], "text": "edited while you were away"}))
        ok(alice.call("react", {"room": room, "id": reacted["id"], "emoji": "❤️", "on": True}))
        ok(alice.call("delete_message", {"room": room, "id": doomed["id"]}))
        new = post(alice, room, "posted while you were away")
        ok(alice.call("edit", {"room": room, "id": new["id"], "text": "posted and edited while you were away"}))
        page.page.unroute("**/socket.io/**")
        page.expect_state("connected", timeout=25_000)
        expect(page.page.locator("#messages .msg-text")).to_have_text([
            "edited while you were away", "to be reacted to", "posted and edited while you were away"])
        expect(page.reactions("to be reacted to").locator(".reaction-emoji")).to_have_text(["❤️"])
        expect(page.message_item("edited while you were away").locator(".edited-mark")).to_be_visible()
        # What came meanwhile is marked new.
        expect(page.message_item("posted and edited while you were away").locator(".new-divider")).to_have_text(
            "New messages")
        # It asked for the changes since the seq it had (the join's ack said 3), not for the room again.
        syncs = [json.loads(body) for post in sent for body in re.findall(r'42\d*\["sync",(\{[^}]*\})\]', post)]
        assert {"room": room, "since": 3, "limit": 200} in syncs, syncs
        page.screenshot("sync-after-reconnect")

        # A reload that cannot reach the server at first: the room it loads is the server's now.
        page.page.route("**/socket.io/**", lambda route: route.abort())
        page.page.reload()
        expect(page.page.locator("#conn-banner")).to_contain_text("Connecting")
        ok(alice.call("react", {"room": room, "id": edited["id"], "emoji": "👀", "on": True}))
        ok(alice.call("delete_message", {"room": room, "id": reacted["id"]}))
        page.page.unroute("**/socket.io/**")
        page.expect_state("connected", timeout=25_000)
        page.open_room(room)
        expect(page.page.locator("#messages .msg-text")).to_have_text([
            "edited while you were away", "posted and edited while you were away"])
        expect(page.reactions("edited while you were away").locator(".reaction-emoji")).to_have_text(["👀"])
    finally:
        alice.close()


def test_a_missed_change_is_fetched_and_an_expired_log_reloads_the_room(open_chat, live_server, accounts):
    room = unique("gaps")
    wire = Wire()
    page = open_chat(unique("reader"), setup=lambda p: p.route_web_socket("**/socket.io/**", wire.route))
    page.expect_transport("websocket")
    alice = author(live_server, accounts)
    try:
        ok(alice.call("join", {"room": room}))
        page.join(room)
        one = post(alice, room, "one")
        expect(page.message("one")).to_be_visible()

        # A lost reaction: the next change (a new message) shows the gap, and a sync fills it.
        wire.lose.append("reaction")
        ok(alice.call("react", {"room": room, "id": one["id"], "emoji": "👍", "on": True}))
        post(alice, room, "two")
        expect(page.message("two")).to_be_visible()
        expect(page.reactions("one").locator(".reaction-emoji")).to_have_text(["👍"])
        assert wire.lost == ["reaction"]
        syncs = wire.requests("sync")
        assert syncs and syncs[-1]["room"] == room

        # A lost edit, nothing after it: the server's `resync` event brings it.
        wire.lose.append("message_edited")
        ok(alice.call("edit", {"room": room, "id": one["id"], "text": "one, edited"}))
        expect(page.page.locator("#messages .msg-text")).to_have_text(["one", "two"])
        wire.emit("resync", {"rooms": [room], "reason": "message_queue"})
        expect(page.page.locator("#messages .msg-text")).to_have_text(["one, edited", "two"])

        # The log was compacted past the page's seq: the room is loaded again (a second join).
        wire.lose.append("message_deleted")
        ok(alice.call("delete_message", {"room": room, "id": one["id"]}))
        wire.expire = 1
        joins = len(wire.requests("join"))
        wire.emit("resync", {"rooms": [room], "reason": "message_queue"})
        expect(page.page.locator("#messages .msg-text")).to_have_text(["two"])
        assert len(wire.requests("join")) == joins + 1
        # And it carries on from the join's seq.
        post(alice, room, "three")
        expect(page.page.locator("#messages .msg-text")).to_have_text(["two", "three"])
    finally:
        alice.close()


def test_the_client_rule_in_the_store(open_chat):
    """RoomState on its own: the copy with the highest seq wins, a deletion is for good, the
    room's seq moves only over changes applied without a gap, and changes to messages older
    than the history loaded wait for their page."""
    page = open_chat(login=False)
    got = page.page.evaluate("""async () => {
        const { RoomState } = await import("/static/js/store.js");
        const msg = (id, seq, text, more = {}) => ({ id, seq, text, room: "r", author: "a", created_at: "2025-01-01T00:00:00Z",
            reactions: [], reply_to: null, reply_count: 0, pinned: false, edited_at: null, ...more });
        const room = new RoomState("r");
        const out = {};
        room.put(msg(10, 3, "ten"));
        room.put(msg(11, 4, "eleven"));
        room.paged([msg(10, 3, "ten")]);
        out.edited = room.put(msg(10, 6, "ten, edited"), { known: true });
        out.late = room.put(msg(10, 5, "ten, an older edit"), { known: true });
        out.text = room.message(10).text;
        out.deleted = room.removeMessage(11);
        out.back = room.put(msg(11, 9, "eleven again"));
        out.older = room.put(msg(5, 8, "five, reacted to"), { known: true });
        out.olderShown = room.indexOf(5);
        out.olderPage = room.put(msg(5, 8, "five, reacted to"));
        out.reply = room.put(msg(12, 10, "a reply", { reply_to: 10 }));
        out.timeline = room.items.map((item) => item.id);
        // seq: 4 from the join; 6 and 7 come live, 5 is missing; a sync says 7.
        room.setSeq(4);
        out.gap = [room.noteSeq(6), room.noteSeq(7), room.seq, room.gap];
        out.filled = [room.noteSeq(5), room.seq, room.gap];
        room.noteSeq(9);
        room.setSeq(8);
        out.synced = [room.seq, room.gap];
        return out;
    }""")
    assert got["edited"] == {"added": False, "index": 0}
    assert got["late"] is None and got["text"] == "ten, edited"
    assert got["deleted"] == 1 and got["back"] is None
    assert got["older"] == {"added": False, "index": -1} and got["olderShown"] == -1
    assert got["olderPage"] == {"added": True, "index": 0}
    assert got["reply"] == {"added": True, "index": -1}
    assert got["timeline"] == [5, 10]
    assert got["gap"] == [True, True, 4, True]
    assert got["filled"] == [False, 7, False]
    assert got["synced"] == [9, False]
