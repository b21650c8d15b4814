"""Moderation reaches plain WebSocket clients as it reaches Socket.IO ones.

Attack tried: a kicked guest on /ws keeps posting to the room it was put out of.
"""
from tests.gateway.conftest import PlainClient
from tests.support import ChatClient, unique


def test_an_admin_kick_reaches_a_plain_websocket_client(live_server):
    admin = unique("mod")
    live_server.flask("users", "create", admin, "--admin", "--password", "a long password here")
    token = live_server.flask("tokens", "create", admin, "t")
    room, guest = unique("hall"), unique("noisy")
    moderator = ChatClient(live_server.url, admin).connect(token=token)
    moderator.call("join", {"room": room})
    plain = PlainClient(live_server.url, name=guest)
    assert plain.call("join", room=room)["ok"]
    assert moderator.call("kick", {"room": room, "user": guest}) == {"ok": True}
    assert plain.wait("kicked") == {"room": room, "by": admin}
    left = moderator.wait("presence", lambda p: p["user"] == guest and p["event"] == "leave")
    assert guest not in left["members"]
    assert plain.call("message", room=room, text="still here")["error"]["code"] == "not_in_room"
    moderator.call("message", {"room": room, "text": "after the kick"})
    assert plain.call("history", room=room)["error"]["code"] == "not_in_room"
    assert all(e["event"] != "message" for e in plain.events)  # nothing of the room reached it
    plain.close(), moderator.close()
