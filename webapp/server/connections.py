"""What an idle Socket.IO connection costs the server (eventlet mode): as little as we can make it.

python-engineio keeps three greenlets per WebSocket connection, each holding its stack and frames
while it waits (~8-16 KiB apiece), besides the request objects eventlet keeps for the request
that never ends: the reader, parked in the WSGI request for the connection's life; a writer,
waiting on the outgoing queue; a ping task, sleeping ``ping_interval``. Here none waits:

- after the handshake the connection moves to a duplicate of its socket (``_detach``) that the
  hub watches (``_Connection``); a greenlet starts when a frame arrives, hands the packet to
  python-engineio (events run right there, one at a time, in order), and ends. The request's
  greenlet returns, and eventlet's buffers, parsed headers and environ go with it;
- the writer exists only while packets wait: putting a packet on a connection's queue starts one
  if none runs, and it ends when the queue is empty. Broadcasts mostly skip the queue altogether
  (``webapp.server.fanout`` writes to idle sockets directly, which reads ``WRITER_IDLE``);
- the wait for the next PING is a Timer in the hub's own list (~0.3 KiB); a greenlet lives only
  for the moment of queueing the PING (which may find the client gone and close it: that takes a
  greenlet, the hub itself must never block).

Bench "connect": 62 KiB per idle connection before, 18 KiB after (docs/performance.md); 13 KiB
once python-socketio's copy of the handshake environ lets the request go (``protocol.py``).

Also here, as it is python-engineio's transport too: a long-polling response carries at most
16 packets, the most python-engineio's own clients accept (``_poll``).

The transport's rules are python-engineio's own (the upgrade from long-polling, packet size,
socket timeout, closing); only who waits, and where, changes.
"""
from __future__ import annotations

import logging
import os
import socket
import time

import eventlet
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio import payload as eio_payload
from engineio import socket as eio_socket
from eventlet import greenio, hubs, patcher
from eventlet.event import Event
from eventlet.queue import Empty, Queue

from webapp.server import fanout

log = logging.getLogger(__name__)

WRITER_IDLE = fanout.WRITER_IDLE
_original_socket = patcher.original("socket").socket
DETACHED = "_parley_detached"  # on a request's socket: its connection lives on in a duplicate
CONNECTION = "_parley_connection"  # on an Engine.IO socket: its _Connection, once detached
# What eventlet's WebSocket reads from the environ (log context, origin, protocol)
_WS_ENVIRON = ("wsgi.errors", "HTTP_HOST", "SCRIPT_NAME", "PATH_INFO", "REMOTE_ADDR",
               "REMOTE_PORT", "HTTP_ORIGIN", "HTTP_WEBSOCKET_PROTOCOL")


def limit(max_websockets: int, max_queued_bytes: int = 4 << 20) -> None:
    """At most this many WebSockets at once; beyond it a new one is closed with 1013 (try again
    later). They hold no WSGI request, so eventlet's own cap (``max_size``) no longer counts
    them, and past the descriptor limit its accept loop would fail: shed, do not crash.

    And at most ``max_queued_bytes`` waiting for one connection to read them (``cut_off``)."""
    _Connection.limit = max_websockets
    MeteredQueue.limit = max_queued_bytes


def install() -> None:
    """Patch python-engineio's Socket (idempotent); eventlet mode only."""
    if getattr(eio_socket.Socket, "_parley_connections", False):
        return
    eio_socket.Socket.schedule_ping = _schedule_ping
    eio_socket.Socket.poll = _poll
    eio_socket.Socket._websocket_handler = _websocket_handler
    eio_socket.Socket._parley_connections = True
    # Every outgoing queue python-engineio makes (and the /ws gateway's) counts its bytes.
    from engineio.async_drivers import eventlet as engineio_eventlet

    engineio_eventlet._async["queue"] = MeteredQueue


# -- what one connection may hold ----------------------------------------------------------------
class MeteredQueue(Queue):
    """An outgoing queue that knows how many bytes it holds, for the bound on each connection.

    A client that never reads (or never polls, while answering pings blindly) would otherwise make
    the server keep every broadcast and every answer for it, without end: ~155 MiB per connection
    in an attack with large ``history`` pages. Past ``limit`` bytes the connection is cut off.
    """

    limit = 4 << 20  # set by limit(): room for the largest single answer (a full history page)
    bytes = 0

    def _put(self, item) -> None:
        self.bytes += _size(item)
        super()._put(item)

    def _get(self):
        item = super()._get()
        self.bytes -= _size(item)
        return item

    def over(self) -> bool:
        return self.bytes > self.limit

    def drop_all(self) -> None:
        """Forget what waits (it will never be read: that is what holds the memory)."""
        while True:
            try:
                self.get_nowait()
            except Empty:
                return
            self.task_done()


def _size(item) -> int:
    data = getattr(item, "data", item)  # an Engine.IO packet, or a framed /ws message
    return len(data) if isinstance(data, str | bytes) else 0


def cut_off(sock, why: str) -> None:
    """End an Engine.IO connection that does not read what it is sent: drop what waits for it,
    close it (its users leave their rooms now), and shut its socket so that a writer stuck on it
    and its reader wake up and let go of the descriptor. The client reconnects and catches up."""
    if sock.closed or sock.closing:
        return
    server = sock.server
    log.warning("%s: %s; cutting it off", sock.sid, why)
    if isinstance(sock.queue, MeteredQueue):
        sock.queue.drop_all()
    sock.close(wait=False, abort=True, reason=server.reason.TRANSPORT_ERROR)
    conn = sock.__dict__.get(CONNECTION)
    if conn is not None:
        conn.shut()


# -- pings ---------------------------------------------------------------------------------------
def _schedule_ping(self) -> None:
    # as python-engineio's: a new wait starts only once the last PING was answered
    if self.last_ping:
        self.last_ping = None
        hubs.get_hub().schedule_call_global(self.server.ping_interval, eventlet.spawn_n, _ping, self)


def _ping(sock) -> None:
    if not sock.closing and not sock.closed:
        sock.last_ping = time.time()
        sock.send(eio_packet.Packet(eio_packet.PING))


# -- long-polling --------------------------------------------------------------------------------
def _poll(self) -> list:
    """The packets for one long-polling response: at most as many as a client may decode.

    python-engineio's clients (python-socketio's) refuse a whole payload of more than
    ``Payload.max_decode_packets`` (16) packets -- and the server's own ``poll`` sends every
    packet queued. A busy room would make a Python client over long-polling drop its events and
    acks wholesale; here the rest waits for the next request, which follows at once.
    """
    try:
        first = self.queue.get(timeout=self.server.ping_interval + self.server.ping_timeout)
    except Empty:
        raise eio_exceptions.QueueEmpty() from None
    self.queue.task_done()
    if first is None:
        return []
    packets = [first]
    while len(packets) < eio_payload.Payload.max_decode_packets:
        try:
            pkt = self.queue.get(block=False)
        except Empty:
            break
        self.queue.task_done()
        if pkt is None:  # closing: leave it for the next request, after these
            self.queue.put(None)
            break
        packets.append(pkt)
    return packets


# -- the WebSocket transport ---------------------------------------------------------------------
def _websocket_handler(self, ws):
    """Take an Engine.IO socket over ``ws`` (an eventlet WebSocket), then let its request end.

    After the handshake (and the upgrade from long-polling, if it began there) the connection is
    handed to a duplicate of its socket watched by the hub (``_Connection``), and this request's
    greenlet -- parked for the connection's whole life otherwise, with eventlet's request
    objects -- returns at once.
    """
    server = self.server
    # A frame that takes longer than this to arrive, or to be taken by a client that stopped
    # reading, ends the connection: a stuck client is cut off within the ping timeout.
    ws.socket.settimeout(server.ping_timeout)
    if self.connected:  # it began on long-polling: this is the upgrade
        if not _upgrade(self, ws, lambda: _receive(server, ws)):
            return []
    else:
        self.connected = True
        self.upgraded = True
    if _Connection.live >= _Connection.limit:
        server.logger.warning("%s: %d WebSockets open, closing this one", self.sid,
                              _Connection.live)
        ws.close(close_data=(1013, "Too many connections, try again later."))
        self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
        return []
    _Connection(self, _detach(ws))
    return []


def _receive(server, ws):
    data = ws.wait()
    if data and len(data) > server.max_http_buffer_size:
        raise ValueError("packet is too large")
    return data


def _detach(ws):
    """A WebSocket on a duplicate of ``ws``'s socket; ``ws`` and its request are let go.

    eventlet ends a WebSocket request by sending a closing frame and shutting the socket down;
    the old object is marked closed (no frame) and the request's socket marked DETACHED, which
    ``webapp.server.serving``'s protocol reads to close its descriptor without a shutdown.
    """
    old = ws.socket
    raw = _original_socket(fileno=os.dup(old.fileno()))
    hubs.notify_opened(raw.fileno())  # a recycled descriptor number: stale waiters on it go
    dup = greenio.GreenSocket(raw)
    dup.settimeout(old.gettimeout())
    environ = {key: ws.environ[key] for key in _WS_ENVIRON if key in ws.environ}
    fresh = type(ws)(dup, environ, ws.version, protocol=ws.protocol,
                     extensions=ws.extensions, max_frame_length=ws.max_frame_length)
    ws.websocket_closed = True
    setattr(old, DETACHED, True)
    return fresh


class _Connection:
    """An upgraded Engine.IO socket served without a greenlet of its own while it is idle.

    The hub watches the socket; when a frame arrives a greenlet reads it, hands the packet to
    python-engineio (events run right there, in order), and watches again. Closing, from either
    side, goes through ``close_ws`` so the watch is gone before the descriptor is.
    """

    live = 0  # open now, in this process
    limit = 1 << 30  # set by limit()

    def __init__(self, sock, ws) -> None:
        _Connection.live += 1
        self.sock, self.ws = sock, ws
        self.hub = hubs.get_hub()
        self.listener = None
        self.ended = self.ws_closed = False
        sock.__dict__[fanout.DIRECT] = fanout.Direct(ws)  # broadcasts write to the new socket
        sock.__dict__[CONNECTION] = self
        self.writer = _Writer(sock, ws, close=self.close_ws)
        self._watch()

    def _watch(self) -> None:
        if not (self.ended or self.ws_closed):
            self.listener = self.hub.add(self.hub.READ, self.ws.socket.fileno(), self._readable,
                                         self._gone, lambda: None)

    def _unwatch(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            self.hub.remove(listener)

    def _readable(self, _fileno) -> None:  # in the hub: it must not block
        self._unwatch()
        eventlet.spawn_n(self._read)

    def _gone(self, _exc) -> None:  # the hub saw the descriptor closed or reused
        self.listener = None
        eventlet.spawn_n(self._end)

    def _read(self) -> None:
        if self.ws_closed:  # closed by the writer since the hub saw data: nothing to read
            return self._end()
        sock, server = self.sock, self.sock.server
        try:
            data = _receive(server, self.ws)
            if data is None:  # closed by the client
                return self._end()
            pkt = eio_packet.Packet(encoded_packet=data)
        except ValueError:  # garbage, or too large: a protocol error, not a crash
            self.close_ws((1002, "Malformed packet."))
            return self._end()
        except Exception as exc:  # noqa: BLE001 - a dead or misbehaving peer ends the connection
            if not sock.closed:
                server.logger.info("%s: Unexpected error %r, closing connection", sock.sid, exc)
            return self._end()
        try:
            sock.receive(pkt)
        except eio_exceptions.UnknownPacketError:
            pass
        except eio_exceptions.SocketIsClosedError:
            return self._end()
        except Exception:
            server.logger.exception("Unknown receive error")
            return self._end()
        self._watch()

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        _Connection.live -= 1
        self._unwatch()
        self.writer.finish()
        sock, server = self.sock, self.sock.server
        sock.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
        if server.sockets.get(sock.sid) is sock:
            del server.sockets[sock.sid]

    def shut(self) -> None:
        """Shut the socket down: a writer blocked on it and the hub's watch both wake at once
        (closing alone would wake neither, and keep the descriptor)."""
        try:
            self.ws.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close_ws(self, close_data=None) -> None:
        """Close the WebSocket (a closing frame, then the descriptor), unwatched first; then end
        the Engine.IO socket too, if this came from its writer (a send failed, or python-engineio
        closed it: ping timeout, server-side disconnect, shutdown)."""
        if self.ws_closed:
            return
        self.ws_closed = True
        self._unwatch()
        try:
            self.ws.close(close_data=close_data)
        except OSError:
            pass
        if not self.ended:
            eventlet.spawn_n(self._end)  # not here: the writer calling us is what _end waits on


def _upgrade(sock, ws, receive) -> bool:
    """Engine.IO's probe: PING "probe" -> PONG "probe", end the pending poll, then UPGRADE."""
    sock.upgrading = True  # hold packet sends during the upgrade
    pkt = eio_packet.Packet(encoded_packet=receive())
    if pkt.packet_type != eio_packet.PING or pkt.data != "probe":
        sock.upgrading = False
        return False
    ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
    noop = eio_packet.Packet(eio_packet.NOOP)
    sock.queue.put(noop)  # ends the long-poll in flight
    pkt = eio_packet.Packet(encoded_packet=receive())
    sock.upgrading = False
    if noop in sock.queue.queue:  # no poll was in flight: it is not for the WebSocket
        sock.queue.queue.remove(noop)
        sock.queue.task_done()
    if pkt.packet_type != eio_packet.UPGRADE:
        sock.upgraded = False
        return False
    sock.upgraded = True
    return True


class _Writer:
    """Writes a socket's queued packets to its WebSocket, in a greenlet started on demand.

    Every packet reaches the queue through ``put`` (python-engineio's ``send``, ``close`` and the
    pings all call ``queue.put``), which starts a greenlet when none is running; it writes until
    the queue is empty and ends. A ``None`` on the queue is python-engineio's "connection over".
    """

    def __init__(self, sock, ws, close) -> None:
        self.sock, self.ws, self._close_ws = sock, ws, close
        self.running = self.broken = self.over = False
        self.done = Event()
        self._put = sock.queue.put
        sock.queue.put = self.put
        sock.__dict__[WRITER_IDLE] = True
        if not sock.queue.empty():  # queued while the upgrade was in progress
            self._start()

    def put(self, item, *args, **kwargs) -> None:
        self._put(item, *args, **kwargs)
        if not self.running:
            self._start()

    def finish(self) -> None:
        """Once the reader is done: write what is queued, close, and wait for that."""
        self.put(None)
        self.done.wait()

    def _start(self) -> None:
        self.running = True
        self.sock.__dict__[WRITER_IDLE] = False
        eventlet.spawn_n(self._run)

    def _run(self) -> None:
        queue = self.sock.queue
        try:
            while True:
                try:
                    pkt = queue.get(block=False)
                except Empty:
                    return
                queue.task_done()  # python-engineio's close(wait=True) joins the queue
                if pkt is None:
                    self._close()
                elif not (self.broken or self.over):
                    try:
                        self.ws.send(pkt.encode())
                    except Exception:  # noqa: BLE001 - a dead peer: drop the rest, close
                        self.broken = True
                        self._close()
        finally:
            # No greenlet switch since the queue was found empty: a packet put after it would
            # have started nothing (running was still True) -- so look once more.
            self.running = False
            self.sock.__dict__[WRITER_IDLE] = not self.over
            if not queue.empty() and not self.over:
                self._start()

    def _close(self) -> None:
        if not self.over:
            self.over = True
            self._close_ws()
        if not self.done.ready():
            self.done.send()
