"""Presence over /ws on the real server: ``protocol=2`` (query or ``auth`` frame) gets deltas,
other clients keep whole member lists."""
import pytest

from tests.gateway.conftest import PlainClient
from tests.support import ChatClient, unique


@pytest.fixture
def room():
    return unique("ws")


def test_protocol_2_in_the_query_gets_deltas_and_others_whole_lists(live_server, room):
    new = PlainClient(live_server.url, name=unique("new"), protocol="2", room=room)
    old = PlainClient(live_server.url, name=unique("old"), room=room)
    new_name, old_name = new.wait("welcome")["user"], old.wait("welcome")["user"]
    carol = ChatClient(live_server.url, unique("carol")).connect()
    assert carol.call("join", {"room": room})["members"] == sorted([new_name, old_name, carol.name])
    carol.close()
    is_carol = lambda p: p["user"] == carol.name
    assert new.wait("presence", is_carol) == {"room": room, "user": carol.name, "event": "join"}
    assert new.wait("presence", is_carol) == {"room": room, "user": carol.name, "event": "leave"}
    assert old.wait("presence", is_carol)["members"] == sorted([new_name, old_name, carol.name])
    assert old.wait("presence", is_carol)["members"] == sorted([new_name, old_name])
    new.send("plain text still goes to the room")  # the presence sub-room is not a room
    assert new.wait("message")["text"] == "plain text still goes to the room"
    new.close(), old.close()


def test_protocol_2_in_the_query_holds_for_an_auth_frame(live_server, room):
    client = PlainClient(live_server.url, protocol="2")
    assert client.call("auth", name=unique("late"))["ok"]
    assert client.call("join", room=room)["ok"]
    other = ChatClient(live_server.url, unique("other")).connect()
    other.call("join", {"room": room})
    assert client.wait("presence", lambda p: p["user"] == other.name) == {
        "room": room, "user": other.name, "event": "join"}
    other.close(), client.close()


def test_protocol_2_in_the_auth_frame(live_server, room):
    client = PlainClient(live_server.url)
    name = unique("framed")
    assert client.call("auth", name=name, protocol=2)["ok"]
    client.call("join", room=room)
    assert client.wait("presence") == {"room": room, "user": name, "event": "join"}
    client.close()


@pytest.mark.parametrize("protocol", ["0", "two", "-1"])
def test_a_bad_protocol_is_refused_and_closed(live_server, protocol):
    client = PlainClient(live_server.url, name=unique("bad"), protocol=protocol)
    assert client.reply()["error"]["code"] == "invalid_protocol"
    _code, reason = client.closed()
    assert reason.startswith("invalid_protocol")
    client.close()
