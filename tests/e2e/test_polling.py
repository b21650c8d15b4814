"""Long-polling against the real server, used the way the official socket.io client uses it.

socket.io-client in Node (xmlhttprequest-ssl without an agent) sends every long-polling request,
each GET and each POST, with ``Connection: close`` on a new TCP connection: 100 such clients in a
busy room open a few thousand connections a second (bench ``polling-official``). Whatever the
server is doing when they arrive, they must wait in the kernel's accept queue, not be dropped:
a dropped SYN is resent only a second later.
"""
from __future__ import annotations

import json
import selectors
import signal
import socket
import time

import pytest

from tests.support import ChatClient, LiveServer, unique

pytestmark = pytest.mark.e2e

BURST = 300  # eventlet's own backlog (50) admits 51 of these while the server is busy
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("polling"))
    live.start()
    yield live
    live.stop()


def _request(port: int, method: str, target: str, body: bytes = b"",
             sock: socket.socket | None = None) -> tuple[str, dict, bytes]:
    """One HTTP/1.1 request as the official client sends it (``Connection: close``), on ``sock``
    if given (already connected) or a new connection; answer (status line, headers, body)."""
    sock = sock or socket.create_connection(("127.0.0.1", port), timeout=10)
    with sock:
        sock.settimeout(10)
        head = (f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n"
                f"Connection: close\r\n")
        if method == "POST":
            head += f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n"
        sock.sendall(head.encode() + b"\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):  # the server closes the connection after the response
            chunks.append(chunk)
    raw = b"".join(chunks)
    header_block, _, payload = raw.partition(b"\r\n\r\n")
    status, *lines = header_block.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines)}
    return status, headers, payload


def _connect_burst(port: int, count: int, settle: float) -> tuple[list[socket.socket], int]:
    """Start ``count`` connections at once; answer them and how many completed their handshake
    within ``settle`` seconds (on loopback a queued one completes at once; a dropped SYN is
    resent after 1 s, 3 s, 7 s...)."""
    socks, pending = [], selectors.DefaultSelector()
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        socks.append(sock)
        pending.register(sock, selectors.EVENT_WRITE)
    completed = 0
    deadline = time.monotonic() + settle
    while pending.get_map() and time.monotonic() < deadline:
        for key, _ in pending.select(timeout=max(0.0, deadline - time.monotonic())):
            pending.unregister(key.fileobj)
            if key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                completed += 1
    pending.close()
    return socks, completed


def test_a_burst_of_new_connections_queues_for_a_busy_server_instead_of_being_dropped(server):
    # SIGSTOP: the busiest a server can be -- its accept loop does not run at all.
    server.proc.send_signal(signal.SIGSTOP)
    try:
        socks, completed = _connect_burst(server.port, BURST, settle=3.0)
    finally:
        server.proc.send_signal(signal.SIGCONT)
    try:
        assert completed == BURST, (
            f"only {completed} of {BURST} connections were queued; the others' SYNs were dropped"
            " and wait for the client's retry (the listen backlog is too small)")
        # And each queued connection is then served: the official client's first request.
        for sock in socks:
            sock.setblocking(True)
            status, _, body = _request(server.port, "GET", HANDSHAKE, sock=sock)
            assert " 200 " in status and body.startswith(b'0{"sid"'), (status, body[:80])
    finally:
        for sock in socks:
            sock.close()


def test_a_client_making_each_request_on_its_own_connection_gets_everything(server):
    """The official client's way over long-polling: each request a new connection, one POST in
    flight, several packets in a POST; every response is framed by its Content-Length."""
    room, name = unique("polling"), unique("official")
    _, _, body = _request(server.port, "GET", HANDSHAKE)
    sid = json.loads(body[1:])["sid"]
    target = f"{HANDSHAKE}&sid={sid}"

    def post(*packets: str) -> None:
        status, headers, body = _request(server.port, "POST", target,
                                         "\x1e".join(packets).encode())
        assert " 200 " in status and body == b"ok", (status, body)
        assert headers["content-length"] == "2"

    received: list[str] = []

    def poll_until(predicate) -> None:
        for _ in range(50):  # bounded: each poll returns as soon as anything is queued
            status, headers, body = _request(server.port, "GET", target)
            assert " 200 " in status, status
            assert int(headers["content-length"]) == len(body)
            received.extend(body.decode().split("\x1e"))
            if predicate():
                return
        raise AssertionError(f"not received: {received[-5:]}")

    post("40" + json.dumps({"name": name}), "421" + json.dumps(["join", {"room": room}]))
    poll_until(lambda: any(p.startswith("431") for p in received))
    assert any(p.startswith('40{"sid"') for p in received)

    sender = ChatClient(server.url, unique("sender")).connect()
    try:
        sender.call("join", {"room": room})
        # More than one response's 16 packets, within one user's rate limit (30 per 10 s).
        texts = [f"burst {i}" for i in range(24)]
        for text in texts:
            sender.sio.emit("message", {"room": room, "text": text})

        def arrived() -> list[str]:
            return [json.loads(p[2:])[1]["text"] for p in received
                    if p.startswith('42["message"')]

        poll_until(lambda: len(arrived()) >= len(texts))
        assert arrived() == texts  # all of them, once each, in order
    finally:
        sender.close()
    post("1")  # CLOSE: the name is free again at once
