"""The Socket.IO handlers through Flask-SocketIO's test client: acks, broadcasts, bad input."""
import pytest
from sqlalchemy import func, select

from tests.socket.conftest import call
from webapp.extensions import db
from webapp.models import Message


def received(client, event):
    """Data of the ``event``s the client got since last asked."""
    # The test client hands "message" (Socket.IO's send() event) over unwrapped.
    return [
        item["args"] if item["name"] == "message" else item["args"][0]
        for item in client.get_received()
        if item["name"] == event
    ]


def joined(connect, name, room="general"):
    client = connect(name)
    assert client.emit("join", {"room": room}, callback=True)["ok"] is True
    return client


def count_messages(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Message))


def test_a_guest_connects_with_a_valid_name(connect):
    assert connect("alice").is_connected()


@pytest.mark.parametrize("auth", [{}, {"name": ""}, {"name": "x" * 33}, {"name": "<script>"}, "alice"])
def test_bad_names_are_refused(connect, auth):
    assert not connect(auth=auth).is_connected()


def test_a_name_already_online_is_refused(connect):
    connect("alice")
    assert not connect("Alice").is_connected()


def test_message_reaches_everyone_in_the_room_including_the_sender(app, connect):
    alice, bob = joined(connect, "alice"), joined(connect, "bob")
    outsider = connect("carol")
    for client in (alice, bob, outsider):
        client.get_received()
    ack = alice.emit("message", {"room": "general", "text": "hello", "client_id": "c1"}, callback=True)
    assert ack["ok"] is True and ack["message"]["author"] == "alice"
    assert received(alice, "message") == [ack["message"]]
    assert received(bob, "message") == [ack["message"]]
    assert received(outsider, "message") == []


def test_a_retried_client_id_is_acked_but_not_broadcast_again(app, connect):
    alice, bob = joined(connect, "alice"), joined(connect, "bob")
    bob.get_received()
    first = alice.emit("message", {"room": "general", "text": "x", "client_id": "r1"}, callback=True)
    again = alice.emit("message", {"room": "general", "text": "x", "client_id": "r1"}, callback=True)
    assert again == first
    assert len(received(bob, "message")) == 1 and count_messages(app) == 1


def test_presence_on_join_leave_and_disconnect(connect):
    alice = joined(connect, "alice")
    alice.get_received()
    bob = joined(connect, "bob")
    assert received(alice, "presence") == [
        {"room": "general", "user": "bob", "event": "join", "members": ["alice", "bob"]}
    ]
    assert bob.emit("leave", {"room": "general"}, callback=True) == {"ok": True}
    assert received(alice, "presence") == [
        {"room": "general", "user": "bob", "event": "leave", "members": ["alice"]}
    ]
    carol = joined(connect, "carol")
    alice.get_received()
    carol.disconnect()  # without leaving first: the others are told all the same
    assert received(alice, "presence") == [
        {"room": "general", "user": "carol", "event": "leave", "members": ["alice"]}
    ]


def test_join_ack_carries_members_and_history(connect):
    alice = joined(connect, "alice")
    alice.emit("message", {"room": "general", "text": "earlier"}, callback=True)
    ack = connect("bob").emit("join", {"room": "general"}, callback=True)
    assert ack["members"] == ["alice", "bob"]
    assert [m["text"] for m in ack["history"]] == ["earlier"]


def test_typing_goes_to_the_others_only(connect):
    alice, bob = joined(connect, "alice"), joined(connect, "bob")
    alice.get_received(), bob.get_received()
    assert alice.emit("typing", {"room": "general", "typing": True}, callback=True) == {"ok": True}
    assert received(bob, "typing") == [{"room": "general", "user": "alice", "typing": True}]
    assert received(alice, "typing") == []


def test_rooms_lists_public_rooms(connect):
    alice = joined(connect, "alice", room="zeta")
    names = [room["name"] for room in alice.emit("rooms", callback=True)["rooms"]]
    assert names == ["general", "zeta"]


BAD_EVENTS = [
    ("join", None, "invalid_payload"),
    ("join", "general", "invalid_payload"),
    ("join", {"room": "Bad Name"}, "invalid_room"),
    ("join", {"room": "x" * 10_000}, "invalid_room"),
    ("message", {"room": "general"}, "invalid_text"),
    ("message", {"room": "general", "text": ""}, "invalid_text"),
    ("message", {"room": "general", "text": "x" * 4001}, "invalid_text"),
    ("message", {"room": "general", "text": 12}, "invalid_text"),
    ("message", {"room": "general", "text": "nul\x00"}, "invalid_text"),
    ("message", {"room": "general", "text": "ok", "client_id": 5}, "invalid_client_id"),
    ("message", {"room": "elsewhere", "text": "hi"}, "not_in_room"),
    ("message", ["general", "hi"], "invalid_payload"),
    ("typing", {"room": "general", "typing": "yes"}, "invalid_payload"),
    ("history", {"room": "general", "limit": 0}, "invalid_payload"),
    ("history", {"room": "general", "before": 2**80}, "invalid_payload"),
    ("history", {"room": "general", "after": -1}, "invalid_payload"),
    ("no-such-event", {"room": "general"}, "unknown_event"),
]


@pytest.mark.parametrize("event,data,code", BAD_EVENTS)
def test_bad_input_gets_its_code_and_stores_nothing(app, connect, event, data, code):
    alice, bob = joined(connect, "alice"), joined(connect, "bob")
    bob.get_received()
    ack = alice.emit(event, data, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"]
    assert count_messages(app) == 0 and received(bob, "message") == []
    # the connection carries on
    assert alice.emit("message", {"room": "general", "text": "still here"}, callback=True)["ok"]


def test_extra_arguments_are_refused(connect):
    alice = joined(connect, "alice")
    ack = alice.emit("message", {"room": "general", "text": "a"}, "extra", callback=True)
    assert ack["error"]["code"] == "invalid_payload"


def test_unexpected_errors_are_answered_as_internal_without_detail(app, connect, monkeypatch):
    from webapp.chat import service

    def boom(*args):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "history", boom)
    ack = joined(connect, "alice").emit("history", {"room": "general"}, callback=True)
    assert ack == {"ok": False, "error": {"code": "internal", "message": "Something went wrong on the server."}}


# -- active (webapp/activity.py) ---------------------------------------------------------------
def test_a_foreground_report_makes_the_account_present_and_guests_are_accepted(app, users, connect):
    from webapp.extensions import activity
    alice = users("alice")
    assert activity.away([1]) == {1: True}
    assert call(alice, "active", {"active": True}) == {"ok": True}
    assert activity.away([1]) == {1: False}
    guest = connect("gus")
    assert call(guest, "active", {"active": True}) == {"ok": True}


@pytest.mark.parametrize("bad", [None, {}, {"active": "yes"}, {"active": 1}, []])
def test_active_refuses_anything_but_a_boolean(users, bad):
    ack = call(users("alice"), "active", bad)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_payload"
