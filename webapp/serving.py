"""How ``python wsgi.py`` serves the app: ``socketio.run`` (eventlet's own WSGI server), tuned.

All eventlet specifics live here, in ``webapp.fanout`` and ``webapp.connections`` (patched in
from here) and in wsgi.py's monkey-patching, so the async mode stays one setting. Imported only
by wsgi.py's ``__main__`` (and by the SIGTERM path in ``chat.cluster``).
"""
from __future__ import annotations

import gc
import os
import resource
import socket

from flask import Flask

LISTENER = "parley.listener"
WAL_SAFETY_NET_PAGES = 20_000  # ~80 MB: a commit checkpoints by itself only if the thread stalls  # app.extensions key: the socket the server accepts connections on


def stop_accepting(app: Flask) -> None:
    """Close the listening socket, so new connections are refused at once (a load balancer moves
    on to another process) instead of waiting in the kernel's backlog; open ones carry on."""
    listener = app.extensions.pop(LISTENER, None)
    if listener is not None:
        # /dev/null takes the listener's descriptor number in the same step that closes it:
        # eventlet's accept loop still waits on that number, and a socket opened later and given
        # it (a WebSocket's, a database's) would otherwise have two greenlets reading it.
        null = os.open(os.devnull, os.O_RDONLY)
        try:
            os.dup2(null, listener.fileno())
        finally:
            os.close(null)


def run_options(app: Flask) -> dict:
    """Keyword arguments for ``socketio.run(app, ...)`` in the configured async mode."""
    options = {"host": app.config["HOST"], "port": app.config["PORT"], "log_output": False}
    if app.config["ASYNC_MODE"] == "eventlet":
        _harden_eventlet_websocket()
        options.update(_eventlet_options(app))
        _checkpoint_in_a_thread(app)
    # Everything loaded so far (modules, the app, SQLAlchemy's mappers: most of the heap) lives
    # as long as the process; keep it out of the collector's full passes, which otherwise walk
    # it all and hold every connection meanwhile (bench fanout1000: p99 10 -> 60-90 ms).
    gc.collect()
    gc.freeze()
    return options


def _checkpoint_in_a_thread(app: Flask, interval: float = 1.0) -> None:
    """Move SQLite's WAL checkpoints out of the event loop.

    SQLite checkpoints inside a commit once the WAL passes 1,000 pages (about every second at
    500 messages/s): it copies them into the database file and, with synchronous=NORMAL,
    fsyncs both. That commit holds the hub, so every connection waits (bench fanout100: p99
    10-40 ms over 10 s, against 3 ms on PostgreSQL). Here a native thread runs a PASSIVE
    checkpoint, which never blocks a writer, every ``interval``; sqlite3 lets go of the GIL
    meanwhile. The in-commit threshold stays as a far-off safety net.
    """
    import sqlite3

    import eventlet
    from eventlet import tpool
    from sqlalchemy import event

    from webapp.extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite" or not engine.url.database:
            return
        path = engine.url.database

        @event.listens_for(engine, "connect")
        def _far_safety_net(dbapi_connection, _record):
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={WAL_SAFETY_NET_PAGES}")

        engine.dispose()  # connections opened so far get the setting too

    def checkpoint(conn):
        if conn is None:
            conn = sqlite3.connect(path, check_same_thread=False)  # used by one thread at a time
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return conn

    def loop():
        conn = None
        while True:
            eventlet.sleep(interval)
            try:
                conn = tpool.execute(checkpoint, conn)
            except sqlite3.Error:  # busy, or the file went away: try again next time
                conn = None

    eventlet.spawn_n(loop)


def _harden_eventlet_websocket() -> None:
    """Close the gaps eventlet's WebSocket server leaves open by default.

    - A message may arrive in any number of fragments; eventlet bounds each frame (python-engineio
      passes ``max_http_buffer_size``) but not their sum, so a client could grow our memory forever.
    - It still speaks the pre-RFC "hixie-76" protocol, which no browser has sent since 2012.
    - It accepts permessage-deflate, and then deflates every frame once per recipient: a broadcast
      to N members costs N compressions (chat messages are small; compression buys little).
    - python-engineio lets an undecodable packet escape its WebSocket loop, and eventlet then
      writes an HTTP 500 into the upgraded stream; close with 1002 (protocol error) instead.
    - It unmasks client frames one byte at a time in Python (about 1 us per byte: a tenth of the
      server's CPU in the bench's fan-out); wsproto's masker does it with ``bytes.translate``.
    """
    from engineio.async_drivers import eventlet as engineio_eventlet
    from eventlet.websocket import RFC6455WebSocket
    from wsproto.frame_protocol import XorMaskerSimple

    from webapp.gateway.eventlet_ws import BoundedMessage

    def unmask(data, mask, length=None, offset=0):
        # eventlet's signature: ``mask`` is the frame's 4 key bytes, ``offset`` where ``data``
        # starts within the frame's payload (a frame may arrive in several reads).
        shift = offset % 4
        key = bytes(mask[shift:]) + bytes(mask[:shift])
        return bytes(XorMaskerSimple(key).process(data[:length] if length is not None else data))

    from webapp import connections, fanout

    fanout.install()
    connections.install()

    def closing_on_garbage(handler):
        def run(ws):
            fanout.attach(handler, ws)
            try:
                return handler(ws)
            except ValueError:
                ws.close(close_data=(1002, "Malformed packet."))

        return run

    class WebSocketWSGI(engineio_eventlet.WebSocketWSGI):
        def __init__(self, handler, server):
            super().__init__(closing_on_garbage(handler), server)
            self.support_legacy_versions = False

        def _negotiate_permessage_deflate(self, extensions):
            return None

    RFC6455WebSocket.Message = BoundedMessage
    RFC6455WebSocket._apply_mask = staticmethod(unmask)
    engineio_eventlet._async["websocket"] = WebSocketWSGI


def _eventlet_options(app: Flask) -> dict:
    import eventlet.wsgi

    from webapp import connections

    max_connections = app.config["MAX_CONNECTIONS"]

    class Protocol(eventlet.wsgi.HttpProtocol):
        # Each connection keeps its buffered reader and writer for life; eventlet's 8 KiB + 16 KiB
        # cost an idle WebSocket ~4 KiB of its ~66 (bench "connect"). Requests and polling
        # bodies are small, and a write larger than the buffer goes straight to the socket.
        rbufsize = 2048
        wbufsize = 2048

        def __init__(self, conn_state, server):
            # socketio.run consumes ``debug`` for Flask, so eventlet's own flag, which puts
            # Python tracebacks into 500 bodies, would stay at its default of True.
            server.debug = False
            # socketio.run opens the listener itself; remember it for a graceful shutdown.
            app.extensions.setdefault(LISTENER, server.socket)
            super().__init__(conn_state, server)

        def finish(self):
            if getattr(self.connection, connections.DETACHED, False):
                # A WebSocket handed to a duplicate of this socket (webapp/connections.py) goes
                # on: close this descriptor, but do not shut the connection down (closed here,
                # eventlet's own clean-up after the request then has nothing left to shut down).
                self.close_connection = True
                try:
                    self.rfile.close()
                    self.wfile.close()
                finally:
                    self.connection.close()
                return
            super().finish()

        def setup(self):
            super().setup()
            # An event is often two small writes (the ack, then the broadcast): without
            # TCP_NODELAY the second waits ~40 ms for the client's delayed ACK.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    connections.limit(max_connections, app.config["MAX_QUEUED_BYTES"])
    _raise_fd_limit(max_connections + 256)
    # eventlet caps simultaneous connections at 1024 by default; further ones hang unanswered.
    return {"protocol": Protocol, "max_size": max_connections}


def _raise_fd_limit(wanted: int) -> None:
    """Each connection is a file descriptor; lift the soft limit toward the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
