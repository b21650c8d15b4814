"""Rate limits over the wire: refused with a code, nothing stored, connection kept, floods closed.

Attacks tried: a message burst, a typing burst, reconnecting to reset the counters, and a
sustained flood that ignores `rate_limited`.
"""
import pytest

from tests.support import ChatClient


@pytest.fixture
def server(fresh_server):
    fresh_server.env.update(RATE_LIMIT_MESSAGE="5 per 10 seconds", RATE_LIMIT_FLOOD="10 per minute")
    fresh_server.start()
    return fresh_server


def burst(client, room, count):
    return [client.call("message", {"room": room, "text": f"m{i}"}) for i in range(count)]


def test_over_the_limit_is_refused_and_stores_nothing(server):
    alice = ChatClient(server.url, "alice").connect()
    alice.call("join", {"room": "general"})
    acks = burst(alice, "general", 7)
    assert [a["ok"] for a in acks] == [True] * 5 + [False] * 2
    assert {a["error"]["code"] for a in acks[5:]} == {"rate_limited"}
    assert all(0 < a["error"]["retry_after"] <= 10 for a in acks[5:])  # when to try again
    assert alice.sio.connected
    assert len(alice.call("history", {"room": "general"})["messages"]) == 5
    alice.close()


def test_limits_hold_across_reconnects(server):
    alice = ChatClient(server.url, "alice").connect()
    alice.call("join", {"room": "general"})
    burst(alice, "general", 5)
    alice.close()
    again = ChatClient(server.url, "alice").connect()
    again.call("join", {"room": "general"})
    assert again.call("message", {"room": "general", "text": "x"})["error"]["code"] == "rate_limited"
    again.close()


def test_a_sustained_flood_closes_the_connection(server):
    alice = ChatClient(server.url, "alice").connect()
    alice.call("join", {"room": "general"})
    codes = []
    for _ in range(40):
        if not alice.sio.connected:
            break
        try:
            codes.append(alice.call("message", {"room": "general", "text": "flood"}, timeout=2))
        except Exception:  # noqa: BLE001 - the server hung up mid-call
            break
    codes = [a["error"]["code"] for a in codes if not a["ok"]]
    assert "flood" in codes
    assert alice.disconnected.wait(timeout=5)
    # everyone else carries on
    bob = ChatClient(server.url, "bob").connect()
    assert bob.call("join", {"room": "general"})["ok"]
    bob.close()
