"""The gateway on the real server: websocket-client programs chat with each other and with Socket.IO."""
import json

import pytest
import requests
import websocket

from tests.gateway.conftest import PlainClient, ws_url
from tests.support import ChatClient, unique


@pytest.fixture
def room():
    return unique("ws")


def test_the_simplest_client_posts_plain_text(live_server, room):
    ws = websocket.create_connection(ws_url(live_server.url, name=unique("bot"), room=room),
                                     timeout=10)
    ws.send("Hello, world!")
    frames = [json.loads(ws.recv()) for _ in range(5)]
    ws.close()
    assert frames[0]["event"] == "welcome" and frames[0]["data"]["guest"] is True
    joined = next(f for f in frames if "room" in f)
    assert joined["ok"] and joined["room"]["name"] == room and joined["history"] == []
    sent = next(f for f in frames if f.get("event") == "message")["data"]
    assert sent["text"] == "Hello, world!" and sent["room"] == room
    assert {"ok": True, "message": sent} in frames


def test_ops_answer_with_their_ref(live_server, room):
    bot = PlainClient(live_server.url, name=unique("bot"))
    assert bot.wait("welcome")["user"].startswith("bot-")
    joined = bot.call("join", room=room)
    assert joined["ok"] and joined["members"] == [bot.wait("presence")["user"]]
    posted = bot.call("message", room=room, text="one", client_id="c-1")
    assert bot.call("message", room=room, text="one", client_id="c-1") == {
        **posted, "ref": "r3",  # a retry answers the stored message, broadcast only once
    }
    assert bot.call("history", room=room, limit=5)["messages"] == [posted["message"]]
    assert room in [r["name"] for r in bot.call("rooms")["rooms"]]
    assert bot.call("typing", room=room, typing=True) == {"ref": "r6", "ok": True}
    assert bot.call("leave", room=room) == {"ref": "r7", "ok": True}
    assert bot.call("message", room=room, text="gone")["error"]["code"] == "not_in_room"
    bot.send("no room joined")
    assert bot.reply()["error"]["code"] == "not_in_room"
    bot.close()


def test_a_socketio_client_and_a_plain_client_chat_in_one_room(live_server, room):
    alice = ChatClient(live_server.url, unique("alice")).connect()
    alice.call("join", {"room": room})
    bob = PlainClient(live_server.url, name=unique("bob"), room=room)
    bob_name = bob.wait("welcome")["user"]
    assert alice.wait("presence", lambda p: p["user"] == bob_name)["event"] == "join"

    sent = alice.call("message", {"room": room, "text": "hi bob"})["message"]
    assert bob.wait("message") == sent
    bob.send("hi alice")
    assert alice.wait("message", lambda m: m["author"] == bob_name)["text"] == "hi alice"

    assert alice.call("typing", {"room": room, "typing": True}) == {"ok": True}
    assert bob.wait("typing") == {"room": room, "user": alice.name, "typing": True}
    bob.call("typing", room=room, typing=True)
    assert alice.wait("typing")["user"] == bob_name
    bob.send("after typing")
    assert bob.wait("message")["text"] == "after typing"
    assert not [e for e in bob.events if e["event"] == "typing"]  # never your own typing

    bob.close()
    gone = alice.wait("presence", lambda p: p["user"] == bob_name and p["event"] == "leave")
    assert bob_name not in gone["members"]
    alice.close()


def test_first_frame_authentication_and_refusals(live_server):
    late = PlainClient(live_server.url)
    name = unique("late")
    assert late.call("auth", name=name) == {"ref": "r1", "ok": True, "user": name, "guest": True}
    assert late.call("auth", name=name)["error"]["code"] == "invalid_payload"

    twin = PlainClient(live_server.url, name=name.upper())
    assert twin.reply()["error"]["code"] == "name_taken"
    assert twin.closed()[0] == 1008

    rude = PlainClient(live_server.url)
    rude.send("hello?")
    assert rude.reply()["error"]["code"] == "auth_required"
    status, reason = rude.closed()
    assert status == 1008 and reason.startswith("auth_required")
    late.close()


def test_origins_follow_the_socketio_rule(live_server):
    url = ws_url(live_server.url, name=unique("o"))
    websocket.create_connection(url, timeout=5, origin=live_server.url).close()
    websocket.create_connection(url, timeout=5, suppress_origin=True).close()  # not a browser
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=5, origin="https://evil.example")
    assert refused.value.status_code == 403
    plain_get = requests.get(live_server.url + "/ws", timeout=5)
    assert plain_get.status_code == 426 and plain_get.json()["error"]["code"] == "upgrade_required"


def test_rate_limits_apply_and_a_flood_is_closed(live_server, room):
    spammer = PlainClient(live_server.url, name=unique("spam"), room=room)
    assert spammer.reply()["room"]["name"] == room  # the answer to ?room=
    codes = []
    for i in range(120):
        spammer.send(f"spam {i}")
        reply = spammer.reply()
        codes.append(reply["ok"] or reply["error"]["code"])
        if codes[-1] == "flood":
            break
    assert codes[:30] == [True] * 30 and codes[30] == "rate_limited" and codes[-1] == "flood"
    status, reason = spammer.closed()
    assert status == 1008 and reason.startswith("flood")
