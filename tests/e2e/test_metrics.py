"""/metrics on the real server: what traffic moves, and who may read it."""
from __future__ import annotations

import pytest
import requests

from tests.gateway.conftest import PlainClient
from tests.metrics import scrape, value
from tests.support import ChatClient, FromAddress, LiveServer, eventually, unique


@pytest.fixture
def server(tmp_path):
    (tmp_path / "prom").mkdir()
    server = LiveServer(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
                        RATE_LIMIT_TYPING="2 per minute", METRICS_ALLOW="127.0.0.1/32")
    server.start()
    yield server
    server.stop()


def test_traffic_moves_the_counters(server):
    room = unique("metrics")
    alice = ChatClient(server.url, unique("alice")).connect()
    bob = ChatClient(server.url, unique("bob")).connect()
    plain = PlainClient(server.url, name=unique("carol"))
    try:
        before = scrape(server.url)
        for client in (alice, bob):
            assert client.call("join", {"room": room})["ok"]
        assert plain.call("join", room=room)["ok"]
        for n in range(3):
            assert alice.call("message", {"room": room, "text": f"counted {n}"})["ok"]
        bob.wait("message", lambda m: m["text"] == "counted 2")
        assert alice.call("message", {"room": room})["error"]["code"] == "invalid_text"
        typing = [alice.call("typing", {"room": room, "typing": True}) for _ in range(3)]
        assert typing[-1]["error"]["code"] == "rate_limited"
        after = scrape(server.url)
    finally:
        alice.close()
        bob.close()
        plain.close()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    assert value(after, "parley_connections", transport="socketio") == 2
    assert value(after, "parley_connections", transport="ws") == 1
    assert moved("parley_operations_total", op="message") == 4
    assert moved("parley_operations_total", op="join") == 3
    assert moved("parley_ack_seconds_count", op="message") == 4
    assert moved("parley_errors_total", code="invalid_text") == 1
    assert moved("parley_rate_limited_total", action="typing") == 1
    assert moved("parley_broadcasts_total", event="message") == 3
    assert moved("parley_fanout_deliveries_total", event="message") == 9  # 3 members x 3
    assert moved("parley_database_seconds_count") > 0
    # Gone connections leave the gauge.
    assert eventually(lambda: value(scrape(server.url), "parley_connections",
                                    transport="socketio") == 0, timeout=30)


def test_only_allowed_addresses_read_it(server):
    assert requests.get(server.url + "/metrics", timeout=30).status_code == 200
    other = requests.Session()
    other.mount("http://", FromAddress("127.0.0.2"))
    answer = other.get(server.url + "/metrics", timeout=30)
    assert answer.status_code == 403 and "parley_" not in answer.text


def test_a_token_opens_it_from_anywhere(tmp_path):
    server = LiveServer(tmp_path, METRICS_TOKEN="scrape-secret", METRICS_ALLOW="")
    server.start()
    try:
        url = server.url + "/metrics"
        assert requests.get(url, timeout=30).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert requests.get(url, headers=wrong, timeout=30).status_code == 401
        samples = scrape(server.url, Authorization="Bearer scrape-secret")
        assert any(name == "parley_database_seconds_count" for name, _ in samples)
    finally:
        server.stop()
