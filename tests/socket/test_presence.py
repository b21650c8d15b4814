"""Presence over Socket.IO: protocol 2 connections get join/leave deltas, protocol 1 ones keep
the whole member list in every ``presence`` event (webapp/chat/broadcast.py)."""
import pytest

from tests.socket.conftest import call, received
from webapp import accounts

V2 = {"protocol": 2}


def joined(connect, name, room="lobby", **auth):
    client = connect(auth={"name": name, **auth})
    assert client.is_connected()
    assert call(client, "join", {"room": room})["ok"]
    return client


def test_protocol_2_gets_deltas_and_protocol_1_whole_lists(connect):
    old, new = joined(connect, "old"), joined(connect, "new", **V2)
    old.get_received(), new.get_received()
    carol = joined(connect, "carol")
    call(carol, "leave", {"room": "lobby"})
    assert received(new, "presence") == [
        {"room": "lobby", "user": "carol", "event": "join"},
        {"room": "lobby", "user": "carol", "event": "leave"},
    ]
    assert received(old, "presence") == [
        {"room": "lobby", "user": "carol", "event": "join", "members": ["carol", "new", "old"]},
        {"room": "lobby", "user": "carol", "event": "leave", "members": ["new", "old"]},
    ]


def test_the_join_ack_keeps_the_whole_list_for_protocol_2(connect):
    joined(connect, "alice")
    ack = call(connect(auth={"name": "bob", **V2}), "join", {"room": "lobby"})
    assert ack["members"] == ["alice", "bob"]


def test_a_user_with_two_connections_joins_once_and_leaves_with_the_last(app, connect):
    watcher = joined(connect, "watcher", **V2)
    with app.app_context():
        token = accounts.create_token(accounts.create_user("alice", "long enough password"), "t")[1]
    first, second = (connect(auth={"token": token, **V2}) for _ in range(2))  # two tabs of one account
    watcher.get_received()
    for tab in (first, second):
        call(tab, "join", {"room": "lobby"})
    assert received(watcher, "presence") == [{"room": "lobby", "user": "alice", "event": "join"}]
    first.disconnect()
    assert received(watcher, "presence") == []  # still there in the other tab
    call(second, "leave", {"room": "lobby"})
    assert received(watcher, "presence") == [{"room": "lobby", "user": "alice", "event": "leave"}]


def test_a_connection_that_left_hears_no_more_of_the_room(connect):
    alice = joined(connect, "alice", **V2)
    call(alice, "leave", {"room": "lobby"})
    alice.get_received()
    joined(connect, "bob")
    assert received(alice, "presence") == []


def test_a_kicked_connection_hears_no_more_of_the_room(users):
    owner, friend = users("owner"), users("friend")
    call(owner, "create_room", {"room": "club", "private": True})
    call(owner, "invite", {"room": "club", "user": "friend"})
    call(owner, "join", {"room": "club"})
    call(friend, "join", {"room": "club"})
    assert call(owner, "kick", {"room": "club", "user": "friend"}) == {"ok": True}
    friend.get_received()
    call(owner, "leave", {"room": "club"})
    assert received(friend, "presence") == []


@pytest.mark.parametrize("protocol", ["two", 0, -1, True, 2.5, [2], None, "2x"])
def test_a_bad_protocol_is_refused_and_holds_nothing(connect, protocol):
    assert not connect(auth={"name": "alice", "protocol": protocol}).is_connected()
    assert connect("alice").is_connected()  # the name was not kept


@pytest.mark.parametrize("protocol", [1, 2, 3, "2"])
def test_good_protocols_are_admitted(connect, protocol):
    assert connect(auth={"name": "alice", "protocol": protocol}).is_connected()
