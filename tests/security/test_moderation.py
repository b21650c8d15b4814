"""Moderation against the real server: bans that hold, kicks that stick, blocks that stay quiet.

Attacks tried, each person on an address of its own (127.0.0.x): a banned account coming straight
back as a guest from the same address; a banned guest coming back under another name or from
another address, with the ban ordered on one process and the guest on another (two processes
sharing Redis); a guest kicked from a public room reconnecting under a new name to rejoin; a
blocked user opening a DM and inviting, and telling the block from any other refusal.
"""
from __future__ import annotations

import queue
import socket
import time
from datetime import UTC, datetime

import pytest
import socketio
import websocket

from tests.gateway.conftest import PlainClient, ws_url
from tests.support import LiveServer, eventually, unique
from webapp import accounts, create_app

pytestmark = pytest.mark.e2e

KICK_MINUTES = 0.05  # 3 s on the module's server, so that the test sees a kick run out
REDIS_URL = "redis://127.0.0.1:6379/12"  # a database of this test's own: no other keys touched


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("moderation"), KICK_MINUTES=str(KICK_MINUTES),
                      BAN_ADDRESS_MINUTES="60")  # the default (tests/support.py turns it off)
    live.start()
    yield live
    live.stop()


def make_account(server: LiveServer, name: str, admin: bool = False) -> str:
    """A new user in ``server``'s database; answers an API token of theirs."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "ASYNC_MODE": "threading",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{server.workdir / 'live.sqlite3'}"})
    with app.app_context():
        user = accounts.create_user(name, "a long password", admin=admin)
        return accounts.create_token(user, "t")[1]


def tcp(server: LiveServer, address: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                    source_address=(address, 0))


class Client:
    """python-socketio over WebSocket from ``address``; ``refusal`` is a refused connect's data."""

    EVENTS = ("invited", "kicked", "connect_error")

    def __init__(self, server: LiveServer, address: str = "127.0.0.1") -> None:
        self.server = server
        options = {"socket": tcp(server, address)}
        self.sio = socketio.Client(reconnection=False, websocket_extra_options=options)
        self.events = {event: queue.Queue() for event in self.EVENTS}
        for event, events in self.events.items():
            self.sio.on(event, events.put)
        self.gone = queue.Queue()
        self.sio.on("disconnect", lambda *reason: self.gone.put(True))
        self.refusal: dict | None = None

    def connect(self, **auth) -> Client:
        try:
            self.sio.connect(self.server.url, auth=auth, transports=["websocket"], wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            self.refusal = self.events["connect_error"].get(timeout=5)["data"]
        return self

    def call(self, event: str, data=None) -> dict:
        return self.sio.call(event, data, timeout=10)

    def closed_by_server(self, timeout: float = 10) -> bool:
        return self.gone.get(timeout=timeout)

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


class Plain(PlainClient):
    """A /ws client from ``address``: ``Plain(server, "127.0.0.9", name="x")``."""

    def __init__(self, server: LiveServer, address: str = "127.0.0.1", **query) -> None:
        self.ws = websocket.create_connection(ws_url(server.url, **query), timeout=10,
                                              socket=tcp(server, address))
        self.events, self.replies, self._ref = [], [], 0

    def call(self, op: str, **fields) -> dict:
        """The reply to one op, as a Socket.IO ack (without its ``ref``)."""
        reply = super().call(op, **fields)
        reply.pop("ref")
        return reply

    def refused(self) -> tuple[str, int, str]:
        """The refusal's code, then the close frame's status and reason."""
        first = self.reply()
        return first["error"]["code"], *self.closed()


def code(ack: dict) -> str | None:
    return None if ack["ok"] else ack["error"]["code"]




def guest_admitted(server: LiveServer, address: str, name: str) -> bool:
    client = Client(server, address).connect(name=name)
    client.close()
    return client.refusal is None


def test_a_banned_account_cannot_come_back_as_a_guest_from_its_address(server):
    admin, mallory, colleague = unique("root"), unique("mallory"), unique("colleague")
    admin_token = make_account(server, admin, admin=True)
    token, colleague_token = make_account(server, mallory), make_account(server, colleague)
    here, elsewhere = "127.0.0.41", "127.0.0.42"
    over_socketio = Client(server, here).connect(token=token)
    over_ws = Plain(server, here, token=token)
    assert over_ws.wait("welcome")["user"] == mallory
    moderator = Plain(server, token=admin_token)  # the admin on /ws: ban, bans, unban there too
    assert moderator.call("ban", user=mallory, reason="abuse") == {"ok": True}
    assert over_socketio.closed_by_server()
    assert over_ws.closed()[0] == 1008

    # Straight back as a guest, from the same address: refused on both transports.
    refused = Client(server, here).connect(name=unique("innocent"))
    assert refused.refusal["code"] == "banned" and refused.refusal["until"].endswith("Z")
    assert Plain(server, here, name=unique("innocent")).refused()[:2] == ("banned", 1008)
    assert Client(server, here).connect(token=token).refusal["code"] == "invalid_token"
    # Another address is someone else; an account behind the banned address (an office) is too.
    assert guest_admitted(server, elsewhere, unique("other"))
    assert Client(server, here).connect(token=colleague_token).refusal is None

    bans = {(b["user"], b["address"]) for b in moderator.call("bans", limit=200)["bans"]}
    assert {(mallory, None), (mallory, here)} <= bans
    assert moderator.call("unban", address=here) == {"ok": True, "lifted": 1}
    assert guest_admitted(server, here, unique("innocent"))
    assert code(moderator.call("unban", address=here)) == "not_found"




def test_a_banned_guest_is_closed_everywhere_and_kept_out_until_the_ban_ends(tmp_path,
                                                                            shared_redis):
    servers = [LiveServer(tmp_path, REDIS_URL=shared_redis) for _ in range(2)]  # one database
    try:
        for live in servers:
            live.start()
        one, two = servers
        admin, troll = unique("root"), unique("Troll")
        admin_token = make_account(one, admin, admin=True)
        here, elsewhere, third = "127.0.0.43", "127.0.0.44", "127.0.0.45"
        guest = Client(two, here).connect(name=troll)  # on the other process
        assert guest.refusal is None
        moderator = Client(one).connect(token=admin_token)
        assert moderator.call("ban", {"user": troll.lower(), "minutes": 0.05}) == {"ok": True}
        assert guest.closed_by_server()

        for live in servers:  # the name from anywhere, the address under any name, everywhere
            assert Client(live, elsewhere).connect(name=troll).refusal["code"] == "banned"
            assert Client(live, here).connect(name=unique("x")).refusal["code"] == "banned"
            assert Plain(live, here, name=unique("x")).refused()[0] == "banned"
        assert guest_admitted(one, third, unique("bystander"))
        listed = [b for b in moderator.call("bans")["bans"] if b["user"] == troll.lower()]
        assert {(b["guest"], b["address"], b["by"]) for b in listed} == {
            (True, None, admin), (True, here, admin)}

        # After the ban's three minutes' twentieth (3 s), both come back.
        assert eventually(lambda: guest_admitted(one, here, troll), timeout=10)
        assert guest_admitted(two, elsewhere, unique("x"))
        moderator.close()
    finally:
        for live in servers:
            live.stop()


def test_a_kicked_guest_cannot_rejoin_under_a_new_name_until_the_kick_ends(server):
    owner, room = unique("owner"), unique("hall")
    owner_client = Client(server).connect(token=make_account(server, owner))
    assert owner_client.call("create_room", {"room": room})["ok"]
    here, name = "127.0.0.46", unique("noisy")
    noisy = Client(server, here).connect(name=name)
    assert noisy.call("join", {"room": room})["ok"]
    assert owner_client.call("kick", {"room": room, "user": name}) == {"ok": True}
    assert noisy.events["kicked"].get(timeout=10) == {"room": room, "by": owner}
    noisy.close()

    renamed = Client(server, here).connect(name=unique("quiet"))
    refused = renamed.call("join", {"room": room})
    assert code(refused) == "kicked" and refused["error"]["until"].endswith("Z")
    plain = Plain(server, here, name=unique("quieter"))
    assert code(plain.call("join", room=room)) == "kicked"
    assert renamed.call("join", {"room": "general"})["ok"]  # that room only
    neighbour = Client(server, "127.0.0.47").connect(name=unique("neighbour"))
    assert neighbour.call("join", {"room": room})["ok"]

    # The refusal says until when; then the door opens again.
    until = datetime.fromisoformat(refused["error"]["until"])
    assert 0 < (until - datetime.now(UTC)).total_seconds() <= KICK_MINUTES * 60
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.2)
    assert renamed.call("join", {"room": room})["ok"]
    for client in (renamed, neighbour, owner_client):
        client.close()
    plain.close()


def test_blocking_stops_dms_and_invitations_and_reveals_nothing(server):
    bob, mallory, gone, admin = (unique(n) for n in ("bob", "mallory", "gone", "root"))
    bob_client = Client(server).connect(token=make_account(server, bob))
    bob_plain = Plain(server, token=make_account(server, bob + "x"))  # /ws: block there too
    mallory_client = Client(server).connect(token=make_account(server, mallory))
    make_account(server, gone)
    Client(server).connect(token=make_account(server, admin, admin=True)).call("ban", {"user": gone})
    assert bob_client.call("block", {"user": mallory, "on": True}) == {"ok": True}
    assert bob_plain.call("block", user=mallory, on=True) == {"ok": True}
    assert [b["user"] for b in bob_client.call("blocks")["blocks"]] == [mallory]

    refused = mallory_client.call("dm", {"user": bob})
    assert refused == mallory_client.call("dm", {"user": gone})  # as for a banned account
    assert refused["error"]["message"] == "You cannot start a conversation with this user."
    lair = unique("lair")
    mallory_client.call("create_room", {"room": lair, "private": True})
    refused = mallory_client.call("invite", {"room": lair, "user": bob})
    assert refused == mallory_client.call("invite", {"room": lair, "user": gone})
    assert code(refused) == "forbidden"

    # Lifted, the next DM is announced: the quiet before was the block's, not the network's.
    assert bob_client.call("block", {"user": mallory, "on": False}) == {"ok": True}
    assert mallory_client.call("invite", {"room": lair, "user": bob}) == {"ok": True}
    assert bob_client.events["invited"].get(timeout=10) == {"room": lair, "by": mallory}
    assert bob_client.events["invited"].empty()  # nothing from the refused ones
    assert bob_plain.call("blocks")["blocks"][0]["user"] == mallory
    for client in (bob_client, mallory_client):
        client.close()
    bob_plain.close()


def test_the_new_ops_on_ws_refuse_guests_and_bad_input_in_the_one_error_shape(server):
    guest = Plain(server, "127.0.0.48", name=unique("g"))
    moderator = Plain(server, token=make_account(server, unique("root"), admin=True))
    for client, op, fields, expected in (
        (guest, "ban", {"user": "x"}, "forbidden"),
        (guest, "unban", {"address": "192.0.2.1"}, "forbidden"),
        (guest, "bans", {}, "forbidden"),
        (guest, "block", {"user": "x", "on": True}, "forbidden"),
        (guest, "blocks", {}, "forbidden"),
        (moderator, "ban", {"user": "x", "minutes": "soon"}, "invalid_payload"),
        (moderator, "unban", {"address": "nowhere"}, "invalid_payload"),
        (moderator, "bans", {"limit": 1000}, "invalid_payload"),
        (moderator, "ban", {}, "invalid_name"),
    ):
        answer = client.call(op, **fields)
        assert answer["ok"] is False and set(answer) == {"ok", "error"}, (op, answer)
        assert set(answer["error"]) == {"code", "message"} and answer["error"]["code"] == expected
    guest.close()
    moderator.close()
