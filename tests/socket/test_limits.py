"""Resource limits through the Socket.IO handlers: room creation, invitations, history pages,
connections per address, and the `rooms` list a page at a time (the real server:
tests/security/test_abuse.py)."""
import pytest

from webapp import accounts
from webapp.chat import service
from webapp.extensions import presence, ratelimits


@pytest.fixture
def app(app):
    app.config.update(
        RATE_LIMIT_CREATE_ROOM="3 per hour", RATE_LIMIT_INVITE="3 per hour",
        RATE_LIMIT_HISTORY="4 per minute", RATE_LIMIT_ADDRESS_FACTOR=2,
        MAX_CONNECTIONS_PER_ADDRESS=3,
    )
    ratelimits.init_app(app)  # the limits are read when the app is bound
    return app


def call(client, event, data=None):
    return client.emit(event, data, callback=True)


def code(ack):
    return None if ack["ok"] else ack["error"]["code"]


@pytest.fixture
def account(app, from_address):
    def _account(name, address="10.0.0.1"):
        with app.app_context():
            user = accounts.create_user(name, "long enough password")
            token = accounts.create_token(user, "t")[1]
        return from_address(address, token=token)
    return _account


def test_rooms_created_by_join_and_create_room_count_against_one_limit(from_address):
    guest = from_address("10.0.0.1", name="maker")
    assert call(guest, "join", {"room": "one"})["ok"]
    assert call(guest, "create_room", {"room": "two"})["ok"]
    assert call(guest, "join", {"room": "one"})["ok"]  # joining an existing room creates nothing
    assert call(guest, "join", {"room": "general"})["ok"]
    assert call(guest, "join", {"room": "three"})["ok"]
    refused = call(guest, "join", {"room": "four"})
    assert code(refused) == "rate_limited" and refused["error"]["retry_after"] > 0
    assert code(call(guest, "create_room", {"room": "five"})) == "rate_limited"
    names = [r["name"] for r in call(guest, "rooms")["rooms"]]
    assert names == ["general", "one", "three", "two"]


def test_an_address_creates_rooms_for_all_its_accounts_together(account):
    # factor 2: the address may create 6 rooms, whoever asks; three accounts ask for 3 each
    users = [account(f"user{i}") for i in range(3)]
    made = [call(user, "create_room", {"room": f"r{i}-{j}"})["ok"]
            for i, user in enumerate(users) for j in range(3)]
    assert made == [True] * 6 + [False] * 3
    assert call(account("elsewhere", "10.0.0.2"), "create_room", {"room": "other"})["ok"]


def test_invitations_and_dm_openings_are_limited_per_user(account):
    owner, target = account("owner"), account("target", "10.0.0.2")
    assert call(owner, "create_room", {"room": "den", "private": True})["ok"]
    acks = [call(owner, "invite", {"room": "den", "user": "target"}) for _ in range(2)]
    acks += [call(owner, "dm", {"user": "target"}) for _ in range(3)]
    assert [code(a) for a in acks] == [None, None, None, "rate_limited", "rate_limited"]
    invited = [i for i in target.get_received() if i["name"] == "invited"]
    assert len(invited) == 3


def test_history_pages_are_limited(from_address):
    reader = from_address("10.0.0.1", name="reader")
    call(reader, "join", {"room": "general"})
    acks = [call(reader, "history", {"room": "general"}) for _ in range(6)]
    assert [code(a) for a in acks] == [None] * 4 + ["rate_limited"] * 2
    assert 0 < acks[-1]["error"]["retry_after"] <= 60


def test_connections_per_address_are_bounded_and_released(app, from_address):
    first = [from_address("10.0.0.1", name=f"g{i}") for i in range(3)]
    assert all(c.is_connected() for c in first)
    extra = from_address("10.0.0.1", name="fourth")
    assert not extra.is_connected()
    assert from_address("10.0.0.2", name="fourth").is_connected()  # another address: fine
    # The refused connection reserved no name; closing one frees a place.
    first[0].disconnect()
    assert presence.connections_from("10.0.0.1") == 2
    again = from_address("10.0.0.1", name="g0")
    assert again.is_connected()


def test_a_refused_guest_holds_no_place(app, from_address):
    from_address("10.0.0.1", name="taken")
    assert not from_address("10.0.0.1", name="TAKEN").is_connected()  # name_taken
    assert presence.connections_from("10.0.0.1") == 1


def test_rooms_come_a_page_at_a_time(app, from_address):
    guest = from_address("10.0.0.3", name="lister")
    with app.app_context():
        for i in range(5):
            service.ensure_room(f"room-{i}")
    first = call(guest, "rooms", {"limit": 2})
    assert [r["name"] for r in first["rooms"]] == ["general", "room-0"]
    assert first["next"] == "room-0"
    second = call(guest, "rooms", {"limit": 2, "after": first["next"]})
    assert [r["name"] for r in second["rooms"]] == ["room-1", "room-2"]
    last = call(guest, "rooms", {"limit": 2, "after": "room-2"})
    assert [r["name"] for r in last["rooms"]] == ["room-3", "room-4"] and last["next"] is None
    everything = call(guest, "rooms")  # v1 clients: no arguments, every room up to 100
    assert len(everything["rooms"]) == 6 and everything["next"] is None


@pytest.mark.parametrize("data", [{"limit": 0}, {"limit": 201}, {"limit": "5"}, {"after": 3},
                                  {"after": "Not A Room"}, ["general"]])
def test_bad_room_pages_are_refused(from_address, data):
    assert code(call(from_address("10.0.0.4", name="odd"), "rooms", data)) == "invalid_payload"
