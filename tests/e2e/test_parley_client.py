"""examples/parley_client.py against the real server: edits, deletions, reactions, pins and replies
reach every client's view and callbacks; a client kept away catches up through ``sync`` (compacted
callbacks, queued operations sent once); a lost live event is found when its gap stays open; and a
``sync_expired`` reloads the room. (tests/delivery runs it under faults.)"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from examples.parley_client import ParleyClient, ParleyError
from tests.delivery.support import database_app, drop_transport, make_tokens, room_state
from tests.support import eventually, unique
from webapp.chat import changes
from webapp.extensions import db
from webapp.models import Room, utcnow

EVENTS = ("message", "message_edited", "message_deleted", "reaction", "pin", "replies")


class Person(ParleyClient):
    """A client that records its callbacks, and reconnects only while ``gate`` is open."""

    def __init__(self, **options) -> None:
        super().__init__(transports=["websocket"], reconnect_delay=(0.05, 0.2), **options)
        self.gate, self.events = threading.Event(), []
        self.gate.set()
        for event in EVENTS:
            self.on(event, lambda data, event=event: self.events.append((event, data)))

    def _try_connect(self):
        return super()._try_connect() if self.gate.wait(0.1) else "kept away by the test"

    def stay_away(self) -> None:
        """Drop the connection the way a network does, and stay offline until ``gate`` opens."""
        self.gate.clear()
        drop_transport(self)
        settles(lambda: not self.connected, "the connection to drop")


def settles(check, what: str, timeout: float = 15.0) -> None:
    assert eventually(check, timeout), f"waited {timeout}s for {what}"


@pytest.fixture
def people():
    """``people(server, "alice", admin=False, **options)``: a connected Person with a token."""
    opened, apps = [], {}

    def person(server, role: str, admin: bool = False, **options) -> Person:
        app = apps.setdefault(server.url, database_app(server.env["DATABASE_URL"]))
        name = unique(role)
        token = make_tokens(app, [name], admins=(name,) if admin else ())[name]
        client = Person(**options)
        client.name = name
        opened.append(client)
        client.connect(server.url, {"token": token})
        return client

    yield person
    for client in opened:
        client.close()


def in_sync(server, room: str, *clients: Person) -> None:
    """Wait until every client's view equals the room as the database has it now."""
    app = database_app(server.env["DATABASE_URL"])

    def same() -> bool:
        state = list(room_state(app, room).values())
        return all(c.messages(room) == state for c in clients)

    settles(same, f"the views of {room} to equal the server's")


def room_seq(server, room: str) -> int:
    with database_app(server.env["DATABASE_URL"]).app_context():
        return db.session.scalar(select(Room.seq).where(Room.name == room))


def test_changes_reach_every_view_and_callback_live(live_server, people):
    room = unique("conv")
    alice, bob = people(live_server, "alice", admin=True), people(live_server, "bob")
    for client in (alice, bob):
        client.join(room)
    hello = alice.send(room, "helo")
    edited = alice.edit(room, hello["id"], "hello")
    assert edited["text"] == "hello" and edited["edited_at"] and edited["seq"] > hello["seq"]
    assert bob.react(room, hello["id"], "👍")["reactions"] == [
        {"emoji": "👍", "count": 1, "users": [bob.name]}]
    reply = bob.reply(room, hello["id"], "hi!")
    again = alice.reply(room, reply["id"], "a reply to a reply joins the root's thread")
    assert reply["reply_to"] == again["reply_to"] == hello["id"]
    assert alice.pin(room, hello["id"])["pinned"] is True
    assert bob.delete(room, reply["id"]) is None
    for refused, code in ((lambda: bob.edit(room, hello["id"], "mine now"), "forbidden"),
                          (lambda: bob.react(room, hello["id"], "lol"), "invalid_emoji"),
                          (lambda: bob.pin(room, hello["id"]), "forbidden")):
        with pytest.raises(ParleyError) as error:
            refused()
        assert error.value.code == code

    in_sync(live_server, room, alice, bob)
    [root, last] = bob.messages(room)
    assert (root["text"], root["pinned"], root["reply_count"]) == ("hello", True, 1)
    assert root["reactions"] == [{"emoji": "👍", "count": 1, "users": [bob.name]}]
    assert last["id"] == again["id"]
    thread = bob.thread(room, hello["id"])
    assert thread["root"] == root and thread["replies"] == [last]
    assert [p["id"] for p in bob.pins(room)] == [hello["id"]]
    assert bob.seq(room) == alice.seq(room) == room_seq(live_server, room)
    # Live, each change came to the callbacks once, in order, with its details.
    seen = [(event, data["id"], data.get("emoji") or data.get("by") or data.get("reply"))
            for event, data in bob.events]
    assert seen == [
        ("message", hello["id"], None), ("message_edited", hello["id"], None),
        ("reaction", hello["id"], "👍"), ("message", reply["id"], None),
        ("replies", hello["id"], reply["id"]), ("message", again["id"], None),
        ("replies", hello["id"], again["id"]), ("pin", hello["id"], alice.name),
        ("message_deleted", reply["id"], bob.name), ("replies", hello["id"], None),
    ]


def test_a_client_kept_away_catches_up_through_sync(live_server, people):
    room = unique("away")
    alice, bob = people(live_server, "alice"), people(live_server, "bob")
    for client in (alice, bob):
        client.join(room)
    keep, gone = alice.send(room, "keep"), alice.send(room, "gone")
    in_sync(live_server, room, alice, bob)
    bob.events.clear()

    bob.stay_away()
    queued = bob.react(room, keep["id"], "🎉", wait=False)  # sent once bob is back
    alice.edit(room, keep["id"], "kept, edited")
    alice.react(room, keep["id"], "👍")
    alice.delete(room, gone["id"])
    new = alice.send(room, "new")
    reply = alice.reply(room, new["id"], "a reply while bob was away")
    brief = alice.send(room, "posted and deleted while bob was away")
    alice.delete(room, brief["id"])
    assert [m["id"] for m in bob.messages(room)] == [keep["id"], gone["id"]]
    assert bob.events == [] and not queued.done.is_set()

    bob.gate.set()
    assert [r["emoji"] for r in queued.result(timeout=15)["reactions"]] == ["👍", "🎉"]
    in_sync(live_server, room, alice, bob)
    assert bob.messages(room)[0]["text"] == "kept, edited"
    assert [data["id"] for event, data in bob.events if event == "message"] == [
        new["id"], reply["id"]]  # in id order; never the one deleted meanwhile
    assert ("message_deleted", gone["id"]) in [(e, d["id"]) for e, d in bob.events]
    assert brief["id"] not in [data["id"] for _, data in bob.events]
    # keep's edit and reaction came compacted, as one callback named after the latest change
    # (no details: sync has none); then bob's own reaction, live.
    about_keep = [(event, data) for event, data in bob.events if data["id"] == keep["id"]]
    assert [event for event, _ in about_keep] == ["reaction", "reaction"]
    assert "emoji" not in about_keep[0][1] and about_keep[1][1]["emoji"] == "🎉"
    assert about_keep[0][1]["message"]["text"] == "kept, edited"
    assert bob.seq(room) == room_seq(live_server, room)


def test_a_lost_live_event_is_found_once_its_gap_stays_open(live_server, people):
    room = unique("gap")
    alice = people(live_server, "alice")
    bob = Person(gap_wait=0.5)
    lost, deliver = [], bob._on_change

    def lossy(kind: str, data: dict) -> None:  # loses the first reaction, as a dying process would
        if kind == "reaction" and not lost:
            lost.append(data)
            return
        deliver(kind, data)

    bob._on_change = lossy
    app = database_app(live_server.env["DATABASE_URL"])
    name = unique("bob")
    try:
        bob.connect(live_server.url, {"token": make_tokens(app, [name])[name]})
        for client in (alice, bob):
            client.join(room)
        first = alice.send(room, "first")
        in_sync(live_server, room, alice, bob)
        alice.react(room, first["id"], "👍")
        settles(lambda: lost, "the reaction to be lost")
        seq = bob.seq(room)
        assert bob.messages(room)[0]["reactions"] == [] and seq == lost[0]["seq"] - 1
        second = alice.send(room, "second")  # its seq shows bob the gap; a sync closes it
        settles(lambda: bob.seq(room) == second["seq"], "the gap to close")
        in_sync(live_server, room, alice, bob)
        assert bob.stats["healed"] == 1 and bob.stats["connects"] == 1
        assert bob.seq(room) == room_seq(live_server, room)
    finally:
        bob.close()


def test_sync_expired_reloads_the_room(fresh_server, people):
    fresh_server.start()
    room = unique("expired")
    alice, bob = people(fresh_server, "alice"), people(fresh_server, "bob")
    for client in (alice, bob):
        client.join(room)
    keep, gone, same = (alice.send(room, text) for text in ("keep", "gone", "same"))
    in_sync(fresh_server, room, alice, bob)
    bob.events.clear()

    bob.stay_away()
    alice.edit(room, keep["id"], "kept, edited")
    alice.delete(room, gone["id"])
    new = alice.send(room, "new")
    with database_app(fresh_server.env["DATABASE_URL"]).app_context():  # the deletion is old now
        assert changes.compact(now=utcnow() + timedelta(days=31)) == 1
    bob.gate.set()
    in_sync(fresh_server, room, alice, bob)
    assert bob.stats["reloads"] == 1
    assert [(event, data["id"]) for event, data in bob.events] == [
        ("message_deleted", gone["id"]), ("message_edited", keep["id"]), ("message", new["id"])]
    assert same["id"] in [m["id"] for m in bob.messages(room)]
    assert bob.seq(room) == room_seq(fresh_server, room)


def test_profiles_are_read_and_changed_and_others_hear_of_it(live_server, people):
    alice, bob = people(live_server, "alice"), people(live_server, "bob")
    room = unique("profiles")
    heard = []
    bob.on("profile", heard.append)
    alice.join(room)
    bob.join(room)
    card = alice.set_profile(display_name="Alice", status={"text": "Testing", "emoji": "🧪",
                                                           "expires_in": 600})
    assert card["display_name"] == "Alice" and card["status"]["emoji"] == "🧪"
    settles(lambda: heard and heard[-1] == card, "bob to hear of alice's profile")
    assert bob.profile(alice.name) == card
    assert alice.set_profile(status=None)["display_name"] == "Alice"  # left out: kept
    with pytest.raises(ParleyError) as refused:
        bob.set_profile(display_name="x" * 65)
    assert refused.value.code == "invalid_display_name"
    with pytest.raises(ParleyError) as missing:
        bob.profile(unique("nobody"))
    assert missing.value.code == "not_found"
