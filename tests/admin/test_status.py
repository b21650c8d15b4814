"""The console's health page on two real servers sharing a Redis of the test's own: the
database and Redis answer, and every live process is listed with its own connections."""
from __future__ import annotations

import re

import pytest
import requests

from tests.browser.conftest import Accounts
from tests.delivery.test_redis_outage import RedisServer
from tests.support import ChatClient, LiveServer, eventually, unique

pytestmark = pytest.mark.integration


@pytest.fixture
def pair(tmp_path):
    own = RedisServer()
    own.start()
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    servers = [LiveServer(tmp_path / name, REDIS_URL=own.url, DATABASE_URL=database)
               for name in ("a", "b")]
    for server in servers:
        server.workdir.mkdir()
        server.start()
    yield servers
    for server in servers:
        server.stop()
    own.stop()


def processes(session, url) -> list[int]:
    page = session.get(url + "/admin/", timeout=10).text
    assert re.search(r'data-check="database">ok, [\d.]+ ms', page)
    assert re.search(r'data-check="redis">ok, [\d.]+ ms', page)
    return sorted(int(n) for n in re.findall(r"</code>: (\d+) connections", page))


def test_health_lists_every_process_with_its_connections(pair):
    a, b = pair
    accounts = Accounts(a)
    [admin] = accounts.make("boss", admin=True)
    session = requests.Session()
    session.cookies.set(*accounts.cookies[admin])
    clients = [ChatClient(a.url, unique("a")).connect() for _ in range(2)]
    clients.append(ChatClient(b.url, unique("b")).connect())
    try:
        assert eventually(lambda: processes(session, a.url) == [1, 2], timeout=15), \
            processes(session, a.url)
    finally:
        for client in clients:
            client.close()
    assert eventually(lambda: processes(session, a.url) == [0, 0], timeout=15)
