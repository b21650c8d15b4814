"""The server the official protocol test suites expect, served the way ``python wsgi.py`` serves.

``python -m tests.conformance.fixture --port PORT --workdir DIR`` (from the repository root).

It is Parley itself, started as wsgi.py starts it (less ``cluster.duties``, which no suite uses):
``create_app``, then ``webapp.server.serving``'s ``listen`` and ``serve`` (eventlet, the hardened
WebSocket, ``webapp.server.connections``, ``webapp.server.fanout``, ``webapp.server.protocol``). It is
configured as the suites' READMEs configure their reference servers -- ping every 300 ms, 200 ms
to answer, 1,000,000-byte packets -- and has the suites' handlers in place of the chat's:

- Socket.IO (``/socket.io/``, socket.io-protocol): a connection is sent its own ``auth`` back as
  an ``auth`` event, on ``/`` and on ``/custom``; ``message`` is echoed as ``message-back``;
  ``message-with-ack`` acknowledges with its own arguments.
- Engine.IO (``/engine.io/``, engine.io-protocol): a bare Engine.IO server of Parley's class
  (``EngineIOServer``, which the Socket.IO server's becomes when served), with the same options,
  echoing every message.
"""
from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse
from pathlib import Path

import engineio
from flask import request
from flask_socketio import emit

from webapp import create_app
from webapp.extensions import socketio
from webapp.server import serving
from webapp.server.protocol import EngineIOServer

# The suites' reference configuration (their READMEs): pingInterval 300, pingTimeout 200,
# maxPayload 1e6.
PING_INTERVAL, PING_TIMEOUT, MAX_PAYLOAD = 0.3, 0.2, 1_000_000
# The suites take the CONNECT reply and the ``auth`` event with two one-shot listeners in turn:
# should both frames reach the client in one read, its WebSocket emits both before the second
# listener exists, and the test waits for the next packet instead (a PING). The reference server
# happens to write them in separate turns of its event loop; here ``auth`` follows a little later.
AUTH_DELAY = 0.05


def build(port: int, workdir: Path):
    app = create_app({
        "SECRET_KEY": "conformance-fixture",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'fixture.sqlite3'}",
        "ASYNC_MODE": "eventlet",
        "HOST": "127.0.0.1",
        "PORT": port,
        "PING_INTERVAL": PING_INTERVAL,
        "PING_TIMEOUT": PING_TIMEOUT,
        "MAX_HTTP_BUFFER_SIZE": MAX_PAYLOAD,
        "LOG_LEVEL": "WARNING",
    })
    _socketio_handlers()
    app.wsgi_app = engineio.WSGIApp(_echo_server(), app.wsgi_app, engineio_path="engine.io")
    return app


def _socketio_handlers() -> None:
    """socket.io-protocol's fixture, on Parley's Socket.IO server (replacing the chat's)."""

    def send_auth_back(auth, namespace: str) -> None:
        # After the CONNECT reply, as socket.io sends it from its "connection" event:
        # python-socketio replies to CONNECT once the connect handler has returned.
        sid = request.sid

        def send():
            socketio.sleep(AUTH_DELAY)
            socketio.emit("auth", auth if auth is not None else {}, to=sid, namespace=namespace)

        socketio.start_background_task(send)

    @socketio.on("connect")
    def connect(auth=None):
        send_auth_back(auth, "/")

    @socketio.on("connect", namespace="/custom")
    def connect_custom(auth=None):
        send_auth_back(auth, "/custom")

    @socketio.on("message")
    def message(*args):
        emit("message-back", args)  # a tuple: several arguments

    @socketio.on("message-with-ack")
    def message_with_ack(*args):
        return args


def _echo_server():
    """engine.io-protocol's fixture: an Engine.IO server like the one under Socket.IO, echoing."""
    eio = socketio.server.eio  # as create_app configured it
    echo = EngineIOServer(
        async_mode=eio.async_mode, ping_interval=eio.ping_interval, ping_timeout=eio.ping_timeout,
        max_http_buffer_size=eio.max_http_buffer_size,
        cors_allowed_origins=eio.cors_allowed_origins, async_handlers=eio.async_handlers,
    )
    echo.on("message", lambda sid, data: echo.send(sid, data))
    return echo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    app = build(args.port, args.workdir)
    serving.serve(app, serving.listen(app))


if __name__ == "__main__":
    main()
