"""PostgreSQL under eventlet: one client's slow query must not hold up anybody else."""
import threading
import time

import psycopg2
import pytest

from tests.support import ChatClient, LiveServer, unique

pytestmark = pytest.mark.integration

BLOCK_SECONDS = 2.0


def test_a_slow_query_for_one_client_does_not_delay_the_others(cluster, postgres_url):
    server = cluster.servers[0]  # everyone on one process: that is what must not stall
    room, slow_room = unique("busy"), unique("slow")
    bob = ChatClient(server.url, unique("bob")).connect()
    carol = ChatClient(server.url, unique("carol")).connect()
    slowpoke = ChatClient(server.url, unique("slow")).connect()
    for client in (bob, carol):
        client.call("join", {"room": room})

    # An uncommitted row with the room's name: the server's INSERT of that room waits on it.
    blocker = psycopg2.connect(postgres_url)
    blocker.cursor().execute(
        "INSERT INTO rooms (name, kind, created_at) VALUES (%s, 'public', now())", (slow_room,)
    )
    joined = {}

    def slow_join():
        start = time.monotonic()
        joined["ack"] = slowpoke.call("join", {"room": slow_room}, timeout=30)
        joined["seconds"] = time.monotonic() - start

    waiter = threading.Thread(target=slow_join)
    waiter.start()
    try:
        _wait_for_a_lock_wait(postgres_url)
        for i in range(3):
            start = time.monotonic()
            sent = bob.call("message", {"room": room, "text": f"meanwhile {i}"})["message"]
            assert carol.wait("message", lambda m, i=sent["id"]: m["id"] == i, timeout=5) == sent
            assert time.monotonic() - start < 0.5 * BLOCK_SECONDS
        assert waiter.is_alive(), "the slow join did not block: the test proves nothing"
        time.sleep(BLOCK_SECONDS)  # the "slow query" lasts this long
    finally:
        blocker.rollback()
        blocker.close()
        waiter.join(timeout=30)
    assert joined["ack"]["ok"] and joined["seconds"] >= BLOCK_SECONDS
    for client in (bob, carol, slowpoke):
        client.close()


def _wait_for_a_lock_wait(url: str, timeout: float = 10.0) -> None:
    """Until a server connection waits on our lock (the slow join has reached PostgreSQL)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND wait_event_type = 'Lock'")
                if cur.fetchone()[0]:
                    return
            time.sleep(0.02)
    finally:
        conn.close()
    raise TimeoutError("the join never waited on the lock")


def test_messages_are_stored_after_the_database_drops_the_servers_connections(cluster, postgres_url):
    """A PostgreSQL restart or failover closes every connection; the next message still lands."""
    server = cluster.servers[0]
    room = unique("drop")
    bob = ChatClient(server.url, unique("bob")).connect()
    carol = ChatClient(server.url, unique("carol")).connect()
    for client in (bob, carol):
        client.call("join", {"room": room})
    before = bob.call("message", {"room": room, "text": "before"})["message"]

    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert cur.rowcount >= 1  # the servers' connections, the message writer's among them

    after = bob.call("message", {"room": room, "text": "after", "client_id": unique("c")})
    assert after["ok"], after
    assert carol.wait("message", lambda m: m["id"] == after["message"]["id"], timeout=5)
    with admin.cursor() as cur:
        cur.execute("SELECT m.id, m.text FROM messages m JOIN rooms r ON r.id = m.room_id"
                    " WHERE r.name = %s ORDER BY m.id", (room,))
        assert cur.fetchall() == [(before["id"], "before"), (after["message"]["id"], "after")]
    admin.close()
    for client in (bob, carol):
        client.close()


def test_messages_are_stored_when_events_hold_every_pooled_connection(tmp_path, postgres_url):
    """The committer stores messages on a connection of its own pool: events waiting for their
    message hold the shared pool's connections, and a committer waiting for one of those would
    wait for them while they wait for it (before: every event failed after DB_POOL_TIMEOUT)."""
    server = LiveServer(tmp_path, DATABASE_URL=postgres_url, DB_POOL_SIZE="1",
                        DB_MAX_OVERFLOW="0", DB_POOL_TIMEOUT="3",
                        RATE_LIMIT_MESSAGE="100000 per minute")
    server.start()
    room = unique("pool")
    clients = [ChatClient(server.url, unique("c")).connect() for _ in range(4)]
    try:
        for client in clients:
            assert client.call("join", {"room": room})["ok"]
        start = threading.Barrier(len(clients))
        acks: dict[str, list] = {client.name: [] for client in clients}

        def send(client: ChatClient) -> None:
            start.wait()
            for i in range(5):  # the room's archived-state check, read every 2 s, among them
                acks[client.name].append(client.call("message", {"room": room, "text": str(i)},
                                                     timeout=15))

        threads = [threading.Thread(target=send, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        failed = [ack for sent in acks.values() for ack in sent if not ack["ok"]]
        assert not failed, failed[:3]
        assert sum(len(sent) for sent in acks.values()) == 20
        page = clients[0].call("history", {"room": room, "limit": 50})
        assert len(page["messages"]) == 20
    finally:
        for client in clients:
            client.close()
        server.stop()
