"""The plain WebSocket gateway across processes: Redis carries its events both ways."""
import json

import pytest
import redis

from tests.gateway.conftest import PlainClient
from tests.support import ChatClient, unique
from webapp.chat.cluster import CLOSE_CHANNEL

pytestmark = pytest.mark.integration


def test_plain_and_socketio_clients_on_different_processes_chat(cluster):
    room = unique("room")
    alice = ChatClient(cluster.url, unique("alice"), ["websocket"],
                       headers=cluster.cookie_for(0)).connect()
    alice.call("join", {"room": room})
    bob = PlainClient(cluster.servers[1].url, name=unique("bob"), room=room)
    assert bob.reply()["room"]["name"] == room  # joined before carol comes
    carol = PlainClient(cluster.servers[2].url, name=unique("carol"), room=room)
    carol_name = carol.wait("welcome")["user"]
    assert alice.wait("presence", lambda p: p["user"] == carol_name)["event"] == "join"
    members = bob.wait("presence", lambda p: p["user"] == carol_name)["members"]
    assert alice.name in members and carol_name in members and len(members) == 3

    sent = alice.call("message", {"room": room, "text": "from socket.io"})["message"]
    assert bob.wait("message") == sent and carol.wait("message") == sent
    carol.send("from a plain socket")
    assert alice.wait("message", lambda m: m["author"] == carol_name)["text"] == "from a plain socket"
    assert bob.wait("message")["author"] == carol_name
    bob.call("typing", room=room, typing=True)
    assert carol.wait("typing")["typing"] is True and alice.wait("typing")["typing"] is True
    for client in (alice, bob, carol):
        client.close()


def test_moderation_closes_gateway_connections_on_every_process(cluster, redis_url):
    name = unique("banned")
    victim = PlainClient(cluster.servers[1].url, name=name)
    victim.wait("welcome")
    order = {"op": "close", "room": f"guest:{name.casefold()}"}  # what revoking/banning sends
    redis.Redis.from_url(redis_url).publish(CLOSE_CHANNEL, json.dumps(order))
    status, reason = victim.closed()
    assert status == 1008 and reason.startswith("revoked")
