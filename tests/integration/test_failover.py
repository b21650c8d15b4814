"""Losing a process (SIGKILL) or Redis for a while: the rest carries on without a restart."""
import queue
import subprocess
import time

import pytest
import redis
import socketio

from tests.integration.conftest import PRESENCE_TTL, require, start_cluster
from tests.support import ChatClient, free_port, unique

pytestmark = pytest.mark.integration

# A dead process's users go once its heartbeat expires and a survivor's next beat reaps them.
EXPIRY = float(PRESENCE_TTL) * 2 + 2


def test_a_killed_process_clients_move_and_its_users_leave(tmp_path, postgres_url, redis_url):
    cluster = start_cluster(tmp_path, 2, DATABASE_URL=postgres_url, REDIS_URL=redis_url)
    room = unique("crash")
    try:
        bob = ChatClient(cluster.url, unique("bob"), headers=cluster.cookie_for(1)).connect()
        ghost = ChatClient(cluster.url, unique("ghost"), headers=cluster.cookie_for(0)).connect()
        alice = ChatClient(cluster.url, unique("alice"), headers=cluster.cookie_for(0),
                           reconnection=True)
        reconnected = queue.Queue()
        alice.sio.on("connect", lambda: reconnected.put(True))
        alice.connect()
        reconnected.get(timeout=5)
        for client in (bob, ghost, alice):
            client.call("join", {"room": room})

        cluster.servers[0].stop(kill=True)
        ghost.sio.disconnect()  # a user who does not come back

        # alice's client reconnects through nginx (same cookie) to the survivor; her name is
        # free again once the dead process's heartbeat has expired.
        reconnected.get(timeout=EXPIRY + 10)
        assert cluster.server_of(cluster.cookies[0]) == 1
        rejoined = alice.call("join", {"room": room})
        gone = bob.wait("presence", lambda p: p["user"] == ghost.name and p["event"] == "leave",
                        timeout=EXPIRY)
        assert ghost.name not in gone["members"]
        members = bob.call("join", {"room": room})["members"]
        assert sorted(members) == sorted([alice.name, bob.name])
        assert alice.name in rejoined["members"]
        sent = alice.call("message", {"room": room, "text": "back"})["message"]
        assert bob.wait("message", lambda m: m["id"] == sent["id"]) == sent
        for client in (alice, bob):
            client.close()
    finally:
        cluster.stop()


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of the test's own on a free port, so restarting it leaves the shared one alone."""
    binary = subprocess.run(["which", "redis-server"], capture_output=True, text=True, check=False).stdout.strip()
    require(bool(binary), "redis-server is not installed")
    port = free_port()
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly",
            "no", "--dir", str(tmp_path)]
    server = {"proc": None}

    def start():
        server["proc"] = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop():
        server["proc"].terminate()
        server["proc"].wait(timeout=10)

    start()
    yield f"redis://127.0.0.1:{port}/0", start, stop
    if server["proc"].poll() is None:
        stop()


def test_servers_recover_from_a_redis_restart_by_themselves(tmp_path, postgres_url, own_redis):
    url, start_redis, stop_redis = own_redis
    cluster = start_cluster(tmp_path, 2, with_nginx=False, DATABASE_URL=postgres_url,
                            REDIS_URL=url)
    room = unique("outage")
    try:
        alice = ChatClient(cluster.servers[0].url, unique("alice")).connect()
        bob = ChatClient(cluster.servers[1].url, unique("bob")).connect()
        for client in (alice, bob):
            client.call("join", {"room": room})
        before = alice.call("message", {"room": room, "text": "before"})["message"]
        assert bob.wait("message", lambda m: m["id"] == before["id"]) == before

        stop_redis()  # with --save "": everything Redis held is gone
        during = alice.call("message", {"room": room, "text": "during"})
        assert during["ok"]  # stored, even if nobody hears it live
        start_redis()

        # Within seconds: live delivery across processes again, with no server restarted.
        for attempt in range(40):
            sent = alice.call("message", {"room": room, "text": f"after {attempt}"})["message"]
            try:
                bob.wait("message", lambda m, i=sent["id"]: m["id"] == i, timeout=0.5)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("messages did not flow again after Redis came back")
        assert all(s.proc.poll() is None for s in cluster.servers)

        history = bob.call("history", {"room": room})["messages"]
        texts = [m["text"] for m in history]
        assert texts[:2] == ["before", "during"] and texts[-1] == sent["text"]
        _wait_until(lambda: sorted(bob.call("join", {"room": room})["members"])
                    == sorted([alice.name, bob.name]))  # presence republished by the heartbeat
        with pytest.raises(socketio.exceptions.ConnectionError):  # and the names reserved again
            ChatClient(cluster.servers[1].url, alice.name).connect()
        for client in (alice, bob):
            client.close()
    finally:
        cluster.stop()


def _wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.1)
