"""Two server processes sharing PostgreSQL both run the notification outbox: every DM still
reaches the idle person's browser exactly once, and a restart sends nothing again."""
from __future__ import annotations

import uuid

import psycopg2
import pytest
import requests

from tests.e2e.test_notify_push import SETTINGS, account, dm, subscribe
from tests.integration.conftest import PG_ADMIN_URL, admin_sql, require
from tests.pushservice import PushService
from tests.support import LiveServer, eventually
from webapp.notify.webpush import generate_keys

pytestmark = pytest.mark.integration
STARTUP = 90.0  # seconds a server may take to answer after starting


@pytest.fixture
def database():
    """A database of this test's own: other servers must not move its outbox's watermark."""
    name = f"parley_notify_{uuid.uuid4().hex[:10]}"
    try:
        admin_sql(f"CREATE DATABASE {name}")
    except psycopg2.OperationalError as exc:
        require(False, f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start(server: LiveServer) -> None:
    """Start ``server``, allowing a loaded machine its time: the server listens before its
    duties have started, and LiveServer gives its first answer only a second."""
    try:
        server.start(timeout=STARTUP)
    except requests.ReadTimeout:
        assert eventually(lambda: healthy(server), timeout=STARTUP, interval=0.5)


def healthy(server: LiveServer) -> bool:
    try:
        return requests.get(server.url + "/healthz", timeout=5).ok
    except requests.RequestException:
        return False


def sent(url: str) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT message_id, status FROM notifications ORDER BY message_id")
        return cur.fetchall()


@pytest.mark.timeout(400)
def test_two_processes_push_each_dm_once(tmp_path, database, redis_url):
    private, public = generate_keys()
    settings = {**SETTINGS, "VAPID_PRIVATE_KEY": private}
    servers = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        servers.append(LiveServer(tmp_path / str(i), DATABASE_URL=database, REDIS_URL=redis_url,
                                  **settings))
    try:
        for server in servers:  # one at a time: the first migrates the database
            start(server)
        with PushService(public) as push:
            one, two = servers
            _, alice_token = account(one, "alice")
            bob, bob_token = account(one, "bob")
            subscribe(one, bob_token, push.subscribe())
            ids = [dm(server, alice_token, bob, f"note {i}")[1]
                   for i, server in enumerate([one, two] * 4)]
            assert eventually(lambda: push.count() >= len(ids), timeout=60), push.refused
            assert eventually(lambda: [s for _, s in sent(database)] == ["sent"] * len(ids),
                              timeout=30), sent(database)
            two.stop()
            start(two)
            # The restarted process notifies of what is new, and of nothing it did before.
            ids.append(dm(two, alice_token, bob, "after the restart")[1])
            push.wait_for(lambda p: p["payload"]["message"] == ids[-1], timeout=60)
            assert sorted(p["payload"]["message"] for p in push.received) == sorted(ids)
    finally:
        for server in servers:
            server.stop()
