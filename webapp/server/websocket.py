"""The gateway on eventlet's WebSocket server: the only async-mode specific part of the gateway.

Imported only when ASYNC_MODE is eventlet. Hardened like the Engine.IO side (webapp/server/serving.py):
no hixie-76, no permessage-deflate (a broadcast is framed once and sent as is), a bound on the
sum and the number of a message's fragments, not only on each frame.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Callable

from eventlet.websocket import FailedConnectionError, RFC6455WebSocket, WebSocketWSGI

from webapp.server import fanout

# A browser never fragments a chat-sized message; a client sending thousands of tiny fragments
# is only making us spin.
MAX_FRAGMENTS = 256


class BoundedMessage(RFC6455WebSocket.Message):
    """A message bounded as a whole: eventlet bounds each frame, not the sum of its fragments.
    (Engine.IO's WebSockets use it too: webapp/server/serving.py.)"""

    received = 0

    def push(self, data, final=False):
        self.received += len(data)
        if self.received > self.max_frame_length:
            raise FailedConnectionError(1009, "Message too big.")
        super().push(data, final)


class GatewaySocket(RFC6455WebSocket):
    """eventlet's RFC 6455 socket, plus what the gateway needs: liveness and bounded messages."""

    class Message(BoundedMessage):
        fragments = 0

        def getvalue(self):
            try:
                return super().getvalue()
            except UnicodeDecodeError:  # eventlet would answer 1011, as if the server failed
                raise FailedConnectionError(1007, "Text frames must be valid UTF-8.") from None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.last_heard = time.monotonic()
        self._direct = fanout.Direct(self)

    def _recv_frame(self, message=None):
        if message is not None:
            message.fragments += 1
            if message.fragments > MAX_FRAGMENTS:
                raise FailedConnectionError(1009, f"More than {MAX_FRAGMENTS} fragments.")
        frame = super()._recv_frame(message)
        self.last_heard = time.monotonic()  # any frame counts, pongs included
        return frame

    # -- the connection's Transport ------------------------------------------------------------
    def receive(self) -> str | bytes | None:
        try:
            return self.wait()
        except (OSError, ValueError):  # cut by abort() or the network; eventlet has closed it
            return None

    def send_frame(self, frame: bytes) -> None:
        """Send a message framed by ``protocol.text_frame`` (under the lock pongs use too)."""
        self._send(frame)

    def try_send(self, frame: bytes) -> bool:
        """Write ``frame`` now if the socket is free, as Engine.IO broadcasts do (webapp/server/fanout.py)."""
        return self._direct.try_send(frame)

    def ping(self) -> None:
        self.send(b"", control_code=0x9)

    def send_close(self, code: int, reason: str) -> None:
        self._send_closing_frame(ignore_send_errors=True, close_data=(code, reason))

    def abort(self) -> None:
        """Cut the connection now. Shutting the socket down wakes the reader blocked on it (and a
        writer), so the connection ends and leaves its rooms; a bare close would wake neither,
        and keep the descriptor."""
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.socket.close()
        except OSError:
            pass


class GatewayWSGI(WebSocketWSGI):
    """The WebSocket handshake, answering with a ``GatewaySocket``."""

    def __init__(self, handler: Callable, max_message: int, io_timeout: float | None) -> None:
        super().__init__(handler, max_frame_length=max_message)
        self.support_legacy_versions = False
        self.io_timeout = io_timeout

    def _negotiate_permessage_deflate(self, extensions):
        return None

    def _handle_hybi_request(self, environ):
        ws = super()._handle_hybi_request(environ)  # writes the 101 response; no I/O after
        # No frame for this long (pings go out more often), or a write that the client does not
        # take for this long: the connection is over (a vanished or stuck client lets go).
        ws.socket.settimeout(self.io_timeout)
        return GatewaySocket(ws.socket, ws.environ, ws.version, protocol=ws.protocol,
                             extensions=ws.extensions, max_frame_length=ws.max_frame_length)


def websocket_app(handler: Callable, max_message: int, io_timeout: float | None = None) -> Callable:
    """A WSGI app upgrading to WebSocket and calling ``handler(socket)`` for the connection."""
    return GatewayWSGI(handler, max_message, io_timeout)
