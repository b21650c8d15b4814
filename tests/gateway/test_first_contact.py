"""What a newcomer's first plain WebSocket meets: a refused origin is logged with the setting to
change, a bare WebSocket at the page's address is told to use /ws, and an ``auth`` frame without
``ref`` is answered like any other frame (docs/websocket.md)."""
import json
import time

import pytest
import requests
import websocket

from tests.gateway.conftest import PlainClient, RawSocket, ws_url
from tests.support import LiveServer, unique
from webapp.security import origin_checker

pytestmark = pytest.mark.e2e


def wait_for_log(server, text: str, timeout: float = 10.0) -> str:
    """The first line of the server's log containing ``text``, once it has been written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.read_log().splitlines():
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no log line with {text!r} within {timeout}s:\n{server.read_log()}")


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A server of this module's own: every refusal logged in full (no repeats collapsed)."""
    server = LiveServer(tmp_path_factory.mktemp("first-contact"), LOG_REPEAT_SECONDS="0")
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("origin", ["https://elsewhere.example", "null"])
def test_a_refused_origin_is_logged_with_the_setting_to_change(own_server, origin):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url(own_server.url, name=unique("o")), timeout=5,
                                    origin=origin)
    assert refused.value.status_code == 403

    line = wait_for_log(own_server, f"refused origin {origin}")
    assert "WARNING webapp.gateway" in line and "ALLOWED_ORIGINS" in line
    assert f"is {own_server.url} here" in line  # the origin that would have been accepted
    if origin == "null":
        assert "opened from a file" in line


def test_null_can_be_listed_like_any_origin():
    """``ALLOWED_ORIGINS=null`` lets pages opened from a file connect (docs/websocket.md)."""
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "chat.example:5000"}
    assert origin_checker(["null"])("null", environ)
    assert not origin_checker([])("null", environ)


@pytest.mark.parametrize("path", ["/", "/chat"])
def test_a_bare_websocket_elsewhere_is_told_to_use_ws(own_server, path):
    raw = RawSocket(own_server.url, path=path)
    try:
        assert raw.status == 400
        head, _, body = raw.response.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(body) < length:
            body += raw.sock.recv(length - len(body))
        error = json.loads(body)["error"]
        assert error["code"] == "wrong_path" and "/ws" in error["message"]
    finally:
        raw.close()


def test_the_page_and_socketio_are_untouched(own_server):
    """Plain HTTP at / is the page; Engine.IO's WebSockets still open at /socket.io/."""
    assert requests.get(own_server.url + "/", timeout=5).status_code == 200
    ws = websocket.create_connection(
        own_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
        timeout=5)
    try:
        assert ws.recv().startswith("0{")  # Engine.IO's OPEN packet
    finally:
        ws.close()


def test_an_auth_frame_without_ref_gets_the_documented_answer(own_server):
    name = unique("noref")
    client = PlainClient(own_server.url)
    try:
        client.send({"op": "auth", "name": name})
        assert client.reply() == {"ok": True, "user": name, "guest": True}
        assert client.wait("welcome") == {"user": name, "guest": True}
    finally:
        client.close()


def test_a_connection_named_in_its_url_gets_no_reply_only_the_welcome(own_server):
    """No frame was sent, so none is answered: the first frame is the welcome event."""
    name = unique("url")
    client = PlainClient(own_server.url, name=name)
    try:
        assert json.loads(client.ws.recv()) == {"event": "welcome",
                                                "data": {"user": name, "guest": True}}
    finally:
        client.close()
