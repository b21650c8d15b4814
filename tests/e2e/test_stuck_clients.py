"""Clients that stop reading are cut off: bounded memory, freed descriptors, presence left.

An attacker (or a frozen laptop) keeps a connection open, answers pings blindly so it looks
alive, and never reads what it is sent, in a busy room. The server must not buffer the room's
traffic for it without end: past MAX_QUEUED_BYTES it closes the connection, its user leaves the
room, and the process's memory stays flat. A /ws client that vanishes without a word leaves
within its ping timeout.
"""
import json
import socket
import threading
import time

import pytest
import requests
import websocket

from tests.delivery.support import UNLIMITED
from tests.support import ChatClient, LiveServer, unique

pytestmark = pytest.mark.e2e

QUEUED = 1 << 20  # MAX_QUEUED_BYTES for these tests: 1 MiB
TEXT = "x" * 3900  # a big chat message, under the 4,000-character limit
INTERVAL = TIMEOUT = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("stuck"), MAX_QUEUED_BYTES=str(QUEUED),
                      PING_INTERVAL=str(INTERVAL), PING_TIMEOUT=str(TIMEOUT),
                      WS_PING_INTERVAL="1", WS_PING_TIMEOUT="1", LOG_LEVEL="INFO", **UNLIMITED)
    live.start()
    yield live
    live.stop()


def rss_mib(server) -> float:
    with open(f"/proc/{server.proc.pid}/status") as status_file:
        status = status_file.read()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


class Flood:
    """Another member sends big messages into the room as fast as they are acked."""

    def __init__(self, server, room: str) -> None:
        self.client = ChatClient(server.url, unique("flood")).connect()
        self.client.call("join", {"room": room})
        self.room, self.sent, self.stop = room, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            if self.client.call("message", {"room": self.room, "text": TEXT}).get("ok"):
                self.sent += len(TEXT)

    def end(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.client.close()


def tiny_buffer_ws(url: str) -> websocket.WebSocket:
    """A WebSocket whose kernel receive buffer is small, so the server's writes back up soon."""
    return websocket.create_connection(url, timeout=5,
                                       sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])


def blindly(every: float, send, stop: threading.Event) -> threading.Thread:
    """Keep calling ``send`` (a pong nobody asked for), never reading anything."""
    def run():
        while not stop.wait(every):
            try:
                send()
            except Exception:  # noqa: BLE001 - the server has cut us off: that is the point
                return
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def assert_cut_off(server, watcher: ChatClient, name: str, flood: Flood, within: float) -> None:
    before = rss_mib(server)
    left = watcher.wait("presence", lambda e: e["user"] == name and e["event"] == "leave",
                        timeout=within)
    assert name not in left["members"]
    deadline = time.monotonic() + 30  # the flood goes on: memory must stay flat after the cut too
    while flood.sent < 8 * QUEUED and time.monotonic() < deadline:
        time.sleep(0.1)
    grown = rss_mib(server) - before
    flood.end()
    sent_mib = flood.sent / (1 << 20)
    assert sent_mib >= 8 * QUEUED / (1 << 20), f"the flood sent only {sent_mib:.1f} MiB"
    assert grown < 32, f"RSS grew {grown:.0f} MiB while {sent_mib:.0f} MiB went to the room"
    assert "cutting it off" in server.read_log()


def test_a_socketio_websocket_client_that_never_reads_is_cut_off(server):
    room, name = unique("busy"), unique("stuck")
    watcher = ChatClient(server.url, unique("watcher")).connect()
    watcher.call("join", {"room": room})
    ws = tiny_buffer_ws(server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket")
    assert ws.recv().startswith("0")
    ws.send("40" + json.dumps({"name": name}))
    assert ws.recv().startswith("40")
    ws.send("420" + json.dumps(["join", {"room": room}]))
    while not ws.recv().startswith("430"):  # the room's presence event may come first
        pass
    stop = threading.Event()
    blindly(INTERVAL / 2, lambda: ws.send("3"), stop)  # "I'm alive", without reading a thing
    flood = Flood(server, room)
    try:
        assert_cut_off(server, watcher, name, flood, within=INTERVAL + TIMEOUT + 20)
    finally:
        stop.set()
        flood.end()
        watcher.close()


def test_a_long_polling_client_that_never_polls_is_cut_off(server):
    room, name = unique("busy"), unique("stuck")
    watcher = ChatClient(server.url, unique("watcher")).connect()
    watcher.call("join", {"room": room})
    base = server.url + "/socket.io/?EIO=4&transport=polling"
    http = requests.Session()
    sid = json.loads(http.get(base, timeout=5).text[1:])["sid"]
    url = f"{base}&sid={sid}"
    assert http.post(url, data="40" + json.dumps({"name": name}), timeout=5).ok
    assert "40{" in http.get(url, timeout=5).text
    assert http.post(url, data="420" + json.dumps(["join", {"room": room}]), timeout=5).ok
    while "430" not in http.get(url, timeout=5).text:  # the presence event may come first
        pass
    stop = threading.Event()
    # Pongs by POST, never a GET: everything for this client piles up on the server.
    blindly(INTERVAL / 2, lambda: http.post(url, data="3", timeout=5).raise_for_status(), stop)
    flood = Flood(server, room)
    try:
        assert_cut_off(server, watcher, name, flood, within=INTERVAL + TIMEOUT + 20)
        assert http.post(url, data="3", timeout=5).status_code == 400  # the session is gone
    finally:
        stop.set()
        flood.end()
        watcher.close()


def test_a_plain_websocket_client_that_never_reads_is_cut_off(server):
    room, name = unique("busy"), unique("stuck")
    watcher = ChatClient(server.url, unique("watcher")).connect()
    watcher.call("join", {"room": room})
    ws = tiny_buffer_ws(server.url.replace("http", "ws") + f"/ws?name={name}&room={room}")
    stop = threading.Event()
    blindly(0.3, lambda: ws.pong(b""), stop)  # any frame counts as a sign of life
    flood = Flood(server, room)
    try:
        assert_cut_off(server, watcher, name, flood, within=20)
    finally:
        stop.set()
        flood.end()
        watcher.close()


def test_a_plain_websocket_client_that_vanishes_leaves_within_its_ping_timeout(server):
    room, name = unique("quiet"), unique("gone")
    watcher = ChatClient(server.url, unique("watcher")).connect()
    watcher.call("join", {"room": room})
    url = server.url.replace("http", "ws") + f"/ws?name={name}&room={room}"
    ws = websocket.create_connection(url, timeout=5)
    watcher.wait("presence", lambda e: e["user"] == name and e["event"] == "join")
    vanished = time.monotonic()  # from now on: no pong, no read, no close (a dead network)
    watcher.wait("presence", lambda e: e["user"] == name and e["event"] == "leave", timeout=15)
    # WS_PING_INTERVAL 1 + WS_PING_TIMEOUT 1, the close frame's grace (2 s), and a busy machine
    assert time.monotonic() - vanished < 10
    ws.sock.close()
    watcher.close()
