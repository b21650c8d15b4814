"""Read state (issue 18) through the Socket.IO handlers: ``read`` marks a room read for the account
on every connection of it, monotonic and idempotent; ``rooms`` and ``join`` carry the counts.
/ws delivery is tests/gateway/test_reads.py's; REST is tests/api/test_reads.py's.

Attacks tried: marking a private room one is not in, bad payloads of every shape, a seq beyond the
room's, moving a mark backwards.
"""
import pytest
from sqlalchemy import func, select

from tests.socket.conftest import call, received
from webapp import accounts
from webapp.chat import reads
from webapp.extensions import db, ratelimits, socketio
from webapp.models import RoomRead

ROOM = "general"


@pytest.fixture
def account(app):
    """``account(name)`` -> connect(): each call a new connection of that one account."""
    def _account(name):
        with app.app_context():
            token = accounts.create_token(accounts.create_user(name, "long enough password"), "t")[1]

        def connect():
            client = socketio.test_client(app, auth={"token": token})
            assert client.is_connected()
            return client
        return connect
    return _account


def post(client, text, room=ROOM):
    ack = call(client, "message", {"room": room, "text": text})
    assert ack["ok"], ack
    return ack["message"]


def joined(client, room=ROOM):
    ack = call(client, "join", {"room": room})
    assert ack["ok"], ack
    client.get_received()
    return ack


@pytest.fixture
def three(account):
    """bob on two connections (a laptop, a phone) and alice, all in general; alice posted 3."""
    bob = account("bob")
    laptop, phone, alice = bob(), bob(), account("alice")()
    for client in (laptop, phone, alice):
        joined(client)
    posted = [post(alice, f"m{i}") for i in range(3)]
    for client in (laptop, phone, alice):
        client.get_received()
    return laptop, phone, alice, posted


def test_reading_on_one_connection_clears_the_others(three):
    laptop, phone, alice, posted = three
    ack = call(laptop, "read", {"room": ROOM, "seq": posted[1]["seq"]})
    assert ack == {"ok": True, "room": ROOM, "last_read": posted[1]["seq"], "unread": 1,
                   "mentions": 0}
    assert received(phone, "read") == [{"room": ROOM, "last_read": posted[1]["seq"], "unread": 1,
                                        "mentions": 0}]
    assert received(alice, "read") == []  # another account hears nothing of bob's reading


def test_marks_never_move_back_and_repeats_change_nothing(three):
    laptop, phone, _alice, posted = three
    call(laptop, "read", {"room": ROOM, "seq": posted[2]["seq"]})
    phone.get_received()
    for seq in (posted[0]["seq"], posted[2]["seq"]):  # older, then the same again
        ack = call(laptop, "read", {"room": ROOM, "seq": seq})
        assert ack["last_read"] == posted[2]["seq"] and ack["unread"] == 0
    assert received(phone, "read") == []
    assert call(phone, "join", {"room": ROOM})["last_read"] == posted[2]["seq"]


def test_a_read_by_id_uses_the_seq_the_message_was_posted_with(three):
    laptop, _phone, alice, posted = three
    edited = call(alice, "edit", {"room": ROOM, "id": posted[0]["id"], "text": "m0, edited"})
    assert edited["message"]["seq"] > posted[2]["seq"]  # an edit moves the message's seq
    ack = call(laptop, "read", {"room": ROOM, "id": posted[0]["id"]})
    assert ack["last_read"] == posted[0]["seq"] and ack["unread"] == 2


def test_a_seq_beyond_the_room_reads_all_there_is_and_no_more(three):
    laptop, _phone, alice, posted = three
    ack = call(laptop, "read", {"room": ROOM, "seq": 10**9})
    assert ack["last_read"] == posted[2]["seq"] and ack["unread"] == 0
    post(alice, "later")
    assert call(laptop, "rooms")["rooms"][0]["unread"] == 1


def test_unread_counts_skip_own_and_deleted_messages_and_stop_at_the_cap(three, monkeypatch):
    laptop, phone, alice, posted = three
    call(alice, "delete_message", {"room": ROOM, "id": posted[0]["id"]})
    post(laptop, "my own")
    assert call(phone, "join", {"room": ROOM})["unread"] == 2
    monkeypatch.setattr(reads, "UNREAD_CAP", 1)
    assert call(phone, "rooms")["rooms"][0]["unread"] == 1


def test_rooms_and_join_carry_the_counts(account):
    bob, alice = account("bob")(), account("alice")()
    joined(bob)
    assert call(bob, "rooms")["rooms"] == [
        {**call(bob, "rooms")["rooms"][0], "unread": 0, "mentions": 0}]
    joined(alice)
    post(alice, "one")
    post(alice, "two")
    dm = call(alice, "dm", {"user": "bob"})["room"]["name"]
    joined(alice, dm)
    post(alice, "psst", room=dm)
    listed = {r["name"]: r for r in call(bob, "rooms")["rooms"]}
    assert (listed[ROOM]["unread"], listed[dm]["unread"], listed[dm]["last_read"]) == (2, 1, 0)
    never = account("carol")()  # has never been in general: no position, no counts
    assert call(never, "rooms")["rooms"][0]["unread"] is None
    ack = call(bob, "join", {"room": dm})
    assert (ack["unread"], ack["mentions"], ack["last_read"]) == (1, 0, 0)


def test_a_first_join_of_a_public_room_starts_at_its_present(account):
    alice = account("alice")()
    joined(alice)
    post(alice, "before bob came")
    bob = account("bob")()
    ack = call(bob, "join", {"room": ROOM})
    assert ack["unread"] == 0 and ack["last_read"] == ack["seq"]


def test_guests_keep_their_marks_for_the_connection_only(app, connect, three):
    _laptop, _phone, alice, _posted = three
    guest = connect("gus")
    assert call(guest, "join", {"room": ROOM})["unread"] == 0
    first, second = post(alice, "for gus"), post(alice, "and more")
    assert call(guest, "join", {"room": ROOM})["unread"] == 2  # the connection keeps its mark
    ack = call(guest, "read", {"room": ROOM, "id": first["id"]})
    assert (ack["last_read"], ack["unread"], ack["mentions"]) == (first["seq"], 1, 0)
    assert call(guest, "read", {"room": ROOM, "seq": 0})["last_read"] == first["seq"]
    with app.app_context():  # bob's and alice's rows; none for the guest
        assert db.session.scalar(select(func.count()).select_from(RoomRead)) == 2
    guest.disconnect()
    again = connect("gus")
    assert call(again, "join", {"room": ROOM})["last_read"] == second["seq"]  # starts afresh


@pytest.mark.parametrize("payload, code", [
    (None, "invalid_payload"),
    (["general"], "invalid_payload"),
    ({"room": ROOM}, "invalid_read"),
    ({"room": ROOM, "seq": 1, "id": 1}, "invalid_read"),
    ({"room": ROOM, "seq": -1}, "invalid_payload"),
    ({"room": ROOM, "seq": "7"}, "invalid_payload"),
    ({"room": ROOM, "seq": True}, "invalid_payload"),
    ({"room": ROOM, "id": 2**64}, "invalid_payload"),
    ({"room": "Not A Room", "seq": 1}, "invalid_room"),
    ({"room": ROOM, "id": 999_999}, "not_found"),
    ({"room": "nowhere", "seq": 1}, "not_found"),
])
def test_bad_reads_are_refused_and_store_nothing(app, three, payload, code):
    laptop, phone, _alice, _posted = three
    with app.app_context():
        before = db.session.scalars(select(RoomRead.last_read_seq)).all()
    ack = call(laptop, "read", payload)
    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    with app.app_context():
        assert db.session.scalars(select(RoomRead.last_read_seq)).all() == before
    assert received(phone, "read") == []
    assert call(laptop, "read", {"room": ROOM, "seq": 1})["ok"]  # the connection carries on


def test_outsiders_cannot_mark_a_private_room(app, account):
    owner, outsider = account("owner")(), account("outsider")()
    assert call(owner, "create_room", {"room": "vault", "private": True})["ok"]
    ack = call(outsider, "read", {"room": "vault", "seq": 0})
    assert ack["error"]["code"] == "not_found"  # as for a room that does not exist
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RoomRead).where(
            RoomRead.room_id != 1)) == 0


def test_reads_are_rate_limited(app, three):
    laptop, *_ = three
    app.config["RATE_LIMIT_READ"] = "2 per minute"
    ratelimits.init_app(app)  # the limits are read when the app is bound
    answers = [call(laptop, "read", {"room": ROOM, "seq": 1}) for _ in range(3)]
    assert answers[-1]["error"]["code"] == "rate_limited"
