"""Plain WebSocket clients for the gateway tests: websocket-client, and a raw socket for bad frames."""
from __future__ import annotations

import base64
import json
import os
import socket
import struct
from urllib.parse import urlencode

import pytest
import websocket

from tests.support import LiveServer


def ws_url(http_url: str, **query) -> str:
    return http_url.replace("http://", "ws://") + "/ws" + (f"?{urlencode(query)}" if query else "")


class PlainClient:
    """A websocket-client connection that matches replies by ``ref`` and queues server events."""

    def __init__(self, http_url: str, header: list[str] | None = None, **query) -> None:
        # websocket-client sends the server's own origin unless told otherwise, like a page would.
        self.ws = websocket.create_connection(ws_url(http_url, **query), timeout=10, header=header)
        self.events: list[dict] = []
        self.replies: list[dict] = []
        self._ref = 0

    def send(self, obj) -> None:
        self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    def call(self, op: str, **fields) -> dict:
        """Send one op and answer its reply (events arriving meanwhile are kept)."""
        self._ref += 1
        ref = f"r{self._ref}"
        self.send({"op": op, "ref": ref, **fields})
        return self._next(self.replies, lambda r: r.get("ref") == ref)

    def reply(self, predicate=lambda r: True) -> dict:
        return self._next(self.replies, predicate)

    def wait(self, event: str, predicate=lambda data: True) -> dict:
        """The next ``event`` whose data satisfies ``predicate``; earlier ones are dropped."""
        return self._next(self.events, lambda e: e["event"] == event and predicate(e["data"]))["data"]

    def _next(self, kept: list[dict], predicate) -> dict:
        while True:
            for i, item in enumerate(kept):
                if predicate(item):
                    del kept[: i + 1]
                    return item
            frame = json.loads(self.ws.recv())  # the socket's timeout bounds the wait
            (self.events if "event" in frame else self.replies).append(frame)

    def closed(self) -> tuple[int, str]:
        """Read until the server's close frame; answer its status and reason."""
        while True:
            opcode, frame = self.ws.recv_data_frame(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return struct.unpack("!H", frame.data[:2])[0], frame.data[2:].decode()

    def close(self) -> None:
        self.ws.close()


class RawSocket:
    """A WebSocket client written by hand, to send what no library would."""

    def __init__(self, http_url: str, path: str = "/ws", headers: dict | None = None) -> None:
        host, port = http_url.split("//")[1].split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.response = b""
        while b"\r\n\r\n" not in self.response:
            self.response += self.sock.recv(1)
        self.status = int(self.response.split()[1])

    def frame(self, opcode: int, payload: bytes = b"", fin: bool = True, mask: bool = True,
              length: int | None = None) -> None:
        length = len(payload) if length is None else length
        head = bytes([(0x80 if fin else 0) | opcode])
        bit = 0x80 if mask else 0
        if length < 126:
            head += bytes([bit | length])
        elif length < 1 << 16:
            head += bytes([bit | 126]) + struct.pack("!H", length)
        else:
            head += bytes([bit | 127]) + struct.pack("!Q", length)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            head += key
        self.sock.sendall(head + payload)

    def text(self, text: str) -> None:
        self.frame(0x1, text.encode())

    def read(self) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload)."""
        first, second = self._exactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._exactly(8))
        return first & 0x0F, self._exactly(length)

    def read_json(self) -> dict:
        while True:
            opcode, payload = self.read()
            if opcode == 0x1:
                return json.loads(payload)

    def close_status(self) -> tuple[int, str]:
        """Skip to the server's close frame; answer (status, reason)."""
        while True:
            opcode, payload = self.read()
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0], payload[2:].decode()

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """A server of its own: no guests, and keepalive timings short enough to watch."""
    server = LiveServer(tmp_path_factory.mktemp("strict"), GUESTS_ALLOWED="false",
                        WS_PING_INTERVAL="0.3", WS_PING_TIMEOUT="0.4", WS_AUTH_TIMEOUT="0.5")
    server.start()
    yield server
    server.stop()
