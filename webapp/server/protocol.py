"""Engine.IO and Socket.IO as their specifications and official test suites have them.

python-engineio and python-socketio part from the protocols (and from the reference servers, which
the suites in tests/conformance check) in a few places; Parley's subclasses of their servers close
the gaps, for the Socket.IO server Flask-SocketIO builds and for any Engine.IO server made here:

- The handshake advertised ``pingInterval`` in whole seconds (0.3 s became 0 ms); now in ms.
- A request without ``transport`` was taken as long-polling; an unknown method got 405, not 400.
- A long-polling POST of more than 16 packets was dropped whole and answered ``OK`` all the same:
  the official clients pack a burst of emits into one POST (40 quick emits over long-polling got
  1 ack of 40). Now only the body's size bounds it (``max_http_buffer_size``); the answer is ``ok``.
- An undecodable POST, a second GET while one is waiting, or a request after the ping timeout
  left the session open; they end it. A client's CLOSE ends the waiting GET with a NOOP.
- A second WebSocket for an upgraded session got an HTTP 400; like the reference server, it is
  accepted and closed (clients then see a close, not an error).
- An invalid Socket.IO packet (unknown type, a payload of the wrong shape, a reserved event name
  such as ``disconnect``, which would run the disconnect handler) was logged and skipped; it ends
  the connection, as socket.io-parser's rules do. An unknown namespace is refused with
  ``{"message": "Invalid namespace"}``.

The WebSocket upgrade's stray NOOP is fixed where the upgrade runs, in ``webapp.server.connections``.
Nothing here runs per delivered packet: only handshakes, HTTP requests and incoming packets.
"""
from __future__ import annotations

import io
from urllib.parse import parse_qs

import engineio
import eventlet
import socketio
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from eventlet import hubs
from socketio import packet as sio_packet

from webapp.server import compat

POLLING = "_parley_polling"  # on an Engine.IO socket: a long-polling GET is waiting for packets
# socket.io-parser's: event names with a meaning of their own, never sent by a client.
RESERVED_EVENTS = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"))
MAX_ATTACHMENTS = 10  # binary attachments per packet, socket.io-parser's default bound


def install(server: socketio.Server | None = None, connect_timeout: float = 45.0) -> None:
    """Make ``server`` (default: the app's, ``extensions.socketio``) and its Engine.IO server
    Parley's subclasses. Flask-SocketIO builds ``socketio.Server`` itself and no option names
    another class, so the instance is adopted: the subclasses add methods, no state."""
    compat.check()  # the private names below are those of the pinned releases
    if server is None:
        from webapp.extensions import socketio as flask_socketio

        server = flask_socketio.server
    _adopt(server, SocketIOServer)
    server.connect_timeout = connect_timeout
    _adopt(server.eio, EngineIOServer)
    # Its Engine.IO handlers were bound as the library's methods when it was built.
    server.eio.on("message", server._handle_eio_message)
    server.eio.on("connect", server._handle_eio_connect)


def _adopt(obj, cls) -> None:
    if not isinstance(obj, cls):
        if type(obj) is not cls.__bases__[0]:
            raise TypeError(f"{type(obj).__name__} is not the library's own class")
        obj.__class__ = cls


class EngineIOServer(engineio.Server):
    """python-engineio's server, answering HTTP requests the way the protocol says."""

    def handle_request(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if method not in ("GET", "POST", "OPTIONS"):
            return self._refuse(environ, start_response, "Bad request method")
        if query.get("transport", [None])[0] not in self.transports:
            return self._refuse(environ, start_response, "Invalid transport")
        sid = query.get("sid", [None])[0]
        sock = self.sockets.get(sid) if sid is not None else None
        if sock is not None and sock.closed:  # python-engineio's POST would raise (a 500)
            self.sockets.pop(sid, None)
            return self._refuse(environ, start_response, "Session is closed")
        if (sock is None or not sock.connected or method == "OPTIONS" or "j" in query
                or not self._origin_allowed(environ)):
            return super().handle_request(environ, start_response)  # its answers are right
        websocket = environ.get("HTTP_UPGRADE", "").lower() == "websocket"
        if method == "GET" and websocket and (sock.upgraded or sock.upgrading):
            return self._accept_and_close(environ, start_response)
        if sock.upgraded or sock.upgrading or websocket:
            return super().handle_request(environ, start_response)
        if not sock.check_ping_timeout():  # closed it: the client missed a PING
            return self._refuse(environ, start_response, "Session timed out")
        if method == "POST":
            return self._post(sock, environ, start_response)
        if sock.__dict__.get(POLLING):  # two GETs at once: the client is broken, or not alone
            sock.close(wait=False, abort=False, reason=self.reason.TRANSPORT_ERROR)
            return self._refuse(environ, start_response, "Overlapping GET requests")
        sock.__dict__[POLLING] = True
        try:
            return super().handle_request(environ, start_response)
        finally:
            sock.__dict__[POLLING] = False

    def _post(self, sock, environ, start_response):
        """A long-polling POST: any number of packets, bounded by the body's size alone."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        packets = None
        if 0 <= length <= self.max_http_buffer_size:
            try:
                packets = decode_payload(environ["wsgi.input"].read(length))
            except ValueError as exc:  # bad UTF-8, a bad packet, an unknown packet type
                self.logger.info("%s: invalid payload (%s), closing", sock.sid, exc)
        if packets is None:
            sock.close(wait=False, abort=False, reason=self.reason.TRANSPORT_ERROR)
            return self._refuse(environ, start_response, "Invalid payload")
        for pkt in packets:
            if pkt.packet_type == eio_packet.CLOSE:
                sock.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends a waiting GET cleanly
            try:
                sock.receive(pkt)
            except eio_exceptions.EngineIOError:  # a packet a client must not send
                sock.close(wait=False, abort=False, reason=self.reason.TRANSPORT_ERROR)
                return self._refuse(environ, start_response, "Unexpected packet")
            except Exception:  # as python-engineio: logged, and the session goes on
                self.logger.exception("post request handler error")
            if sock.closed:
                break
        headers = [("Content-Type", "text/plain; charset=UTF-8")]
        start_response("200 OK", headers + self._cors_headers(environ))
        return [b"ok"]

    def _accept_and_close(self, environ, start_response):
        """A WebSocket for a session that has (or is getting) one: open it, then close it."""
        return self._async["websocket"](_close_at_once, self)(environ, start_response)

    def _origin_allowed(self, environ) -> bool:
        # python-engineio's own test, which its handle_request makes first
        origin = environ.get("HTTP_ORIGIN")
        if self.cors_allowed_origins == [] or not origin:
            return True
        allowed = self._cors_allowed_origins(environ)
        return allowed is None or origin in allowed

    def _refuse(self, environ, start_response, message: str):
        self.logger.info("Refused: %s", message)
        response = self._bad_request(message)
        start_response(response["status"], response["headers"] + self._cors_headers(environ))
        return [response["response"]]

    def _trigger_event(self, event, *args, **kwargs):
        if event == "connect":  # the OPEN packet has just been queued, not yet sent
            self._advertise_in_milliseconds(args[0])
        return super()._trigger_event(event, *args, **kwargs)

    def _advertise_in_milliseconds(self, sid) -> None:
        # python-engineio writes int(seconds) * 1000: an interval of 0.3 s reads as 0 ms.
        sock = self.sockets.get(sid)
        for pkt in sock.queue.queue if sock is not None else ():
            if pkt is not None and pkt.packet_type == eio_packet.OPEN:
                interval = self.ping_interval + self.ping_interval_grace_period
                pkt.data["pingInterval"] = round(interval * 1000)
                pkt.data["pingTimeout"] = round(self.ping_timeout * 1000)


def _close_at_once(ws) -> None:
    """A WebSocket handler with nothing to say: eventlet closes the WebSocket when it returns."""


_NO_BODY = io.BytesIO(b"")  # read by nobody after the handshake; never written to
_LASTING = (str, bytes, int, float, tuple, type(None))  # bool is an int


def lasting_environ(environ: dict) -> dict:
    """What of a request's environ outlives the request: its strings and numbers (headers,
    address, path) and the app's shared objects, not the request's streams and callbacks."""
    kept = {key: value for key, value in environ.items()
            if isinstance(value, _LASTING) or key in ("flask.app", "wsgi.errors")}
    kept["wsgi.input"] = _NO_BODY
    return kept


def decode_payload(body: bytes) -> list[eio_packet.Packet]:
    """A long-polling POST's packets (``\\x1e``-separated); ValueError if any is not a packet."""
    text = body.decode("utf-8")
    if not text:
        return []
    packets = [eio_packet.Packet(encoded_packet=encoded) for encoded in text.split("\x1e")]
    for pkt in packets:
        if not eio_packet.OPEN <= pkt.packet_type <= eio_packet.NOOP:
            raise ValueError(f"unknown packet type {pkt.packet_type}")
    return packets


class SocketIOServer(socketio.Server):
    """python-socketio's server, refusing packets socket.io-parser refuses."""

    connect_timeout = 45.0  # seconds; set by install(), from CONNECT_TIMEOUT

    def _engineio_server_class(self):
        return EngineIOServer

    def _handle_eio_connect(self, eio_sid, environ):
        """An Engine.IO session must connect to a namespace within ``connect_timeout`` (the
        reference server's connectTimeout): one that never does holds a connection, unseen by
        the per-address bound (it counts identified clients), until the ping timeout, forever
        if it answers pings. A timer in the hub's list, not a greenlet per connection."""
        answer = super()._handle_eio_connect(eio_sid, environ)
        # python-socketio keeps the handshake's environ for the connection's life (every event's
        # request context is made from it); the request's own objects in it -- its input stream,
        # with eventlet's reader, writer, socket and parsed headers behind it -- would live on
        # with it, though the request is over (docs/performance.md, round two: ~3 KiB each).
        self.environ[eio_sid] = lasting_environ(environ)
        hubs.get_hub().schedule_call_global(self.connect_timeout, eventlet.spawn_n,
                                            self._connect_deadline, eio_sid)
        return answer

    def _connect_deadline(self, eio_sid) -> None:
        sock = self.eio.sockets.get(eio_sid)
        if sock is None or sock.closed or self.manager.sid_from_eio_sid(eio_sid, "/"):
            return
        if any(self.manager.sid_from_eio_sid(eio_sid, ns) for ns in self.manager.get_namespaces()):
            return
        self.logger.info("%s: no namespace connected in %.0f s, closing", eio_sid,
                         self.connect_timeout)
        sock.close(wait=False, abort=False, reason=self.reason.TRANSPORT_CLOSE)

    def _handle_connect(self, eio_sid, namespace, data):
        namespace = namespace or "/"
        if not (namespace in self.handlers or namespace in self.namespace_handlers
                or self.namespaces == "*" or namespace in self.namespaces):
            self._send_packet(eio_sid, self.packet_class(
                sio_packet.CONNECT_ERROR, data={"message": "Invalid namespace"},
                namespace=namespace))
            return
        super()._handle_connect(eio_sid, namespace, data)

    def _handle_eio_message(self, eio_sid, data):
        """python-socketio's dispatch, after socket.io-parser's checks; a failed one closes."""
        if eio_sid in self._binary_packet:
            if not isinstance(data, bytes):
                return self._refuse(eio_sid, "text where a binary attachment was due")
            return super()._handle_eio_message(eio_sid, data)
        try:
            pkt = self.packet_class(encoded_packet=data)
            problem = invalid(pkt)
        except (ValueError, TypeError) as exc:
            problem = str(exc) or type(exc).__name__
        if problem:
            return self._refuse(eio_sid, problem)
        kind = pkt.packet_type
        if kind == sio_packet.CONNECT:
            self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == sio_packet.DISCONNECT:
            self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        elif kind == sio_packet.EVENT:
            self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif kind == sio_packet.ACK:
            self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif self.manager.sid_from_eio_sid(eio_sid, pkt.namespace or "/"):
            self._binary_packet[eio_sid] = pkt  # BINARY_EVENT or BINARY_ACK: attachments next
        # else: binary data for a namespace it has not joined -- ignored, like other such packets

    def _refuse(self, eio_sid, problem: str) -> None:
        self.logger.info("%s: invalid Socket.IO packet (%s), closing", eio_sid, problem)
        self._binary_packet.pop(eio_sid, None)
        sock = self.eio.sockets.get(eio_sid)
        if sock is not None:
            sock.close(wait=False, abort=False, reason=self.reason.TRANSPORT_ERROR)


def invalid(pkt: sio_packet.Packet) -> str | None:
    """What is wrong with a decoded packet from a client (socket.io-parser's rules), or None."""
    kind, data = pkt.packet_type, pkt.data
    binary = kind in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK)
    if binary and not 1 <= pkt.attachment_count <= MAX_ATTACHMENTS:
        return f"{pkt.attachment_count} attachments (1 to {MAX_ATTACHMENTS} allowed)"
    if kind == sio_packet.CONNECT:
        return None if data is None or isinstance(data, dict) else "CONNECT data must be an object"
    if kind == sio_packet.DISCONNECT:
        return None if data is None else "DISCONNECT takes no data"
    if kind in (sio_packet.EVENT, sio_packet.BINARY_EVENT):
        if not isinstance(data, list) or not data:
            return "an event must be a non-empty array"
        name = data[0]
        if isinstance(name, str):
            return f"reserved event name {name!r}" if name in RESERVED_EVENTS else None
        number = isinstance(name, (int, float)) and not isinstance(name, bool)
        return None if number else "an event name must be a string or a number"
    if kind in (sio_packet.ACK, sio_packet.BINARY_ACK):
        return None if isinstance(data, list) else "an ack must be an array"
    return f"unexpected packet type {kind!r}"  # CONNECT_ERROR, or not a Socket.IO type at all



def start_client_manager(server: socketio.Server) -> None:
    """Start Socket.IO's client manager if no Socket.IO client has yet.

    python-socketio initializes it on its first connection; with Redis that starts the listener
    which brings other processes' events, so a process serving only plain WebSocket clients
    (/ws) needs it started by hand.
    """
    if not server.manager_initialized:
        server.manager_initialized = True
        server.manager.initialize()
