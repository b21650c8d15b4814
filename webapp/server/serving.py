"""How ``python wsgi.py`` serves the app: eventlet's own WSGI server, as ``socketio.run`` starts
it, on a listener of our own (``listen``), tuned, and saying what it does (``serve``).

``install``-style calls here put the rest of the engine in place (``connections``, ``fanout``,
``protocol``, eventlet's hardened WebSocket); importing this module does nothing by itself
(``lifecycle`` imports it for the SIGTERM path, the CLI through wsgi.py).
"""
from __future__ import annotations

import errno
import gc
import logging
import os
import platform
import resource
import socket
from importlib import metadata

from flask import Flask

from webapp.server import compat

log = logging.getLogger(__name__)
# With ACCESS_LOG (or LOG_LEVEL=DEBUG): one line per HTTP request, as eventlet formats it (the
# time comes from logging). A WebSocket is logged once, at its handshake.
access_log = logging.getLogger(f"{__name__}.access")
ACCESS_FORMAT = ('%(client_ip)s "%(request_line)s" %(status_code)s %(body_length)s'
                 ' %(wall_seconds).3fs')

LISTENER = "parley.listener"  # app.extensions key: the socket the server accepts connections on
WAL_SAFETY_NET_PAGES = 20_000  # ~80 MB: a commit checkpoints by itself only if the thread stalls
# Connections the kernel holds for accept() (capped by net.core.somaxconn). eventlet's default, 50,
# overflows whenever one hub turn outlasts 50 new connections: socket.io's clients on long-polling
# open one per request (up to ~2,000/s for 100 official clients in a busy room) and the kernel
# drops the SYNs past it, which a client resends only 1 s later (bench polling-official: ~500
# such drops a run, p99 2.8 -> 0.8 s; docs/performance.md). Reconnection storms after a restart
# are the same burst. Node's backlog is 511, gunicorn's 2048.
LISTEN_BACKLOG = 2048


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


def listen(app: Flask):
    """Check the engine, then open the socket the server will accept connections on.

    ``python wsgi.py`` serves with eventlet only: ``ASYNC_MODE=threading`` is for the tests'
    in-process apps (Flask-SocketIO's test client), where there is no /ws gateway, no hardening of
    the transport and no tuning; serving with it would look like Parley and behave like none of it,
    so it is refused with one line. So are engine packages other than those the engine was
    written for (``compat``).

    ``socketio.run`` would open it with SO_REUSEPORT (eventlet.listen's default): a second server
    started on the same port by mistake then listens too, without a word, and the kernel splits
    clients between two processes with separate state. Here a port in use ends the process with
    one line and exit code 1, unless REUSE_PORT asks for processes sharing the port on purpose.
    """
    if app.config["ASYNC_MODE"] != "eventlet":
        raise SystemExit(f"error: python wsgi.py serves with ASYNC_MODE=eventlet only "
                         f"(it is {app.config['ASYNC_MODE']!r}); 'threading' is for in-process "
                         f"tests, without /ws or the transport's hardening: unset ASYNC_MODE")
    try:
        compat.check()
    except compat.IncompatibleEngine as exc:
        raise SystemExit(f"error: {exc}") from None
    import eventlet

    host, port = app.config["HOST"], app.config["PORT"]
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = eventlet.listen(address, family, backlog=LISTEN_BACKLOG,
                                   reuse_port=app.config["REUSE_PORT"])
    except OSError as exc:
        raise SystemExit(_cannot_listen(_host_port(host, port), exc)) from None
    app.extensions[LISTENER] = listener  # for a graceful shutdown (stop_accepting)
    return listener


def _cannot_listen(where: str, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"error: {where} is already in use (another Parley?): stop that server or set "
                f"another PORT; REUSE_PORT=1 shares a port between processes on purpose")
    return f"error: cannot listen on {where}: {exc.strerror or exc}"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(app: Flask, listener) -> None:
    """Say what is served and where, then serve until the process ends: eventlet's WSGI server on
    ``listener`` (from ``listen``) with the arguments ``socketio.run`` would give it."""
    options = run_options(app)
    options.pop("host"), options.pop("port")
    logging.getLogger("engineio.server").addFilter(_ClientRaces())
    host, port = listener.getsockname()[:2]  # PORT=0: the one the system chose
    _announce(app, f"http://{_host_port(host, port)}")
    import eventlet.wsgi

    eventlet.wsgi.server(listener, app, **options)


def _announce(app: Flask, url: str) -> None:
    try:
        version = metadata.version("parley")
    except metadata.PackageNotFoundError:  # run from a tree that was never pip-installed
        version = "(not installed)"
    log.info("Parley %s (Python %s, %s)", version, platform.python_version(),
             app.config["ASYNC_MODE"])
    log.info("database: %s", _without_password(app.config["SQLALCHEMY_DATABASE_URI"]))
    if app.config["REDIS_URL"]:
        log.info("redis: %s", _without_password(app.config["REDIS_URL"]))
    log.info("listening on %s", url)


class _ClientRaces(logging.Filter):
    """python-engineio logs, as an ERROR the first time, a request for a session that is gone:
    a long-polling client's last poll crossing its own disconnect, a session from before a
    restart (the client reconnects). The clients' doing, and harmless: DEBUG."""

    STALE = ("Invalid session ", "Session is disconnected", "Session not found",
             "Unexpected HTTP request for session ")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and any(s in str(record.msg) for s in self.STALE):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split(":", 1)[0] + "://..."  # unparseable: show no more than its scheme


def run_options(app: Flask) -> dict:
    """Keyword arguments for ``socketio.run(app, ...)`` (``host``, ``port`` and the server's own)
    in the configured async mode."""
    access = app.config["ACCESS_LOG"] or access_log.isEnabledFor(logging.DEBUG)  # LOG_LEVEL
    options = {"host": app.config["HOST"], "port": app.config["PORT"], "log_output": access}
    if app.config["ASYNC_MODE"] == "eventlet":
        _harden_eventlet_websocket(connect_timeout=app.config["CONNECT_TIMEOUT"])
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


def _harden_eventlet_websocket(connect_timeout: float) -> None:
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

    from webapp.server.websocket import BoundedMessage

    def unmask(data, mask, length=None, offset=0):
        # eventlet's signature: ``mask`` is the frame's 4 key bytes, ``offset`` where ``data``
        # starts within the frame's payload (a frame may arrive in several reads).
        shift = offset % 4
        key = bytes(mask[shift:]) + bytes(mask[:shift])
        return bytes(XorMaskerSimple(key).process(data[:length] if length is not None else data))

    from webapp.server import connections, fanout
    from webapp.server import protocol as engineio_protocol

    fanout.install()
    connections.install()
    # the protocol as specified (tests/conformance runs its suites)
    engineio_protocol.install(connect_timeout=connect_timeout)

    def closing_on_garbage(handler):
        def run(ws):
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
    import eventlet
    import eventlet.wsgi

    from webapp.server import connections

    max_connections = app.config["MAX_CONNECTIONS"]
    header_timeout = app.config["REQUEST_HEADER_TIMEOUT"]

    class Protocol(eventlet.wsgi.HttpProtocol):
        # Each connection keeps its buffered reader and writer for life; eventlet's 8 KiB + 16 KiB
        # cost an idle WebSocket ~4 KiB of its ~66 (bench "connect"). Requests and polling
        # bodies are small, and a write larger than the buffer goes straight to the socket.
        rbufsize = 2048
        wbufsize = 2048
        _header_deadline = None

        def finish(self):
            if getattr(self.connection, connections.DETACHED, False):
                # A WebSocket handed to a duplicate of this socket (webapp/server/connections.py) goes
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

        # A request's line and headers must arrive within REQUEST_HEADER_TIMEOUT of when the
        # server starts waiting for them (an idle keep-alive connection included). eventlet
        # waits forever: a few thousand clients sending a header byte now and then ("slowloris")
        # would hold a descriptor and a greenlet each for good.
        def _read_request_line(self):
            self._header_deadline = eventlet.Timeout(header_timeout)
            try:
                return super()._read_request_line()
            except eventlet.Timeout as timeout:
                if timeout is not self._header_deadline:
                    raise
                self._header_deadline = None
                return b""  # eventlet then closes the connection

        def parse_request(self):
            deadline = self._header_deadline
            try:
                return super().parse_request()
            except eventlet.Timeout as timeout:
                if timeout is not deadline:
                    raise
                self.close_connection = 1
                return False
            finally:
                self._stop_header_deadline()

        def handle_one_request(self):
            try:
                super().handle_one_request()
            finally:  # the paths that end a request before its headers are parsed
                self._stop_header_deadline()

        def _stop_header_deadline(self):
            deadline, self._header_deadline = self._header_deadline, None
            if deadline is not None:
                deadline.cancel()

    connections.limit(max_connections, app.config["MAX_QUEUED_BYTES"])
    _raise_fd_limit(max_connections + 256)
    return {
        "protocol": Protocol,
        # eventlet caps simultaneous connections at 1024 by default; further ones hang unanswered.
        "max_size": max_connections,
        # eventlet's own flag (socketio.run takes ``debug`` for Flask's): with it, a Python
        # traceback would go out in a 500's body.
        "debug": False,
        # A client socket operation (reading a body, writing an answer) that makes no progress
        # for this long ends the connection; WebSockets set their own (the ping timeout).
        "socket_timeout": max(header_timeout, 60.0),
        "log": _EventletLog(),
        "log_format": ACCESS_FORMAT,
        "environ": {"wsgi.errors": _ErrorStream()},
    }


class _EventletLog:
    """eventlet.wsgi's ``log`` (used with the access log only): request lines to ``access_log``,
    its own start and stop notices at DEBUG (``serve`` says where it listens)."""

    def info(self, msg, *args, **kwargs) -> None:
        if msg.startswith("Traceback"):  # a request failed below Flask (which logs its own)
            access_log.warning("request failed:\n%s", msg.rstrip())
        elif "wsgi starting up" in msg or "wsgi exit" in msg:
            log.debug(msg)
        else:
            access_log.info(msg)

    def debug(self, msg, *args, **kwargs) -> None:
        log.debug(msg)

    def error(self, msg, *args, **kwargs) -> None:
        log.error(msg)


class _ErrorStream:
    """``wsgi.errors`` into logging, a record per write.

    eventlet's WebSocket writes its failures to close a socket here, with no newline (glued to
    the next line of the console). Shutting down a descriptor already closed (EBADF) is not
    one: a connection's reader found the socket its writer had just closed
    (webapp/server/connections.py), and there is nothing left to shut down -- DEBUG.
    """

    EBADF = f"[Errno {errno.EBADF}]"

    def write(self, text: str) -> None:
        text = text.strip()
        if text:
            log.log(logging.DEBUG if self.EBADF in text else logging.WARNING, "%s", text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass


def _raise_fd_limit(wanted: int) -> None:
    """Each connection is a file descriptor; lift the soft limit toward the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
