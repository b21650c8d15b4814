"""Presence on two real server processes sharing Redis: protocol 2 clients get deltas (a user is
news once, on whichever process, and leaves with their last connection anywhere, or with a
process that died); protocol 1 clients keep whole member lists; examples/parley_client.py keeps
its member list from the deltas."""
from __future__ import annotations

import subprocess
import threading

import pytest
import redis

from examples.parley_client import ParleyClient
from tests.support import ChatClient, LiveServer, eventually, free_port, unique

TTL = 2  # PRESENCE_TTL: a dead process's users are reaped within about twice this
PASSWORD = "long enough password"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A Redis of this module's own: killing a server must not touch anyone else's state."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save",
                             "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    assert eventually(lambda: _pings(client), 10), "redis-server did not start"
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@pytest.fixture(scope="module")
def pair(tmp_path_factory, redis_url):
    """Two processes, one database and one Redis."""
    base = tmp_path_factory.mktemp("pair")
    env = {"DATABASE_URL": f"sqlite:///{base / 'shared.sqlite3'}", "REDIS_URL": redis_url,
           "PRESENCE_TTL": str(TTL)}
    servers = []
    for i in range(2):
        (base / f"s{i}").mkdir()
        servers.append(LiveServer(base / f"s{i}", **env))
        servers[-1].start()
    yield servers
    for server in servers:
        server.stop()


def v2(url: str, name: str) -> ChatClient:
    return ChatClient(url, name).connect(name=name, protocol=2)


def test_protocol_1_lists_and_protocol_2_deltas_across_processes(pair):
    room = unique("pair")
    old, new = ChatClient(pair[0].url, unique("old")).connect(), v2(pair[1].url, unique("new"))
    for client in (old, new):
        assert client.call("join", {"room": room})["ok"]
    carol = ChatClient(pair[1].url, unique("carol")).connect()
    carol.call("join", {"room": room})
    carol.close()
    is_carol = lambda p: p["user"] == carol.name
    assert new.wait("presence", is_carol) == {"room": room, "user": carol.name, "event": "join"}
    assert new.wait("presence", is_carol) == {"room": room, "user": carol.name, "event": "leave"}
    assert carol.name in old.wait("presence", is_carol)["members"]
    assert old.wait("presence", is_carol)["members"] == sorted([old.name, new.name], key=str.casefold)
    old.close(), new.close()


def test_a_user_on_two_processes_joins_once_and_leaves_with_the_last(pair):
    room, alice = unique("tabs"), unique("alice")
    pair[0].flask("users", "create", alice, "--password", PASSWORD)
    token = pair[0].flask("tokens", "create", alice, "t").split()[-1]
    watcher = v2(pair[1].url, unique("watcher"))
    watcher.call("join", {"room": room})
    tabs = [ChatClient(server.url, alice).connect(token=token, protocol=2) for server in pair]
    for tab in tabs:
        assert tab.call("join", {"room": room})["ok"]
    assert watcher.wait("presence", lambda p: p["user"] == alice)["event"] == "join"
    tabs[0].close()
    # Still there on the other process: no second join, and no leave while a tab is open.
    with pytest.raises(TimeoutError):
        watcher.wait("presence", lambda p: p["user"] == alice, timeout=3)
    tabs[1].call("leave", {"room": room})
    assert watcher.wait("presence", lambda p: p["user"] == alice)["event"] == "leave"
    watcher.close()


def test_the_users_of_a_process_that_dies_leave_as_deltas(pair, tmp_path):
    room = unique("crash")
    doomed = LiveServer(tmp_path, **{k: pair[0].env[k] for k in ("DATABASE_URL", "REDIS_URL",
                                                                 "PRESENCE_TTL")})
    doomed.start()
    watcher = v2(pair[0].url, unique("watcher"))
    watcher.call("join", {"room": room})
    ghost = ChatClient(doomed.url, unique("ghost")).connect()
    ghost.call("join", {"room": room})
    assert watcher.wait("presence", lambda p: p["user"] == ghost.name)["event"] == "join"
    doomed.stop(kill=True)
    gone = watcher.wait("presence", lambda p: p["user"] == ghost.name, timeout=TTL * 3 + 10)
    assert gone == {"room": room, "user": ghost.name, "event": "leave"}
    assert watcher.call("join", {"room": room})["members"] == [watcher.name]
    watcher.close()


def test_the_python_client_keeps_its_member_list_from_deltas(pair):
    room, me = unique("client"), unique("py")
    early = ChatClient(pair[0].url, unique("early")).connect()
    early.call("join", {"room": room})
    client = ParleyClient(transports=["websocket"])
    client.connect(pair[1].url, {"name": me})
    try:
        client.join(room)
        assert client.members(room) == sorted([early.name, me], key=str.casefold)  # the ack's
        late = ChatClient(pair[0].url, unique("late")).connect()
        late.call("join", {"room": room})
        assert eventually(lambda: late.name in client.members(room), 10)
        early.close()
        assert eventually(lambda: client.members(room) == sorted([late.name, me], key=str.casefold), 10)
        late.close()
        assert eventually(lambda: client.members(room) == [me], 10)
    finally:
        client.close()


def _apply(members: set[str], client: ChatClient) -> set[str]:
    """``members`` with every delta ``client`` has received so far applied, in order."""
    while not client.queues["presence"].empty():
        delta = client.queues["presence"].get()
        (members.add if delta["event"] == "join" else members.discard)(delta["user"])
    return members


def test_many_joins_and_leaves_at_once_leave_every_member_list_right(pair):
    """Presence deltas of one room made in one pass of a server's loop go out together (webapp/
    server/fanout.py); whatever the batching, each member's list, from its join answer and the
    deltas in the order they came, ends as the room is."""
    room = unique("crowd")
    clients = [v2(pair[i % 2].url, unique(f"m{i}")) for i in range(20)]
    lists: dict[str, set[str]] = {}
    ready = threading.Barrier(len(clients))

    def join(client: ChatClient) -> None:
        ready.wait(timeout=30)
        ack = client.call("join", {"room": room}, timeout=30)
        assert ack["ok"], ack
        lists[client.name] = set(ack["members"])

    _together(join, clients)
    everyone = {client.name for client in clients}
    assert eventually(lambda: all(_apply(lists[c.name], c) == everyone for c in clients), 15), \
        {c.name: everyone - lists[c.name] for c in clients if lists[c.name] != everyone}

    leaving, staying = clients[::2], clients[1::2]
    ready = threading.Barrier(len(leaving))
    _together(lambda client: (ready.wait(timeout=30), client.close()), leaving)
    remaining = {client.name for client in staying}
    assert eventually(lambda: all(_apply(lists[c.name], c) == remaining for c in staying), 15), \
        {c.name: lists[c.name] ^ remaining for c in staying if lists[c.name] != remaining}
    for client in staying:
        client.close()


def _together(work, clients: list[ChatClient]) -> None:
    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
