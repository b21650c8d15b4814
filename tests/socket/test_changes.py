"""Conversations (protocol v2): edit, delete, react, reply, pin, and the room change log (seq,
sync), through the Socket.IO handlers. /ws runs the same table (tests/gateway/
test_every_operation.py); the real server under faults is tests/delivery's.

Attacks tried: editing or deleting someone else's message, a guest editing, reacting with text or
a flood of emoji, pinning in a public room without owning it, replying across rooms, reading a
deleted message's versions, syncing from a seq the room never reached.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.socket.conftest import call, received
from webapp.chat import changes
from webapp.extensions import db
from webapp.models import Message, MessageEdit, utcnow

ROOM = "general"


@pytest.fixture
def two(users):
    """alice and bob, both in ``general``, their event queues empty."""
    alice, bob = users("alice"), users("bob")
    for client in (alice, bob):
        assert call(client, "join", {"room": ROOM})["ok"]
        client.get_received()
    return alice, bob


def post(client, text, **more):
    ack = call(client, "message", {"room": ROOM, "text": text, **more})
    assert ack["ok"], ack
    return ack["message"]


def code(ack):
    assert ack.get("ok") is not True, ack
    return ack["error"]["code"]


# -- edit --------------------------------------------------------------------------------------
def test_the_author_edits_and_everyone_sees_it_once(two):
    alice, bob = two
    msg = post(alice, "helo")
    bob.get_received()
    ack = call(alice, "edit", {"room": ROOM, "id": msg["id"], "text": "hello"})
    assert ack["ok"] and ack["message"]["text"] == "hello" and ack["message"]["edited_at"]
    [event] = received(bob, "message_edited")
    assert event["room"] == ROOM and event["id"] == msg["id"] and event["seq"] == msg["seq"] + 1
    assert event["message"]["text"] == "hello" and event["message"]["seq"] == event["seq"]
    history = call(bob, "history", {"room": ROOM})["messages"]
    assert [(m["text"], m["edited_at"] is not None) for m in history] == [("hello", True)]
    versions = call(bob, "edits", {"room": ROOM, "id": msg["id"]})["versions"]
    assert [v["text"] for v in versions] == ["helo", "hello"]
    assert versions[0]["at"] == msg["created_at"]


def test_only_the_author_edits_and_bad_text_changes_nothing(two, connect):
    alice, bob = two
    msg = post(alice, "mine")
    assert code(call(bob, "edit", {"room": ROOM, "id": msg["id"], "text": "yours"})) == "forbidden"
    guest = connect("guesty")
    call(guest, "join", {"room": ROOM})
    theirs = call(guest, "message", {"room": ROOM, "text": "guest words"})["message"]
    assert code(call(guest, "edit", {"room": ROOM, "id": theirs["id"], "text": "x"})) == "forbidden"
    for bad in ("", " ", "x" * 5000, 42):
        assert code(call(alice, "edit", {"room": ROOM, "id": msg["id"], "text": bad})) in {
            "invalid_text", "invalid_payload"}
    assert code(call(alice, "edit", {"room": ROOM, "id": 10**9, "text": "x"})) == "not_found"
    assert code(call(alice, "edit", {"room": "elsewhere", "id": msg["id"], "text": "x"})) == (
        "not_in_room")
    [stored] = [m for m in call(bob, "history", {"room": ROOM})["messages"] if m["id"] == msg["id"]]
    assert stored["text"] == "mine" and stored["seq"] == msg["seq"] and stored["edited_at"] is None


def test_an_edit_to_the_same_text_is_no_change(two):
    alice, bob = two
    msg = post(alice, "same")
    bob.get_received()
    ack = call(alice, "edit", {"room": ROOM, "id": msg["id"], "text": "same"})
    assert ack["ok"] and ack["message"]["seq"] == msg["seq"]
    assert received(bob, "message_edited") == []


# -- delete ------------------------------------------------------------------------------------
def test_authors_owners_and_admins_delete_and_the_content_is_gone(app, users):
    owner, alice, bob, root = users("owner"), users("alice"), users("bob"), users("root", admin=True)
    assert call(owner, "create_room", {"room": "owned"})["ok"]
    for client in (owner, alice, bob, root):
        call(client, "join", {"room": "owned"})
    posts = [call(alice, "message", {"room": "owned", "text": f"t{i}"})["message"] for i in range(4)]
    call(alice, "edit", {"room": "owned", "id": posts[0]["id"], "text": "t0 edited"})
    assert code(call(bob, "delete_message", {"room": "owned", "id": posts[0]["id"]})) == "forbidden"
    assert code(call(bob, "delete_message", {"id": posts[0]["id"]})) == "forbidden"  # v1: admins
    bob.get_received()
    for who, target in ((alice, posts[0]), (owner, posts[1]), (root, posts[2])):
        assert call(who, "delete_message", {"room": "owned", "id": target["id"]}) == {"ok": True}
    deleted = received(bob, "message_deleted")
    assert [e["id"] for e in deleted] == [p["id"] for p in posts[:3]]
    assert [e["by"] for e in deleted] == ["alice", "owner", "root"]
    assert [m["id"] for m in call(bob, "history", {"room": "owned"})["messages"]] == [posts[3]["id"]]
    assert code(call(bob, "edits", {"room": "owned", "id": posts[0]["id"]})) == "not_found"
    assert code(call(alice, "delete_message", {"room": "owned", "id": posts[0]["id"]})) == "not_found"
    with app.app_context():  # the text and the earlier versions are gone from the database too
        tomb = db.session.get(Message, posts[0]["id"])
        assert tomb.text == "" and tomb.deleted_at is not None
        assert db.session.scalars(select(MessageEdit)).all() == []


def test_a_retry_of_a_deleted_message_is_not_stored_again(two):
    alice, _ = two
    msg = post(alice, "once", client_id="c-1")
    call(alice, "delete_message", {"room": ROOM, "id": msg["id"]})
    ack = call(alice, "message", {"room": ROOM, "text": "once", "client_id": "c-1"})
    assert code(ack) == "message_deleted" and ack["error"]["id"] == msg["id"]
    assert call(alice, "history", {"room": ROOM})["messages"] == []


# -- reactions ---------------------------------------------------------------------------------
def test_reactions_count_each_person_once_and_go_back(two, connect):
    alice, bob = two
    msg = post(alice, "react to me")
    bob.get_received()
    for _ in range(2):  # adding the same reaction twice counts once
        ack = call(bob, "react", {"room": ROOM, "id": msg["id"], "emoji": "👍", "on": True})
        assert ack["ok"]
    call(alice, "react", {"room": ROOM, "id": msg["id"], "emoji": "👍", "on": True})
    call(alice, "react", {"room": ROOM, "id": msg["id"], "emoji": "🎉", "on": True})
    events = received(bob, "reaction")
    assert len(events) == 3  # the repeat announced nothing
    assert events[0]["emoji"] == "👍" and events[0]["user"] == "bob" and events[0]["on"] is True
    assert events[-1]["message"]["reactions"] == [
        {"emoji": "👍", "count": 2, "users": ["bob", "alice"]},
        {"emoji": "🎉", "count": 1, "users": ["alice"]},
    ]
    call(bob, "react", {"room": ROOM, "id": msg["id"], "emoji": "👍", "on": False})
    [off] = received(alice, "reaction")[-1:]
    assert off["on"] is False and off["message"]["reactions"][0] == {
        "emoji": "👍", "count": 1, "users": ["alice"]}
    [shown] = call(bob, "history", {"room": ROOM})["messages"]
    assert shown["reactions"] == off["message"]["reactions"] and shown["seq"] == off["seq"]


def test_reactions_are_bounded_and_only_emoji(two):
    alice, bob = two
    msg = post(alice, "bounded")
    for bad in ("lol", "👍👍", "", None, "<script>", 5):
        ack = call(bob, "react", {"room": ROOM, "id": msg["id"], "emoji": bad, "on": True})
        assert code(ack) in {"invalid_emoji", "invalid_payload"}
    marks = ["😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃", "😉"]
    for mark in marks[:changes.MAX_REACTIONS_PER_USER]:
        assert call(bob, "react", {"room": ROOM, "id": msg["id"], "emoji": mark, "on": True})["ok"]
    ack = call(bob, "react", {"room": ROOM, "id": msg["id"], "emoji": marks[-1], "on": True})
    assert code(ack) == "too_many_reactions"
    [shown] = call(alice, "history", {"room": ROOM})["messages"]
    assert [r["emoji"] for r in shown["reactions"]] == marks[:changes.MAX_REACTIONS_PER_USER]


# -- replies and threads -----------------------------------------------------------------------
def test_replies_make_a_thread_and_count_on_the_root(two):
    alice, bob = two
    root = post(alice, "what about lunch?")
    bob.get_received()
    first = post(bob, "pizza", reply_to=root["id"])
    assert first["reply_to"] == root["id"]
    second = post(alice, "again", reply_to=first["id"])  # a reply to a reply joins the root
    assert second["reply_to"] == root["id"]
    counts = received(bob, "replies")
    assert [(e["id"], e["message"]["reply_count"], e["reply"]) for e in counts] == [
        (root["id"], 1, first["id"]), (root["id"], 2, second["id"])]
    assert counts[-1]["seq"] == second["seq"] + 1
    thread = call(bob, "thread", {"room": ROOM, "id": root["id"]})
    assert thread["root"]["reply_count"] == 2 and thread["more"] is False
    assert [m["text"] for m in thread["replies"]] == ["pizza", "again"]
    page = call(bob, "thread", {"room": ROOM, "id": root["id"], "limit": 1})
    assert [m["id"] for m in page["replies"]] == [second["id"]] and page["more"] is True
    older = call(bob, "thread", {"room": ROOM, "id": root["id"], "before": second["id"]})
    assert [m["id"] for m in older["replies"]] == [first["id"]]
    call(bob, "delete_message", {"room": ROOM, "id": first["id"]})
    assert call(bob, "thread", {"room": ROOM, "id": root["id"]})["root"]["reply_count"] == 1


def test_a_reply_must_answer_a_message_of_the_same_room(two):
    alice, _ = two
    call(alice, "join", {"room": "other"})
    elsewhere = call(alice, "message", {"room": "other", "text": "over here"})["message"]
    assert code(call(alice, "message", {"room": ROOM, "text": "x", "reply_to": elsewhere["id"]})) == (
        "not_found")
    assert code(call(alice, "message", {"room": ROOM, "text": "x", "reply_to": "1"})) == (
        "invalid_payload")
    assert call(alice, "history", {"room": ROOM})["messages"] == []


def test_a_retried_reply_is_stored_once(two):
    alice, bob = two
    root = post(alice, "root")
    one = post(bob, "reply", reply_to=root["id"], client_id="r-1")
    again = post(bob, "reply", reply_to=root["id"], client_id="r-1")
    assert again["id"] == one["id"]
    assert call(alice, "thread", {"room": ROOM, "id": root["id"]})["root"]["reply_count"] == 1


# -- pins --------------------------------------------------------------------------------------
def test_pins_in_public_rooms_are_for_owners_and_admins(users):
    owner, alice = users("owner"), users("alice")
    call(owner, "create_room", {"room": "pinned"})
    for client in (owner, alice):
        call(client, "join", {"room": "pinned"})
    msg = call(alice, "message", {"room": "pinned", "text": "read me"})["message"]
    assert code(call(alice, "pin", {"room": "pinned", "id": msg["id"], "on": True})) == "forbidden"
    alice.get_received()
    ack = call(owner, "pin", {"room": "pinned", "id": msg["id"], "on": True})
    assert ack["ok"] and ack["message"]["pinned"] is True
    [event] = received(alice, "pin")
    assert event["on"] is True and event["by"] == "owner" and event["message"]["pinned"] is True
    [pinned] = call(alice, "pins", {"room": "pinned"})["pins"]
    assert pinned["id"] == msg["id"] and pinned["pinned_by"] == "owner" and pinned["pinned_at"]
    call(owner, "pin", {"room": "pinned", "id": msg["id"], "on": False})
    assert call(alice, "pins", {"room": "pinned"})["pins"] == []


def test_members_of_a_private_room_pin(users):
    owner, friend = users("owner"), users("friend")
    call(owner, "create_room", {"room": "club", "private": True})
    call(owner, "invite", {"room": "club", "user": "friend"})
    for client in (owner, friend):
        call(client, "join", {"room": "club"})
    msg = call(owner, "message", {"room": "club", "text": "agenda"})["message"]
    assert call(friend, "pin", {"room": "club", "id": msg["id"], "on": True})["ok"]
    assert [p["id"] for p in call(owner, "pins", {"room": "club"})["pins"]] == [msg["id"]]


# -- the change log ----------------------------------------------------------------------------
def test_every_change_takes_the_next_seq_and_join_says_where_the_room_is(two, users):
    alice, bob = two
    start = call(alice, "join", {"room": ROOM})["seq"]
    msg = post(alice, "one")
    seqs = [msg["seq"]]
    seqs.append(call(alice, "edit", {"room": ROOM, "id": msg["id"], "text": "uno"})["message"]["seq"])
    seqs.append(call(bob, "react", {"room": ROOM, "id": msg["id"], "emoji": "👍",
                                     "on": True})["message"]["seq"])
    reply = post(bob, "dos", reply_to=msg["id"])
    seqs += [reply["seq"], reply["seq"] + 1]
    assert call(bob, "delete_message", {"room": ROOM, "id": reply["id"]}) == {"ok": True}
    seqs += [seqs[-1] + 1, seqs[-1] + 2]  # the deletion, and the root's count going back down
    assert seqs == list(range(start + 1, start + 1 + len(seqs)))  # no gaps, no repeats
    carol = users("carol")
    assert call(carol, "join", {"room": ROOM})["seq"] == seqs[-1]


def test_sync_brings_a_client_that_was_away_to_the_servers_state(two, users):
    alice, bob = two
    keep = post(alice, "keep")
    gone = post(alice, "gone")
    since = call(bob, "join", {"room": ROOM})["seq"]
    state = {m["id"]: m for m in call(bob, "history", {"room": ROOM})["messages"]}
    # bob is away: everything below happens without him
    call(alice, "edit", {"room": ROOM, "id": keep["id"], "text": "kept, edited"})
    call(alice, "react", {"room": ROOM, "id": keep["id"], "emoji": "🎉", "on": True})
    call(alice, "delete_message", {"room": ROOM, "id": gone["id"]})
    new = post(alice, "new")
    post(alice, "a reply", reply_to=new["id"])
    answer = call(bob, "sync", {"room": ROOM, "since": since})
    assert answer["ok"] and answer["more"] is False
    seqs = [c["seq"] for c in answer["changes"]]
    assert seqs == sorted(seqs) and seqs[-1] == answer["seq"]
    for change in answer["changes"]:
        apply(state, change)
    server = {m["id"]: m for m in call(alice, "history", {"room": ROOM})["messages"]}
    assert state == server
    assert call(bob, "sync", {"room": ROOM, "since": answer["seq"]})["changes"] == []


def apply(state: dict, change: dict) -> None:
    """A client's rule (docs/protocol.md, "Applying changes"): keep the higher seq per message."""
    if change["type"] == "message_deleted":
        state.pop(change["id"], None)
        return
    message = change["message"] if "message" in change else {
        k: v for k, v in change.items() if k != "type"}
    held = state.get(message["id"])
    if held is None or held["seq"] < message["seq"]:
        state[message["id"]] = message


def test_sync_pages_and_refuses_what_it_cannot_serve(app, two):
    alice, bob = two
    since = call(bob, "join", {"room": ROOM})["seq"]
    for i in range(5):
        post(alice, f"m{i}")
    first = call(bob, "sync", {"room": ROOM, "since": since, "limit": 2})
    assert first["more"] is True and len(first["changes"]) == 2
    rest = call(bob, "sync", {"room": ROOM, "since": first["seq"], "limit": 10})
    assert rest["more"] is False
    texts = [c["text"] for c in first["changes"] + rest["changes"]]
    assert texts == [f"m{i}" for i in range(5)]
    ahead = call(bob, "sync", {"room": ROOM, "since": rest["seq"] + 100})
    assert code(ahead) == "sync_expired" and ahead["error"]["seq"] == rest["seq"]
    for bad in ({"room": ROOM}, {"room": ROOM, "since": -1}, {"room": ROOM, "since": "0"},
                {"room": ROOM, "since": 0, "limit": 501}):
        assert code(call(bob, "sync", bad)) == "invalid_payload"


def test_compaction_removes_old_tombstones_and_sync_says_so(app, two):
    alice, bob = two
    since = call(bob, "join", {"room": ROOM})["seq"]
    old = post(alice, "old")
    call(alice, "delete_message", {"room": ROOM, "id": old["id"]})
    with app.app_context():
        assert changes.compact() == 0  # not old enough yet
        later = utcnow() + timedelta(days=app.config["SYNC_RETENTION_DAYS"] + 1)
        assert changes.compact(now=later) == 1
    expired = call(bob, "sync", {"room": ROOM, "since": since})
    assert code(expired) == "sync_expired"
    fresh = call(bob, "join", {"room": ROOM})
    assert call(bob, "sync", {"room": ROOM, "since": fresh["seq"]})["changes"] == []


def test_the_compact_command_removes_old_tombstones(app, two):
    alice, _ = two
    call(alice, "delete_message", {"room": ROOM, "id": post(alice, "bye")["id"]})
    app.config["SYNC_RETENTION_DAYS"] = 0
    result = app.test_cli_runner().invoke(args=["chat", "compact"])
    assert result.exit_code == 0 and result.output == "removed 1 tombstones\n"


def test_in_a_conversation_each_deletes_only_their_own_and_both_pin(users):
    alice, bob = users("alice"), users("bob")
    room = call(alice, "dm", {"user": "bob"})["room"]["name"]
    for client in (alice, bob):
        assert call(client, "join", {"room": room})["ok"]
    mine = call(alice, "message", {"room": room, "text": "mine"})["message"]
    assert code(call(bob, "delete_message", {"room": room, "id": mine["id"]})) == "forbidden"
    assert call(bob, "pin", {"room": room, "id": mine["id"], "on": True})["ok"]
    assert call(alice, "delete_message", {"room": room, "id": mine["id"]}) == {"ok": True}
    assert call(bob, "pins", {"room": room})["pins"] == []  # a deleted message is no pin


def test_one_emoji_one_spelling_and_a_replys_id_opens_its_thread(two):
    alice, bob = two
    msg = post(alice, "love")
    call(alice, "react", {"room": ROOM, "id": msg["id"], "emoji": "❤", "on": True})
    ack = call(bob, "react", {"room": ROOM, "id": msg["id"], "emoji": "❤️", "on": True})
    assert ack["message"]["reactions"] == [{"emoji": "❤️", "count": 2, "users": ["alice", "bob"]}]
    reply = post(bob, "me too", reply_to=msg["id"])
    thread = call(alice, "thread", {"room": ROOM, "id": reply["id"]})
    assert thread["root"]["id"] == msg["id"] and [m["id"] for m in thread["replies"]] == [reply["id"]]


def test_join_says_who_owns_the_room(users):
    owner, alice = users("owner"), users("alice")
    call(owner, "create_room", {"room": "owned"})
    assert call(alice, "join", {"room": "owned"})["room"]["owner"] == "owner"
    assert call(alice, "join", {"room": ROOM})["room"]["owner"] is None
