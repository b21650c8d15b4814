"""/metrics with two processes on one host (PROMETHEUS_MULTIPROC_DIR): a scrape of either one
sums both, and a process that crashed leaves the live gauge."""
from __future__ import annotations

import pytest
import requests

from tests.integration.conftest import Nginx, start_cluster
from tests.metrics import scrape, value
from tests.support import ChatClient, eventually, unique

pytestmark = pytest.mark.integration


def test_a_scrape_of_one_process_sums_both(tmp_path, postgres_url, redis_url):
    shared = tmp_path / "prom"
    shared.mkdir()
    cluster = start_cluster(tmp_path, 2, with_nginx=False, DATABASE_URL=postgres_url,
                            REDIS_URL=redis_url, PROMETHEUS_MULTIPROC_DIR=str(shared))
    first, second = cluster.servers
    room, clients = unique("summed"), []
    try:
        clients = [ChatClient(server.url, unique("user")).connect()
                   for server in (first, second, second)]
        for client in clients:
            assert client.call("join", {"room": room})["ok"]
        for client in clients:
            assert client.call("message", {"room": room, "text": "counted"})["ok"]
        for samples in (scrape(first.url), scrape(second.url)):
            assert value(samples, "parley_connections", transport="socketio") == 3
            assert value(samples, "parley_operations_total", op="message") == 3
            assert value(samples, "parley_ack_seconds_count", op="message") == 3
        # Each message reached all three members: on their own processes, through Redis.
        assert eventually(lambda: value(scrape(first.url), "parley_fanout_deliveries_total",
                                        event="message") == 9, timeout=30)
        second.stop(kill=True)  # no goodbye: its connections are never decremented
        assert value(scrape(first.url), "parley_connections", transport="socketio") == 1
    finally:
        for client in clients:
            client.close()
        cluster.stop()


def test_the_proxy_keeps_it_private(tmp_path):
    """Behind nginx every caller would come from 127.0.0.1, which METRICS_ALLOW lets in."""
    proxy = Nginx(tmp_path, [1])  # the upstream is never reached
    proxy.start()
    try:
        assert requests.get(proxy.url + "/metrics", timeout=10).status_code == 404
    finally:
        proxy.stop()
