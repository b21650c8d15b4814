"""What an idle Socket.IO connection costs the server (eventlet mode): as little as we can make it.

python-engineio spends two greenlets per WebSocket connection on waiting, besides the one that
reads from it: one sleeps ``ping_interval`` and then queues a PING, one waits on the outgoing
queue for life. Each keeps its stack and frames (~8-10 KiB) while it waits. Here:

- the wait for the next PING is a Timer in the hub's own list (~0.3 KiB); a greenlet lives only
  for the moment of queueing the PING (which may find the client gone and close it: that takes a
  greenlet, the hub itself must never block);
- the writer exists only while packets wait: putting a packet on a connection's queue starts one
  if none runs, and it ends when the queue is empty. Broadcasts mostly skip the queue altogether
  (``webapp.fanout`` writes to idle sockets directly, which reads ``_parley_writer_idle``).

Also here, as it is python-engineio's transport too: a long-polling response carries at most
16 packets, the most python-engineio's own clients accept (``_poll``).

The transport's rules are python-engineio's own (the upgrade from long-polling, packet size,
socket timeout, closing); only who waits, and where, changes.
"""
from __future__ import annotations

import time

import eventlet
from eventlet import hubs
from eventlet.event import Event
from eventlet.queue import Empty
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio import payload as eio_payload
from engineio import socket as eio_socket

WRITER_IDLE = "_parley_writer_idle"  # True: nothing is being written to this WebSocket now


def install() -> None:
    """Patch python-engineio's Socket (idempotent); eventlet mode only."""
    if getattr(eio_socket.Socket, "_parley_connections", False):
        return
    eio_socket.Socket.schedule_ping = _schedule_ping
    eio_socket.Socket.poll = _poll
    eio_socket.Socket._websocket_handler = _websocket_handler
    eio_socket.Socket._parley_connections = True


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
    """Serve an Engine.IO socket over ``ws`` (an eventlet WebSocket) until either side closes."""
    server = self.server
    ws.socket.settimeout(server.ping_interval + server.ping_timeout)

    def receive():
        data = ws.wait()
        if data and len(data) > server.max_http_buffer_size:
            raise ValueError("packet is too large")
        return data

    if self.connected:  # it began on long-polling: this is the upgrade
        if not _upgrade(self, ws, receive):
            return []
    else:
        self.connected = True
        self.upgraded = True
    writer = _Writer(self, ws)
    while True:
        try:
            data = receive()
        except Exception as exc:  # noqa: BLE001 - any failure ends the connection
            if not self.closed:
                server.logger.info("%s: Unexpected error %r, closing connection", self.sid, exc)
            break
        if data is None:  # closed by the client
            break
        pkt = eio_packet.Packet(encoded_packet=data)  # garbage raises ValueError: closed 1002
        try:
            self.receive(pkt)
        except eio_exceptions.UnknownPacketError:
            pass
        except eio_exceptions.SocketIsClosedError:
            break
        except Exception:  # noqa: BLE001 - logged; the connection ends properly
            server.logger.exception("Unknown receive error")
            break
    writer.finish()
    self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)
    return []


def _upgrade(sock, ws, receive) -> bool:
    """Engine.IO's probe: PING "probe" -> PONG "probe", end the pending poll, then UPGRADE."""
    sock.upgrading = True  # hold packet sends during the upgrade
    pkt = eio_packet.Packet(encoded_packet=receive())
    if pkt.packet_type != eio_packet.PING or pkt.data != "probe":
        sock.upgrading = False
        return False
    ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
    sock.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends the long-poll in flight
    pkt = eio_packet.Packet(encoded_packet=receive())
    sock.upgrading = False
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

    def __init__(self, sock, ws) -> None:
        self.sock, self.ws = sock, ws
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
            self.ws.close()
        if not self.done.ready():
            self.done.send()
