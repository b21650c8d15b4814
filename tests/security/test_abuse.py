"""Resource abuse from one user or one address, against the real server.

Attacks tried, each attacker on an address of its own (127.0.0.x): a burst of 200 room creations
(and going on under new guest names and an account from the same address); a flood of DM openings
and invitations at one person; 300 history requests in a burst; connections from one address past
MAX_CONNECTIONS_PER_ADDRESS over Socket.IO's WebSocket and long-polling and over /ws, while
another address connects and closing frees the places; 2,000 guest nicknames from one address;
the same bound across two processes sharing Redis (a crashed one's places freed); and the room
list read a page at a time.
"""
from __future__ import annotations

import json
import queue
import socket
import time

import pytest
import requests
import socketio
import websocket

from tests.support import FromAddress, LiveServer, eventually, unique
from webapp import accounts, create_app
from webapp.presence.local import LocalPresence
from webapp.presence.shared import SharedPresence

pytestmark = pytest.mark.e2e

PER_ADDRESS = 4  # MAX_CONNECTIONS_PER_ADDRESS on the module's server
CREATE_LIMIT, INVITE_LIMIT, HISTORY_LIMIT = 10, 30, 60  # the documented defaults, set explicitly
FLOOD = 50  # RATE_LIMIT_FLOOD's default: refusals before the connection is closed
LIMITS = {
    "MAX_CONNECTIONS_PER_ADDRESS": str(PER_ADDRESS),
    "RATE_LIMIT_CREATE_ROOM": f"{CREATE_LIMIT} per hour",
    "RATE_LIMIT_INVITE": f"{INVITE_LIMIT} per 10 minutes",
    "RATE_LIMIT_HISTORY": f"{HISTORY_LIMIT} per 10 seconds",
    "RATE_LIMIT_FLOOD": f"{FLOOD} per minute",
    "RATE_LIMIT_ADDRESS_FACTOR": "2",
}
# The shared_redis fixture (tests/security/conftest.py) reads it: this module's own database.
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("abuse"), **LIMITS)
    live.start()
    yield live
    live.stop()


# -- clients from a chosen address ------------------------------------------------------------


def tcp(server, address: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                    source_address=(address, 0))


class Client:
    """python-socketio from ``address``: ``Client(server, "127.0.0.9", "websocket").connect(...)``;
    ``refusal`` is the connect_error's data when the server refused it."""

    def __init__(self, server, address: str, transport: str = "websocket") -> None:
        self.server, self.transport = server, transport
        if transport == "polling":
            session = requests.Session()
            session.mount("http://", FromAddress(address))
            options = {"http_session": session}
        else:
            options = {"websocket_extra_options": {"socket": tcp(server, address)}}
        self.sio = socketio.Client(reconnection=False, **options)
        self.events: dict[str, queue.Queue] = {e: queue.Queue() for e in ("invited", "connect_error")}
        for event, events in self.events.items():
            self.sio.on(event, events.put)
        self.refusal: dict | None = None

    def connect(self, **auth) -> Client:
        try:
            self.sio.connect(self.server.url, auth=auth, transports=[self.transport], wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            self.refusal = self.events["connect_error"].get(timeout=5)["data"]
        return self

    def call(self, event: str, data=None):
        return self.sio.call(event, data, timeout=10)

    def burst(self, requests_) -> list[dict]:
        """Send ``(event, data)`` pairs, each after the last one's ack, until the server says
        ``flood`` (it then hangs up); answer the acks."""
        acks = []
        for event, data in requests_:
            try:
                acks.append(self.sio.call(event, data, timeout=5))
            except socketio.exceptions.SocketIOError:  # hung up before answering
                break
            if not acks[-1]["ok"] and acks[-1]["error"]["code"] == "flood":
                break
        return acks

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def ws_guest(server, address: str, name: str):
    """A /ws guest: answers (connection, its first frame: ``welcome`` or the refusal)."""
    ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/ws?name={name}", timeout=10,
                                     socket=tcp(server, address))
    return ws, json.loads(ws.recv())


def ws_admitted(server, address: str, name: str):
    """A /ws guest connection if the server admits it, else None (closed)."""
    ws, first = ws_guest(server, address, name)
    if first.get("event") == "welcome":
        return ws
    ws.close()
    return None


def codes(acks) -> list[str | None]:
    return [None if a["ok"] else a["error"]["code"] for a in acks]


@pytest.fixture(scope="module")
def account(server):
    """``account(name)``: a new registered user's API token, written to the server's database."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "ASYNC_MODE": "threading",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{server.workdir / 'live.sqlite3'}"})

    def make(name: str) -> str:
        with app.app_context():
            return accounts.create_token(accounts.create_user(name, "a long password"), "t")[1]

    return make


def public_rooms(server, page: int = 200) -> list[str]:
    """Every public room, read over REST a page at a time."""
    names, after = [], None
    while True:
        params = {"limit": page, **({"after": after} if after else {})}
        answer = requests.get(f"{server.url}/api/rooms", params=params, timeout=10).json()
        names += [r["name"] for r in answer["rooms"]]
        after = answer["next"]
        if after is None:
            return names




# -- room creation ------------------------------------------------------------------------------
def test_a_burst_of_room_creations_is_cut_off_and_creates_nothing_more(server, account):
    prefix = unique("spam")
    attacker = Client(server, "127.0.0.21").connect(name=unique("maker"))
    acks = attacker.burst(("create_room", {"room": f"{prefix}-{i}"}) for i in range(200))
    assert codes(acks) == [None] * CREATE_LIMIT + ["rate_limited"] * FLOOD + ["flood"]
    assert all(0 < a["error"]["retry_after"] <= 3600 for a in acks[CREATE_LIMIT:-1])
    assert eventually(lambda: not attacker.sio.connected)
    # New names from the same address, and an account there too, get no further: the address
    # (x RATE_LIMIT_ADDRESS_FACTOR=2) spent its creations in the burst.
    again = Client(server, "127.0.0.21").connect(name=unique("maker"))
    assert codes([again.call("join", {"room": f"{prefix}-join"}),
                  again.call("create_room", {"room": f"{prefix}-new"})]) == ["rate_limited"] * 2
    member = Client(server, "127.0.0.21").connect(token=account(unique("acct")))
    assert codes([member.call("create_room", {"room": f"{prefix}-acct"})]) == ["rate_limited"]
    created = [name for name in public_rooms(server) if name.startswith(prefix)]
    assert sorted(created) == sorted(f"{prefix}-{i}" for i in range(CREATE_LIMIT))
    # Someone else, elsewhere, creates rooms as usual.
    other = Client(server, "127.0.0.22").connect(name=unique("other"))
    assert other.call("join", {"room": f"{prefix}-elsewhere"})["ok"]
    for client in (again, member, other):
        client.close()


# -- invitations --------------------------------------------------------------------------------
def test_an_invitation_flood_reaches_its_target_at_most_the_limit_of_times(server, account):
    sender, target = unique("sender"), unique("target")
    token = account(sender)
    victim = Client(server, "127.0.0.23").connect(token=account(target))
    attacker = Client(server, "127.0.0.24").connect(token=token)
    den = unique("den")
    assert attacker.call("create_room", {"room": den, "private": True})["ok"]
    # 120 notifications asked for, invitations and DM openings in turn
    acks = attacker.burst([("invite", {"room": den, "user": target}), ("dm", {"user": target})] * 60)
    assert codes(acks) == [None] * INVITE_LIMIT + ["rate_limited"] * FLOOD + ["flood"]
    assert eventually(lambda: not attacker.sio.connected)
    # Reconnecting resets nothing (still refused, and still counted as flooding).
    back = Client(server, "127.0.0.24").connect(token=token)
    assert codes([back.call("dm", {"user": target})])[0] in {"rate_limited", "flood"}
    # Every invitation was sent before the attacker's acks; one round trip on the victim's own
    # connection comes back after anything sent to it before.
    assert victim.call("rooms", {})["ok"]
    assert victim.events["invited"].qsize() == INVITE_LIMIT
    for client in (victim, back):
        client.close()


# -- history ------------------------------------------------------------------------------------
def test_a_history_burst_is_refused_past_the_limit(server):
    room = unique("archive")
    reader = Client(server, "127.0.0.25").connect(name=unique("reader"))
    assert reader.call("join", {"room": room})["ok"]
    began = time.monotonic()
    acks = reader.burst(("history", {"room": room}) for _ in range(300))
    assert codes(acks) == [None] * HISTORY_LIMIT + ["rate_limited"] * FLOOD + ["flood"]
    assert all(0 < a["error"]["retry_after"] <= 10 for a in acks[HISTORY_LIMIT:-1])
    assert time.monotonic() - began < 30
    assert eventually(lambda: not reader.sio.connected)


# -- connections per address ------------------------------------------------------------------
def test_connections_past_the_bound_are_refused_on_every_transport_and_freed_on_close(server):
    address = "127.0.0.26"
    held = [Client(server, address, "websocket").connect(name=unique("ws")),
            Client(server, address, "websocket").connect(name=unique("ws")),
            Client(server, address, "polling").connect(name=unique("poll"))]
    plain, welcome = ws_guest(server, address, unique("plain"))
    assert welcome["event"] == "welcome" and all(c.sio.connected for c in held)

    for transport in ("websocket", "polling"):
        refused = Client(server, address, transport).connect(name=unique("extra"))
        assert not refused.sio.connected
        assert refused.refusal["code"] == "too_many_connections", refused.refusal
        assert refused.refusal["limit"] == PER_ADDRESS
    ws, answer = ws_guest(server, address, unique("extra"))
    assert answer["ok"] is False and answer["error"]["code"] == "too_many_connections"
    opcode, frame = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(frame[:2], "big") == 1008
    assert frame[2:].decode().startswith("too_many_connections")
    ws.close()

    elsewhere = Client(server, "127.0.0.27", "websocket").connect(name=unique("fine"))
    assert elsewhere.sio.connected

    held.pop(0).close()  # a Socket.IO connection ends: its place is free again

    def reconnects():
        client = Client(server, address, "websocket").connect(name=unique("again"))
        return client if client.sio.connected else None

    again = eventually(reconnects)
    assert again, "closing a connection did not free its place"
    plain.close()  # and a /ws one
    replacement = eventually(lambda: ws_admitted(server, address, unique("ws")))
    assert replacement, "closing a /ws connection did not free its place"
    replacement.close()
    for client in (*held, again, elsewhere):
        client.close()


def test_one_address_cannot_reserve_two_thousand_nicknames(server):
    address, names = "127.0.0.28", [unique("nick") for _ in range(2000)]
    admitted, refusals, deadline = [], [], time.monotonic() + 60
    for name in names:
        ws, first = ws_guest(server, address, name)
        if first.get("event") == "welcome":
            admitted.append(ws)
        else:
            refusals.append(first["error"]["code"])
            ws.close()
        if time.monotonic() > deadline:
            break
    assert len(admitted) == PER_ADDRESS
    assert len(admitted) + len(refusals) == 2000 and set(refusals) == {"too_many_connections"}
    # The refused names were never reserved: someone elsewhere takes one.
    taken, first = ws_guest(server, "127.0.0.29", names[-1])
    assert first["event"] == "welcome"
    for ws in (*admitted, taken):
        ws.close()
    # Closed, the places come back.
    freed = eventually(lambda: ws_admitted(server, address, unique("nick")))
    assert freed, "closing /ws connections did not free their places"
    freed.close()




def test_the_bound_holds_across_processes_sharing_redis(tmp_path, shared_redis):
    env = {"REDIS_URL": shared_redis, "MAX_CONNECTIONS_PER_ADDRESS": "3"}
    servers = [LiveServer(tmp_path, **env), LiveServer(tmp_path, **env)]  # one database
    try:
        for live in servers:
            live.start()
        one, two = servers
        address = "127.0.0.30"
        held = [Client(one, address).connect(name=unique("a")),
                Client(one, address).connect(name=unique("a")),
                Client(two, address).connect(name=unique("b"))]
        assert all(c.sio.connected for c in held)
        for live in servers:
            refused = Client(live, address).connect(name=unique("c"))
            assert refused.refusal and refused.refusal["code"] == "too_many_connections"
        assert Client(two, "127.0.0.31").connect(name=unique("d")).sio.connected
        held.pop(0).close()  # a place on the first process frees one on the second

        def reconnects():
            client = Client(two, address).connect(name=unique("e"))
            return client if client.sio.connected else None

        assert eventually(reconnects)
    finally:
        for live in servers:
            live.stop()


def test_a_crashed_process_holds_no_places(shared_redis):
    """Its heartbeat gone, a dead process's connections stop counting, and reaping drops them."""
    prefix = f"parley:test-{unique('p')}:"
    (a, local_a), (b, local_b) = [(SharedPresence(shared_redis, ttl=5, prefix=prefix),
                                   LocalPresence()) for _ in range(2)]
    for shared, local in ((a, local_a), (b, local_b)):
        shared.resync(local)
    assert [a.hold_address("10.9.9.9", 2) for _ in range(3)] == [True, True, False]
    assert not b.hold_address("10.9.9.9", 2)
    a.forget()  # as after a crash plus PRESENCE_TTL
    assert b.hold_address("10.9.9.9", 2)
    b.reap()
    assert a.redis.hkeys(f"{prefix}conns:10.9.9.9") == [b.proc]


# -- room lists -----------------------------------------------------------------------------------
def test_room_lists_come_a_page_at_a_time_everywhere(server):
    lister = Client(server, "127.0.0.32").connect(name=unique("lister"))
    for i in range(5):
        assert lister.call("join", {"room": unique(f"list{i}")})["ok"]
    everything = public_rooms(server)
    assert everything == sorted(everything) and len(everything) > 5
    assert public_rooms(server, page=2) == everything  # small pages add up to the whole list
    first = lister.call("rooms", {"limit": 2})
    assert [r["name"] for r in first["rooms"]] == everything[:2] and first["next"] == everything[1]
    second = lister.call("rooms", {"limit": 2, "after": first["next"]})
    assert [r["name"] for r in second["rooms"]] == everything[2:4]
    whole = lister.call("rooms")  # a version 1 client: no arguments, the first 100
    assert [r["name"] for r in whole["rooms"]] == everything[:100]
    assert whole["next"] == (everything[99] if len(everything) > 100 else None)
    ws, _ = ws_guest(server, "127.0.0.32", unique("plain"))
    ws.send(json.dumps({"op": "rooms", "limit": 3, "after": everything[0], "ref": 1}))
    page = json.loads(ws.recv())
    assert page["ref"] == 1 and [r["name"] for r in page["rooms"]] == everything[1:4]
    ws.send(json.dumps({"op": "rooms", "limit": 500, "ref": 2}))
    assert json.loads(ws.recv())["error"]["code"] == "invalid_payload"
    ws.close()
    lister.close()
