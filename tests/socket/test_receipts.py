"""Read receipts (issue 18): in conversations and small private rooms a member's read position
moves, the room hears ``receipt``; the join ack carries everyone's; a user can turn it off."""
from tests.socket.conftest import call, received
from tests.socket.test_mentions import people  # noqa: F401  (a fixture)
from tests.socket.test_reads import joined, post


def dm_of(p):
    """alice's and bob's conversation, both in it; alice posted one message."""
    room = call(p["alice"], "dm", {"user": "bob"})["room"]["name"]
    joined(p["alice"], room)
    joined(p["bob"], room)
    return room, post(p["alice"], "hi bob", room=room)


def test_reading_a_dm_tells_the_other_how_far(people):  # noqa: F811
    p = people("alice", "bob")
    room, msg = dm_of(p)
    p["alice"].get_received()
    call(p["bob"], "read", {"room": room, "id": msg["id"]})
    assert received(p["alice"], "receipt") == [{"room": room, "user": "bob",
                                                "last_read": msg["seq"]}]
    assert call(p["alice"], "join", {"room": room})["receipts"] == {"bob": msg["seq"]}
    call(p["bob"], "read", {"room": room, "id": msg["id"]})  # no move: no receipt
    assert received(p["alice"], "receipt") == []


def test_a_user_who_turns_receipts_off_sends_none(people):  # noqa: F811
    p = people("alice", "bob")
    room, msg = dm_of(p)
    assert call(p["bob"], "read_receipts", {"on": False}) == {"ok": True, "send_receipts": False}
    p["alice"].get_received()
    call(p["bob"], "read", {"room": room, "id": msg["id"]})
    assert received(p["alice"], "receipt") == []
    assert call(p["alice"], "join", {"room": room})["receipts"] == {}
    assert call(p["bob"], "read_receipts", {"on": "no"})["error"]["code"] == "invalid_payload"


def test_public_and_large_rooms_keep_no_receipts(app, people):  # noqa: F811
    app.config["RECEIPTS_MAX_MEMBERS"] = 1
    p = people("alice", "bob")
    joined(p["alice"])
    assert "receipts" not in call(p["bob"], "join", {"room": "general"})
    assert call(p["alice"], "create_room", {"room": "team", "private": True})["ok"]
    assert call(p["alice"], "invite", {"room": "team", "user": "bob"})["ok"]
    joined(p["alice"], "team")
    joined(p["bob"], "team")
    msg = post(p["alice"], "hello team", room="team")
    p["alice"].get_received()
    call(p["bob"], "read", {"room": "team", "id": msg["id"]})
    assert received(p["alice"], "receipt") == []
    assert "receipts" not in call(p["alice"], "join", {"room": "team"})
