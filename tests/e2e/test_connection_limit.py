"""MAX_CONNECTIONS: past it a new WebSocket is refused with 1013, and the server carries on.

Idle WebSockets hold no WSGI request (webapp/server/connections.py), so eventlet's own connection cap
does not count them; without Parley's, a flood would run the process out of descriptors.
"""
import pytest
import requests
import websocket

from tests.support import ChatClient, LiveServer, unique

LIMIT = 3


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path, MAX_CONNECTIONS=str(LIMIT))
    live.start()
    yield live
    live.stop()


def test_a_websocket_past_the_limit_is_refused_and_the_others_carry_on(server):
    room = unique("full")
    members = [ChatClient(server.url, unique("m"), ["websocket"]).connect() for _ in range(LIMIT)]
    for member in members:
        member.call("join", {"room": room})

    extra = websocket.create_connection(
        server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket", timeout=5)
    opcode, frame = extra.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE  # at once, before any Engine.IO packet
    assert int.from_bytes(frame[:2], "big") == 1013

    assert requests.get(server.url + "/healthz", timeout=5).ok
    sent = members[0].call("message", {"room": room, "text": "still here"})["message"]
    assert members[-1].wait("message", lambda m: m["id"] == sent["id"])

    members.pop().close()  # a place frees up
    members[0].wait("presence", lambda e: e["event"] == "leave")
    again = ChatClient(server.url, unique("again"), ["websocket"]).connect()
    assert again.call("join", {"room": room})["ok"]
    for client in (*members, again):
        client.close()
