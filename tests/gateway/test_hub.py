"""Fan-out: python-socketio's emit reaches gateway connections, framed once, in every manager."""
import json

import socketio

from webapp.gateway import protocol
from webapp.gateway.hub import GatewayDelivery, GatewayRedisManager, Hub, client_manager


class FakeConnection:
    def __init__(self, sid):
        self.sid, self.frames, self.closed = sid, [], None

    def push(self, frame):
        self.frames.append(frame)

    def close(self, code, reason):
        self.closed = (code, reason)


def hub_with(*rooms_by_sid):
    hub, conns = Hub(), []
    for sid, rooms in rooms_by_sid:
        conn = FakeConnection(sid)
        hub.add(conn, rooms)
        conns.append(conn)
    return hub, conns


def test_socketio_emits_reach_the_rooms_connections_framed_once():
    hub, (a, b, c) = hub_with(("ws:a", ["r"]), ("ws:b", ["r"]), ("ws:c", ["other"]))
    server = socketio.Server(async_mode="threading", client_manager=client_manager(hub, None))
    server.emit("message", {"text": "hi"}, to="r")
    assert a.frames == b.frames and a.frames[0] is b.frames[0] and c.frames == []
    assert json.loads(a.frames[0][2:]) == {"event": "message", "data": {"text": "hi"}}


def test_skip_sid_lists_room_lists_own_sids_and_broadcasts():
    hub, (a, b) = hub_with(("ws:a", ["r", "s"]), ("ws:b", ["r"]))
    hub.deliver("typing", {}, "r", skip_sid="ws:a")
    assert (len(a.frames), len(b.frames)) == (0, 1)
    hub.deliver("typing", {}, ["r", "s"], skip_sid=["ws:b"])
    assert (len(a.frames), len(b.frames)) == (1, 1)
    hub.deliver("welcome", {}, "ws:b")
    hub.deliver("notice", {}, None)
    assert (len(a.frames), len(b.frames)) == (2, 3)


def test_leaving_and_removal_stop_delivery_and_close_room_closes():
    hub, (a, b) = hub_with(("ws:a", ["r"]), ("ws:b", ["r", "user:1"]))
    hub.leave(a, "r")
    hub.close_room("user:1", "revoked")
    hub.remove(b)
    hub.deliver("message", {}, "r")
    assert a.frames == b.frames == [] and b.closed[0] == protocol.POLICY
    assert hub.rooms == {"ws:a": {a}}


def test_the_redis_manager_delivers_what_its_listener_receives_too():
    # PubSubManager._handle_emit (this process's and other processes' events) calls super().emit:
    # the gateway must sit between it and Manager.
    mro = GatewayRedisManager.__mro__
    assert mro.index(socketio.PubSubManager) < mro.index(GatewayDelivery) < mro.index(socketio.Manager)
    assert isinstance(client_manager(Hub(), "redis://127.0.0.1:1/0"), socketio.RedisManager)
