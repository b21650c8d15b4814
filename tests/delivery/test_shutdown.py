"""SIGTERM: stop accepting, finish what is in flight, close clients so they come back; exit 0."""
import signal
import time

import pytest
import requests

from tests.delivery.support import UNLIMITED, ParleyClient, database_app, make_tokens, stored
from tests.support import ChatClient, LiveServer, unique

pytestmark = pytest.mark.e2e


def test_an_idle_server_exits_at_once_and_clients_see_a_transport_close(tmp_path):
    server = LiveServer(tmp_path)
    server.start()
    client = ChatClient(server.url, unique("idle"), ["websocket"]).connect()
    reasons = []

    @client.sio.on("disconnect")
    def on_disconnect(reason):
        reasons.append(reason)
        client.disconnected.set()

    time.sleep(1)  # eventlet's hub is asleep in its poll: the signal must still act at once
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=5) == 0
    assert time.monotonic() - started < 1.5
    assert client.disconnected.wait(2)
    # (python-socketio names the Engine.IO close this way; browsers see "transport close" and
    # reconnect, where a Socket.IO-level disconnect would tell them to stay away.)
    assert reasons == [client.sio.reason.SERVER_DISCONNECT]
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/api/healthz", timeout=2)
    server.proc = None


def test_sigterm_during_a_burst_loses_no_acked_message(tmp_path):
    server = LiveServer(tmp_path, **UNLIMITED)
    server.start()
    app = database_app(server.env["DATABASE_URL"])
    token, = make_tokens(app, [unique("bot")]).values()
    room = unique("burst")
    client = ParleyClient(transports=["websocket"], reconnect_delay=(0.05, 0.3))
    try:
        client.connect(server.url, {"token": token})
        client.join(room)
        outgoing = [client.send_nowait(room, f"#{n}") for n in range(150)]
        while not any(o.done.is_set() for o in outgoing):
            time.sleep(0.001)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=7) == 0
        assert time.monotonic() - started < 3
        server.proc = None
        server.start()
        acked = [o.result(timeout=30)["id"] for o in outgoing]
        assert [m["id"] for m in stored(app, room)] == acked  # all, once each, in order
        assert client.stats["connects"] == 2
        deadline = time.monotonic() + 10
        while [m["id"] for m in client.messages(room)] != acked and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m["id"] for m in client.messages(room)] == acked
    finally:
        client.close()
        server.stop()
