"""Slash built-ins on the real server over every transport: Socket.IO (python-socketio), the
plain WebSocket (/ws) and REST, with what other clients see."""
import pytest
import requests

from tests.gateway.conftest import PlainClient
from tests.support import ChatClient, unique

pytestmark = pytest.mark.e2e

PASSWORD = "a long password here"


def test_builtins_over_socketio_ws_and_rest(live_server):
    owner, room = unique("own"), unique("room")
    live_server.flask("users", "create", owner, "--password", PASSWORD)
    token = live_server.flask("tokens", "create", owner, "t")
    sio = ChatClient(live_server.url, owner).connect(token=token)
    topics = []
    sio.sio.on("topic", topics.append)
    plain = PlainClient(live_server.url, name=unique("guest"))
    try:
        assert sio.call("create_room", {"room": room})["ok"]
        assert sio.call("join", {"room": room})["ok"] and plain.call("join", room=room)["ok"]
        # /me from /ws: Socket.IO sees an action
        action = plain.call("message", room=room, text="/me waves")
        assert action["ok"] and action["message"]["kind"] == "me"
        seen = sio.wait("message", lambda m: m["id"] == action["message"]["id"])
        assert (seen["text"], seen["kind"]) == ("waves", "me")
        # /topic from Socket.IO (the owner): /ws gets the event
        assert sio.call("message", {"room": room, "text": "/topic Ship it"}) == {
            "ok": True, "topic": "Ship it"}
        assert plain.wait("topic", lambda t: t["room"] == room) == {
            "room": room, "topic": "Ship it", "by": owner}
        # a guest may not set a public room's topic; an unknown command stores nothing
        assert plain.call("message", room=room, text="/topic mine")["error"]["code"] == "forbidden"
        unknown = plain.call("message", room=room, text="/nope x")
        assert unknown["error"]["code"] == "unknown_command" and unknown["error"]["command"] == "nope"
        # REST: the same commands through the message endpoint
        rest = requests.post(f"{live_server.url}/api/rooms/{room}/messages",
                             json={"text": "/me deploys"}, headers={"Authorization": f"Bearer {token}"},
                             timeout=10)
        assert rest.status_code == 201 and rest.json()["message"]["kind"] == "me"
        refused = requests.post(f"{live_server.url}/api/rooms/{room}/messages",
                                json={"text": "/leave"}, headers={"Authorization": f"Bearer {token}"},
                                timeout=10)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "not_available"
        # /leave from /ws: Socket.IO sees it go; /ws is out of the room
        assert plain.call("message", room=room, text="/leave")["ok"]
        sio.wait("presence", lambda p: p["event"] == "leave" and p["room"] == room)
        assert plain.call("message", room=room, text="hi")["error"]["code"] == "not_in_room"
        history = sio.call("history", {"room": room})["messages"]
        assert [(m["text"], m.get("kind")) for m in history] == [("waves", "me"), ("deploys", "me")]
        assert sio.call("join", {"room": room})["room"]["topic"] == "Ship it"
    finally:
        sio.close()
        plain.close()
