"""The Socket.IO heartbeat against the real server: pings keep a live client, a silent one is dropped.

A raw Engine.IO client over websocket-client sees the server's PING packets themselves (the
server's per-connection ping timer, webapp/server/connections.py), answers some, then goes silent the
way a phone that lost its network does: the server must close it and tell the room it left.
"""
import itertools
import json
import time

import pytest
import websocket

from tests.support import ChatClient, LiveServer, RawClient, unique

# Whole seconds: python-engineio advertises pingInterval as int(seconds) * 1000.
INTERVAL, TIMEOUT = 1, 1


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("heartbeat"),
                      PING_INTERVAL=str(INTERVAL), PING_TIMEOUT=str(TIMEOUT))
    live.start()
    yield live
    live.stop()


def test_the_server_pings_and_a_client_that_answers_stays(server):
    room = unique("beat")
    watcher = ChatClient(server.url, unique("watcher")).connect()
    watcher.call("join", {"room": room})
    raw = RawClient(server.url, unique("raw"), room)
    pings = []
    while len(pings) < 3:  # each answered ping must be followed by another
        packet = raw.ws.recv()
        if packet == "2":
            pings.append(time.monotonic())
            raw.ws.send("3")
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert all(INTERVAL * 0.8 <= gap <= INTERVAL * 4 for gap in gaps), gaps
    # still connected and in the room: a message reaches it
    sent = watcher.call("message", {"room": room, "text": "still there?"})["message"]
    packet = raw.recv_until(lambda p: p.startswith('42["message"'))
    assert json.loads(packet[2:])[1]["id"] == sent["id"]
    raw.ws.close()
    watcher.close()


def test_a_client_that_stops_answering_is_dropped_and_leaves_the_room(server):
    room, name = unique("beat"), unique("silent")
    watcher = ChatClient(server.url, unique("watcher")).connect()
    watcher.call("join", {"room": room})
    raw = RawClient(server.url, name, room)
    while raw.ws.recv() != "2":  # the first ping: not answered, nor any after it
        pass
    silent_since = time.monotonic()
    left = watcher.wait("presence", lambda e: e["user"] == name and e["event"] == "leave",
                        timeout=INTERVAL + TIMEOUT + 5)
    assert name not in left["members"]
    assert time.monotonic() - silent_since < INTERVAL + TIMEOUT + 4
    closed = False
    deadline = time.monotonic() + 5
    while not closed and time.monotonic() < deadline:
        try:
            closed = raw.ws.recv() in ("", "1")  # the socket closed, or an Engine.IO CLOSE
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            closed = True
    assert closed, "the server kept the silent client's connection open"
    watcher.close()
