"""Web Push end to end: a real server (python wsgi.py) sends to a loopback push service that
verifies the VAPID token and decrypts each push with the subscription's own key."""
from __future__ import annotations

import sqlite3
import threading

import pytest
import requests

from tests.pushservice import PushService
from tests.support import ChatClient, LiveServer, eventually, unique
from webapp.notify.webpush import generate_keys

PASSWORD = "correct horse battery"
PRIVATE, PUBLIC = generate_keys()
SETTINGS = {
    "VAPID_PRIVATE_KEY": PRIVATE, "VAPID_SUBJECT": "mailto:ops@example.test",
    "PUSH_SERVICE_HOSTS": "127.0.0.1", "NOTIFY_POLL_SECONDS": "0.2",
    "NOTIFY_IDLE_SECONDS": "3", "NOTIFY_RETRY_SECONDS": "0.3",
}


@pytest.fixture(scope="module")
def push():
    with PushService(PUBLIC) as service:
        yield service


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("notify"), **SETTINGS)
    server.start()
    yield server
    server.stop()


def account(server: LiveServer, prefix: str) -> tuple[str, str]:
    """A new user and an API token of theirs."""
    name = unique(prefix)
    server.flask("users", "create", name, "--password", PASSWORD)
    return name, server.flask("tokens", "create", name, "t")


def subscribe(server: LiveServer, token: str, subscription: dict) -> None:
    answer = requests.post(f"{server.url}/api/push/subscriptions", json=subscription,
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 201, answer.text


def dm(server: LiveServer, token: str, to: str, text: str) -> tuple[str, int]:
    """Open a DM with ``to`` and post ``text`` in it; answers the room and the message id."""
    client = ChatClient(server.url, "sender").connect(token=token)
    try:
        room = client.call("dm", {"user": to})["room"]["name"]
        assert client.call("join", {"room": room})["ok"]
        ack = client.call("message", {"room": room, "text": text})
        assert ack["ok"], ack
        return room, ack["message"]["id"]
    finally:
        client.close()


def rows(server: LiveServer, message_id: int) -> list[tuple]:
    with sqlite3.connect(server.workdir / "live.sqlite3") as conn:
        return conn.execute("SELECT target, status, attempts FROM notifications "
                            "WHERE message_id = ?", (message_id,)).fetchall()


def test_the_key_is_served(server):
    assert requests.get(f"{server.url}/api/push/key", timeout=10).json() == {"key": PUBLIC}


def test_an_idle_person_gets_one_push_per_dm(server, push):
    alice, alice_token = account(server, "alice")
    bob, bob_token = account(server, "bob")
    subscribe(server, bob_token, push.subscribe())
    text = "lunch at noon? " + "x" * 300
    room, message_id = dm(server, alice_token, bob, text)
    got = push.wait_for(lambda p: p["payload"]["message"] == message_id)
    assert got["payload"]["room"] == room
    assert got["payload"]["author"] == alice
    assert got["payload"]["text"].startswith("lunch at noon? xxx")
    assert len(got["payload"]["text"]) <= 140
    assert got["payload"]["url"] == f"/?room={room}&message={message_id}"
    assert eventually(lambda: rows(server, message_id)[0][1] == "sent", timeout=10)
    assert len(rows(server, message_id)) == 1  # one row, sent once: the unique key held
    assert len([p for p in push.received if p["payload"]["message"] == message_id]) == 1


def test_a_person_at_their_screen_gets_none(server, push):
    _, alice_token = account(server, "alice")
    bob, bob_token = account(server, "bob")
    subscribe(server, bob_token, push.subscribe())
    page = ChatClient(server.url, bob).connect(token=bob_token)
    stop, reported = threading.Event(), threading.Event()

    def foreground():  # what static/js/activity.js does, faster
        while not stop.is_set():
            assert page.call("active", {"active": True})["ok"]
            reported.set()
            stop.wait(0.5)

    threading.Thread(target=foreground, daemon=True).start()
    try:
        assert reported.wait(10)
        _, message_id = dm(server, alice_token, bob, "are you there?")
        assert eventually(lambda: rows(server, message_id)
                          and rows(server, message_id)[0][1] == "skipped", timeout=20)
    finally:
        stop.set()
        page.close()
    assert not [p for p in push.received if p["payload"]["message"] == message_id]


def test_a_failing_push_service_is_retried_and_delivers_once(server, push):
    _, alice_token = account(server, "alice")
    bob, bob_token = account(server, "bob")
    subscribe(server, bob_token, push.subscribe())
    push.answers.extend([500, 503])
    _, message_id = dm(server, alice_token, bob, "third time lucky")
    push.wait_for(lambda p: p["payload"]["message"] == message_id)
    assert eventually(lambda: rows(server, message_id)[0][1:] == ("sent", 2), timeout=10)
    assert len([p for p in push.received if p["payload"]["message"] == message_id]) == 1


def test_a_gone_subscription_is_removed(server, push):
    _, alice_token = account(server, "alice")
    bob, bob_token = account(server, "bob")
    subscribe(server, bob_token, push.subscribe())
    push.answers.append(410)
    _, message_id = dm(server, alice_token, bob, "anyone?")
    assert eventually(lambda: rows(server, message_id)
                      and rows(server, message_id)[0][1] == "dropped", timeout=20)
    settings = requests.get(f"{server.url}/api/notifications/settings", timeout=10,
                            headers={"Authorization": f"Bearer {bob_token}"}).json()
    assert settings["account"]["subscriptions"] == []
