"""Long-polling session hijack: a session id replayed from another address gets nothing.

The victim chats over long-polling from 127.0.0.1 in a private conversation; the attacker has
the session id (it is in every polling URL, so in access logs) and replays it from 127.0.0.2 with
no cookie: polling for the victim's events, posting as the victim, upgrading the session to a
WebSocket. Each is refused, nothing is stored, and the victim's session carries on.
"""
import http.client
import json
import socket

import pytest
import websocket

from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

ATTACKER = "127.0.0.2"


def from_attacker(server, method: str, path: str, body: str | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10,
                                      source_address=(ATTACKER, 0))
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "text/plain"})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_a_polling_session_id_replayed_from_another_address_is_refused(live_server):
    room = unique("secret")
    victim = ChatClient(live_server.url, unique("victim"), transports=["polling"]).connect()
    watcher = ChatClient(live_server.url, unique("watcher")).connect()
    for client in (victim, watcher):
        client.call("join", {"room": room})
    sid = victim.sio.eio.sid
    path = f"/socket.io/?EIO=4&transport=polling&sid={sid}"

    status, body = from_attacker(live_server, "GET", path)
    assert status == 400 and "invalid_session" in body, (status, body)
    event = "42" + json.dumps(["message", {"room": room, "text": "sent by the attacker"}])
    status, body = from_attacker(live_server, "POST", path, event)
    assert status == 400 and "invalid_session" in body, (status, body)
    upgrade = live_server.url.replace("http", "ws") + f"/socket.io/?EIO=4&transport=websocket&sid={sid}"
    sock = socket.create_connection(("127.0.0.1", live_server.port), timeout=5,
                                    source_address=(ATTACKER, 0))
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(upgrade, timeout=5, socket=sock)
    assert refused.value.status_code == 400

    # The victim's own session is untouched: its next message goes through and is the only one.
    sent = victim.call("message", {"room": room, "text": "still mine"})
    assert sent["ok"], sent
    assert watcher.wait("message")["text"] == "still mine"
    texts = [m["text"] for m in watcher.call("history", {"room": room})["messages"]]
    assert texts == ["still mine"]
    victim.close()
    watcher.close()
