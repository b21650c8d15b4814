"""Bans of guests and addresses, room bans after kicks, and blocks, through the Socket.IO handlers
(the real server: tests/security/test_moderation.py).

Attacks tried: non-admins and guests banning, unbanning and listing bans; a banned guest coming
back under another name or from another address; a kicked guest rejoining under a new name; a
blocked user opening a DM or inviting, and telling a block from a ban; bad input to every new
event.
"""
import time

import pytest

from webapp import accounts
from webapp.chat import service
from webapp.errors import AppError
from webapp.extensions import ratelimits


@pytest.fixture
def app(app):
    app.config.update(RATE_LIMIT_BLOCK="3 per hour")
    ratelimits.init_app(app)  # the limits are read when the app is bound
    return app


def call(client, event, data=None):
    return client.emit(event, data, callback=True)


def code(ack):
    return None if ack["ok"] else ack["error"]["code"]


def received(client, event):
    return [i["args"][0] for i in client.get_received() if i["name"] == event]


@pytest.fixture
def account(app, from_address):
    """A registered user connected by token: ``account("root", admin=True)``."""
    def _account(name, address="10.0.0.1", admin=False):
        with app.app_context():
            user = accounts.create_user(name, "long enough password", admin=admin)
            token = accounts.create_token(user, "t")[1]
        client = from_address(address, token=token)
        assert client.is_connected()
        return client
    return _account


def refusal(app, name, address):
    """The code a guest connecting as ``name`` from ``address`` is refused with, or None."""
    with app.app_context():
        try:
            service.connect({"name": name}, None, address=address)
        except AppError as exc:
            return exc.code
    return None


BAD_INPUT = [
    ("ban", None, "invalid_payload"),
    ("ban", {}, "invalid_name"),
    ("ban", {"user": "no spaces"}, "invalid_name"),
    ("ban", {"user": "troll", "minutes": 0}, "invalid_payload"),
    ("ban", {"user": "troll", "minutes": -5}, "invalid_payload"),
    ("ban", {"user": "troll", "minutes": "10"}, "invalid_payload"),
    ("ban", {"user": "troll", "minutes": True}, "invalid_payload"),
    ("ban", {"user": "troll", "minutes": 10**9}, "invalid_payload"),
    ("ban", {"user": "troll", "reason": 5}, "invalid_payload"),
    ("ban", {"user": "troll", "reason": "x" * 201}, "invalid_payload"),
    ("ban", {"user": "member", "minutes": 10}, "invalid_payload"),  # an account: until unban
    ("ban", {"user": "root"}, "invalid_payload"),  # oneself
    ("unban", None, "invalid_payload"),
    ("unban", {}, "invalid_payload"),
    ("unban", {"address": "not-an-address"}, "invalid_payload"),
    ("unban", {"address": 7}, "invalid_payload"),
    ("unban", {"user": "no spaces"}, "invalid_name"),
    ("unban", {"user": "nobody"}, "not_found"),
    ("unban", {"address": "192.0.2.9"}, "not_found"),
    ("bans", "everything", "invalid_payload"),
    ("bans", {"limit": 0}, "invalid_payload"),
    ("block", {"user": "member"}, "invalid_payload"),
    ("block", {"user": "member", "on": "yes"}, "invalid_payload"),
    ("block", {"on": True}, "invalid_name"),
    ("block", {"user": "nobody", "on": True}, "not_found"),
    ("block", {"user": "root", "on": True}, "invalid_payload"),  # oneself
    ("blocks", [1], "invalid_payload"),
]


@pytest.mark.parametrize(("event", "data", "expected"), BAD_INPUT)
def test_bad_input_gets_its_code_and_changes_nothing(app, account, event, data, expected):
    admin, _ = account("root", admin=True), account("member")
    assert code(call(admin, event, data)) == expected
    assert call(admin, "bans") == {"ok": True, "bans": []}
    assert call(admin, "blocks") == {"ok": True, "blocks": []}


def test_only_admins_ban_unban_and_list_bans(app, account, from_address):
    member, guest = account("member"), from_address("10.0.0.2", name="guesty")
    account("victim")
    for client in (member, guest):
        for event, data in (("ban", {"user": "victim"}), ("ban", {"user": "nobody"}),
                            ("unban", {"user": "victim"}), ("unban", {"address": "10.0.0.9"}),
                            ("bans", None)):
            assert code(call(client, event, data)) == "forbidden", (event, data)
    with app.app_context():
        assert accounts.find_user("victim").banned_at is None


def test_guests_cannot_block(from_address, account):
    account("member")
    guest = from_address("10.0.0.2", name="guesty")
    assert code(call(guest, "block", {"user": "member", "on": True})) == "forbidden"
    assert code(call(guest, "blocks")) == "forbidden"


def test_an_admin_bans_a_guest_by_name_and_address_until_it_expires(app, account, from_address):
    admin = account("root", admin=True)
    guest = from_address("10.0.0.5", name="Troll")
    ack = call(admin, "ban", {"user": "troll", "minutes": 0.01, "reason": "spam"})  # 0.6 s
    assert ack == {"ok": True}
    assert not guest.is_connected()
    assert refusal(app, "TROLL", "10.0.0.6") == "banned"  # the name, from anywhere
    assert refusal(app, "newname", "10.0.0.5") == "banned"  # the address, under any name
    assert refusal(app, "newname", "10.0.0.6") is None
    assert from_address("10.0.0.5", token=_token(app, "root")).is_connected()  # accounts may
    bans = call(admin, "bans")["bans"]
    assert {(b["user"], b["guest"], b["address"], b["by"], b["reason"]) for b in bans} == {
        ("troll", True, None, "root", "spam"), ("troll", True, "10.0.0.5", "root", "spam")}
    time.sleep(0.7)
    assert refusal(app, "troll", "10.0.0.5") is None
    assert call(admin, "bans") == {"ok": True, "bans": []}


def test_a_second_ban_replaces_the_first(app, account):
    admin = account("root", admin=True)
    account("mallory")
    for ban in ({"user": "troll", "minutes": 600}, {"user": "troll", "minutes": 0.01},
                {"user": "mallory", "reason": "one"}, {"user": "mallory", "reason": "two"}):
        assert call(admin, "ban", ban) == {"ok": True}
    bans = [b for b in call(admin, "bans")["bans"] if b["address"] is None]  # not mallory's address
    assert [(b["user"], b["reason"]) for b in bans] == [("mallory", "two"), ("troll", None)]
    time.sleep(0.7)  # the second, shorter ban of the guest is the one that counts
    assert refusal(app, "troll", "10.0.0.5") is None


def _token(app, name):
    with app.app_context():
        return accounts.create_token(accounts.find_user(name), "more")[1]


def test_unban_lifts_a_guest_ban_with_its_addresses_or_an_address_alone(app, account, from_address):
    admin = account("root", admin=True)
    from_address("10.0.0.5", name="troll")
    from_address("10.0.0.7", name="other")
    assert call(admin, "ban", {"user": "troll"}) == {"ok": True}
    assert call(admin, "ban", {"user": "other"}) == {"ok": True}
    assert call(admin, "unban", {"user": "troll"}) == {"ok": True, "lifted": 2}
    assert refusal(app, "troll", "10.0.0.5") is None
    assert call(admin, "unban", {"address": "10.0.0.7"}) == {"ok": True, "lifted": 1}
    assert refusal(app, "someone", "10.0.0.7") is None
    assert refusal(app, "other", "10.0.0.8") == "banned"  # the name ban stays


def test_a_banned_accounts_addresses_refuse_guests_but_not_accounts(app, account):
    admin, mallory = account("root", admin=True), account("mallory", address="10.0.0.5")
    account("colleague", address="10.0.0.5")
    assert call(admin, "ban", {"user": "mallory"}) == {"ok": True}
    assert not mallory.is_connected()
    assert refusal(app, "mallory2", "10.0.0.5") == "banned"
    assert refusal(app, "mallory2", "10.0.0.6") is None
    # the colleague behind the same address is an account: still in
    with app.app_context():
        user = accounts.find_user("colleague")
        assert service.connect(None, None, user=user, address="10.0.0.5").name == "colleague"
    assert call(admin, "unban", {"user": "mallory"})["lifted"] == 3  # account, row, address
    with app.app_context():
        assert accounts.find_user("mallory").banned_at is None
    assert refusal(app, "mallory2", "10.0.0.5") is None


def test_a_kick_from_a_public_room_keeps_the_guest_and_its_address_out(app, account, from_address):
    app.config["KICK_MINUTES"] = 0.01  # 0.6 s
    owner = account("owner")
    assert call(owner, "create_room", {"room": "hall"})["ok"]
    guest = from_address("10.0.0.5", name="noisy")
    assert call(guest, "join", {"room": "hall"})["ok"]
    assert call(owner, "kick", {"room": "hall", "user": "noisy"}) == {"ok": True}
    again = call(guest, "join", {"room": "hall"})
    assert code(again) == "kicked" and again["error"]["until"].endswith("Z")
    renamed = from_address("10.0.0.5", name="quiet")  # reconnecting under a new name
    assert code(call(renamed, "join", {"room": "hall"})) == "kicked"
    assert call(renamed, "join", {"room": "general"})["ok"]  # only that room
    assert call(from_address("10.0.0.6", name="neighbour"), "join", {"room": "hall"})["ok"]
    time.sleep(0.7)
    assert call(renamed, "join", {"room": "hall"})["ok"]


def test_a_kicked_account_cannot_rejoin_but_an_admin_always_can(app, account):
    owner, member, admin = account("owner"), account("member"), account("root", admin=True)
    call(owner, "create_room", {"room": "hall"})
    for client in (member, admin):
        assert call(client, "join", {"room": "hall"})["ok"]
    assert call(owner, "kick", {"room": "hall", "user": "member"}) == {"ok": True}
    assert call(owner, "kick", {"room": "hall", "user": "root"}) == {"ok": True}
    assert code(call(member, "join", {"room": "hall"})) == "kicked"
    assert call(admin, "join", {"room": "hall"})["ok"]
    assert call(admin, "unban", {"user": "member"})["lifted"] >= 1
    assert call(member, "join", {"room": "hall"})["ok"]


def test_rest_is_no_way_around_a_kick(app, account, client):
    owner = account("owner")
    call(owner, "create_room", {"room": "hall"})
    with app.app_context():
        token = accounts.create_token(accounts.create_user("member", "long enough password"), "t")[1]
    assert call(owner, "kick", {"room": "hall", "user": "member"}) == {"ok": True}
    bearer = {"Authorization": f"Bearer {token}"}
    posted = client.post("/api/rooms/hall/messages", json={"text": "back door"}, headers=bearer)
    read = client.get("/api/rooms/hall/messages", headers=bearer)
    for response in (posted, read):
        assert response.status_code == 403 and response.json["error"]["code"] == "kicked"
    assert client.get("/api/rooms/general/messages", headers=bearer).status_code == 200


def test_a_block_stops_dms_and_invitations_and_looks_like_a_ban(app, account):
    bob, mallory, admin = account("bob"), account("mallory"), account("root", admin=True)
    account("gone")
    dm = call(mallory, "dm", {"user": "bob"})["room"]["name"]  # before the block
    for client in (bob, mallory):
        assert call(client, "join", {"room": dm})["ok"]
    assert call(bob, "block", {"user": "mallory", "on": True}) == {"ok": True}
    assert call(bob, "block", {"user": "MALLORY", "on": True}) == {"ok": True}  # harmless
    assert [b["user"] for b in call(bob, "blocks")["blocks"]] == ["mallory"]
    assert call(mallory, "blocks") == {"ok": True, "blocks": []}
    bob.get_received()
    refused = call(mallory, "dm", {"user": "bob"})
    call(admin, "ban", {"user": "gone"})
    assert refused == call(mallory, "dm", {"user": "gone"})  # no different from a banned user
    assert refused["error"] == {"code": "forbidden",
                                "message": "You cannot start a conversation with this user."}
    # the conversation they had is closed, both ways
    assert code(call(mallory, "message", {"room": dm, "text": "hey"})) == "forbidden"
    assert code(call(bob, "message", {"room": dm, "text": "hey"})) == "forbidden"
    assert code(call(mallory, "join", {"room": dm})) == "forbidden"
    call(mallory, "create_room", {"room": "lair", "private": True})
    refused = call(mallory, "invite", {"room": "lair", "user": "bob"})
    assert refused == call(mallory, "invite", {"room": "lair", "user": "gone"})
    assert refused["error"] == {"code": "forbidden", "message": "You cannot invite this user."}
    assert received(bob, "invited") == [] and received(bob, "message") == []
    assert call(bob, "block", {"user": "mallory", "on": False}) == {"ok": True}
    assert call(mallory, "dm", {"user": "bob"})["ok"]
    assert received(bob, "invited") == [{"room": dm, "by": "mallory"}]


def test_blocks_are_rate_limited(account):
    bob = account("bob")
    account("mallory")
    acks = [call(bob, "block", {"user": "mallory", "on": on}) for on in (True, False, True, False)]
    assert [code(a) for a in acks] == [None, None, None, "rate_limited"]
