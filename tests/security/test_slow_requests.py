"""Half-sent HTTP requests ("slowloris"): clients that dribble their headers are dropped.

With Parley exposed directly (no nginx in front), a few thousand clients that each send a request
line and then a header byte now and then would hold a descriptor and a greenlet each for good.
Each request's line and headers must arrive within REQUEST_HEADER_TIMEOUT; normal requests and
long-lived connections (long-polling waits, WebSockets) are not affected.
"""
import socket
import time

import pytest
import requests

from tests.support import ChatClient, LiveServer, unique

pytestmark = pytest.mark.e2e

TIMEOUT = 2  # REQUEST_HEADER_TIMEOUT for this server
SLOW = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("slow"), REQUEST_HEADER_TIMEOUT=str(TIMEOUT))
    live.start()
    yield live
    live.stop()


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True once the server has closed ``sock`` (EOF or reset), keeping the dribble going."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            sock.send(b"X")  # one more header byte, the way a slowloris client keeps it alive
            if sock.recv(1024) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:  # reset, or broken pipe: closed
            return True
    return False


def test_clients_that_dribble_their_headers_are_cut_off(server):
    slow = []
    for _ in range(SLOW):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(sock)
    began = time.monotonic()
    # Meanwhile, the chat goes on.
    chat = ChatClient(server.url, unique("user")).connect()
    assert chat.call("join", {"room": unique("room")})["ok"]
    assert requests.get(server.url + "/healthz", timeout=5).ok
    still_open = [s for s in slow if not closed_by_server(s, within=TIMEOUT + 8)]
    assert not still_open, f"{len(still_open)} of {SLOW} slow clients still held after " \
                           f"{time.monotonic() - began:.1f}s"
    chat.close()
    for sock in slow:
        sock.close()


def test_an_idle_keep_alive_connection_is_closed_and_a_quick_one_served(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"200 OK" in sock.recv(4096)
    sock.settimeout(TIMEOUT + 8)
    assert sock.recv(1024) == b""  # then nothing: closed after the timeout, not held forever
    sock.close()


def test_a_long_poll_outlives_the_header_timeout(server):
    # Long-polling waits inside the request, after its headers: far longer than the timeout.
    chat = ChatClient(server.url, unique("poller"), transports=["polling"]).connect()
    room = unique("room")
    assert chat.call("join", {"room": room})["ok"]
    time.sleep(TIMEOUT * 2)  # several header timeouts pass while the client's poll is waiting
    assert chat.call("message", {"room": room, "text": "still here"})["ok"]
    assert chat.wait("message")["text"] == "still here"
    chat.close()
