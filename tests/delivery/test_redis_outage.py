"""Two processes share Redis and PostgreSQL; Redis hangs (SIGSTOP) and dies (SIGKILL) while bots on
both processes send. Acks never wait on Redis for long, readiness stays up, and every bot ends
with every acked message: live, or through the catch-up that ``resync`` asks for afterwards."""
import os
import random
import signal
import subprocess
import threading
import time

import pytest
import redis
import requests

from tests.delivery.support import (
    UNLIMITED,
    Bot,
    ParleyClient,
    check_delivery,
    database_app,
    make_tokens,
)
from tests.integration.conftest import start_cluster
from tests.support import ChatClient, free_port, unique

pytestmark = pytest.mark.integration

BOTS, MESSAGES, OUTAGE = 4, 40, 5.0
ACK_BOUND = 2.5  # seconds: a hung Redis used to hold an ack for 15 s (three 5 s timeouts)


class RedisServer:
    """A redis-server of the test's own, to stop, kill and restart (never the machine's)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def own_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def connect_probes(cluster) -> list[ChatClient]:
    """A guest on each process, connected and in a room of its own while Redis is fine (a new
    guest's name cannot be checked while Redis is down: that is refused with ``unavailable``)."""
    deadline = time.monotonic() + 15
    for server in cluster.servers:  # each process has seen Redis again (readiness says so)
        while requests.get(server.url + "/healthz", timeout=5).json().get("redis") != "ok":
            assert time.monotonic() < deadline, "a process never saw Redis come back"
            time.sleep(0.1)
    room = unique("probe-room")
    probes = [ChatClient(s.url, unique("probe")).connect() for s in cluster.servers]
    for probe in probes:
        probe.call("join", {"room": room})
        probe.room = room
    return probes


def probe_during(cluster, probes: list[ChatClient], seconds: float) -> dict:
    """While Redis is in trouble: how long acks and readiness checks take on each process."""
    acks, health = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for probe, server in zip(probes, cluster.servers, strict=True):
            began = time.monotonic()
            answer = probe.call("message", {"room": probe.room, "text": "probe"}, timeout=20)
            acks.append((time.monotonic() - began, answer.get("ok")))
            began = time.monotonic()
            status = requests.get(server.url + "/healthz", timeout=20).status_code
            health.append((time.monotonic() - began, status))
        time.sleep(0.2)
    for probe in probes:
        probe.close()
    return {"acks": acks, "health": health}


def test_acked_messages_reach_everyone_through_redis_hangs_and_deaths(
    tmp_path, seed, postgres_url, own_redis
):
    rng = random.Random(f"{seed}-redis-outage")
    cluster = start_cluster(tmp_path, 2, with_nginx=False, DATABASE_URL=postgres_url,
                            REDIS_URL=own_redis.url, **UNLIMITED)
    app = database_app(postgres_url)
    tokens = make_tokens(app, [unique("bot") for _ in range(BOTS)])
    room = unique("room")
    bots, stop, probes = [], threading.Event(), {}
    try:
        for i, (name, token) in enumerate(tokens.items()):
            # No periodic resync and no gap sync: what the outage cost must come back through
            # the server's ``resync`` alone.
            client = ParleyClient(transports=["websocket"], max_tries=20, ack_timeout=5,
                                  reconnect_delay=(0.05, 0.5), resync_every=10_000,
                                  gap_wait=float("inf"))
            client.connect(cluster.servers[i % 2].url, {"token": token})
            client.join(room)
            bots.append(Bot(name, client))
        senders = [threading.Thread(target=bot.send_numbered,
                                    args=([room], MESSAGES, random.Random(rng.random()), stop,
                                          0.35)) for bot in bots]
        for thread in senders:
            thread.start()
        time.sleep(rng.uniform(0.2, 1.0))
        probing = connect_probes(cluster)
        os.kill(own_redis.proc.pid, signal.SIGSTOP)  # hung: the connections stay, nothing answers
        probes["hung"] = probe_during(cluster, probing, OUTAGE)
        os.kill(own_redis.proc.pid, signal.SIGCONT)
        time.sleep(rng.uniform(0.5, 1.5))
        probing = connect_probes(cluster)
        own_redis.proc.kill()  # dead: connections refused until it is back (empty)
        own_redis.proc.wait()
        probes["dead"] = probe_during(cluster, probing, OUTAGE)
        own_redis.start()
        for thread in senders:
            thread.join(timeout=90)
        summary = check_delivery(app, bots, [room], seed, in_order=False, settle=30)
        assert summary["messages"] == BOTS * MESSAGES
        for kind, seen in probes.items():
            slow = [round(t, 2) for t, ok in seen["acks"] if t > ACK_BOUND or not ok]
            assert not slow, f"Redis {kind}: acks slow or refused: {slow} of {len(seen['acks'])}"
            unready = [(round(t, 2), s) for t, s in seen["health"] if t > ACK_BOUND or s != 200]
            assert not unready, f"Redis {kind}: /healthz slow or failing: {unready}"
        print(f"{summary}; probes:",
              {k: max(t for t, _ in v["acks"]) for k, v in probes.items()})
    finally:
        stop.set()
        for bot in bots:
            bot.client.close()
        cluster.stop()
