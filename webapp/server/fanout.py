"""A faster path from a broadcast to the sockets of its recipients (eventlet + WebSocket only).

python-engineio hands every outgoing packet to a per-connection queue, and a writer greenlet
wakes up, encodes and frames the packet, and sends it. For a broadcast to N members
that is N queue round trips, N greenlet switches, N timeouts armed and N identical frames built:
about half of the server's time in the bench's fan-out scenario (docs/performance.md).

Here a MESSAGE packet to an upgraded WebSocket whose writer is idle is framed once per broadcast
and written straight to the socket with a non-blocking send. Anything else takes python-engineio's
own path, so ordering holds:

- no writer is running (``webapp.server.connections`` starts one only while packets wait) and the
  queue is empty, else the packet is queued;
- the WebSocket's send lock is taken without waiting, else the packet is queued;
- if the kernel takes only part of the frame, a greenlet finishes it while still holding the
  send lock, so no other frame can come between (a slow reader never stalls the broadcaster);
- pings and other control packets go through the queue (or, if packets are held for the
  socket, after them: below).

``presence`` broadcasts are coalesced: those made to one room during one pass of the event loop
are written to each member together, one ``send`` of their frames (each still its own packet),
when the pass ends. A 1,000-member room that 50 people join at once took 50 writes per member
(issue 19: ~500,000 sends to fill it); now about one per member per pass. Presence events keep
their order among themselves, not with other events (docs/protocol.md).

Broadcasts are coalesced per socket too. The first broadcast of a pass of the event loop is
written at once; a later one in the same pass holds its packets on each writable socket
(``HELD``) until the pass ends, and what else that socket is sent in the pass -- other
broadcasts, acks, replies -- joins them in order; then one ``send`` writes them all. In a busy
room a member gets several messages in a pass, each a system call and a TCP segment of its own
before; in a quiet one nothing is held. A packet that cannot be framed
here (binary data), or finds the writer busy, goes to the queue with what is held, in order. An
ack (any packet sent to the one socket) does not wait for the pass to end: it is written at once
with what is held, so coalescing adds nothing to an answer's latency.
"""
from __future__ import annotations

import logging
import time

import eventlet
from engineio import packet as eio_packet
from engineio import socket as eio_socket
from socketio import manager as sio_manager
from socketio import packet as sio_packet

from webapp import metrics

log = logging.getLogger(__name__)

_FRAME = "_parley_frame"
COALESCED = frozenset({"presence"})  # events coalesced per room and pass of the event loop
DIRECT = "_parley_direct"  # an Engine.IO socket's Direct, while it has an idle WebSocket
HELD = "_parley_held"  # packets for this socket held until the pass of the event loop ends
WRITER_IDLE = "_parley_writer_idle"  # True: nothing is being written to that WebSocket now
# (both set by webapp.server.connections, which owns the WebSocket transport)


def install() -> None:
    """Patch python-engineio's Socket (idempotent); call once per process, eventlet mode only."""
    if getattr(eio_socket.Socket, "_parley_fanout", False):
        return
    queued_send = eio_socket.Socket.send

    def send(self, pkt):
        # A closed socket, or one this very call finds dead (its ping timed out: that closes it,
        # and its disconnect handler runs right here), takes nothing and raises nothing, as
        # python-engineio's own ``send`` returns for the latter: the broadcast that noticed must
        # go on to the other members (python-engineio would raise SocketIsClosedError for the
        # former).
        if self.closed or not self.check_ping_timeout():
            return
        held = self.__dict__.get(HELD)
        if held is not None:
            # An ack, a reply, a PING or a CLOSE: written now, after what this pass holds for
            # the socket and with it (an ack waits for no one else's events).
            held.append(pkt)
            write_held(self, time.time())
            return
        direct = self.__dict__.get(DIRECT)
        if (
            direct is None
            or pkt.packet_type != eio_packet.MESSAGE
            or not self.upgraded
            or not self.__dict__.get(WRITER_IDLE, False)
            or not self.queue.empty()
            or not direct.try_send(_frame(direct.ws, pkt))
        ):
            queued_send(self, pkt)
            check_queue(self)

    def check_queue(sock) -> None:
        queue = sock.queue
        if getattr(queue, "over", bool)():
            from webapp.server import connections  # (it imports this module)

            connections.cut_off(sock, f"{queue.bytes} bytes wait for a client that does not "
                                      "read them")

    def write_held(sock, now: float) -> int:
        """Write what is held for ``sock`` in one ``send``, or else queue it, in order.

        Answers how many packets that one ``send`` carried (0: none, or they were queued)."""
        state = sock.__dict__
        pkts = state.pop(HELD, None)
        if not pkts or sock.closed:
            return 0
        direct = state.get(DIRECT)
        if (
            direct is not None
            and state.get(WRITER_IDLE, False)
            and not sock.queue.queue
            and not (sock.last_ping and now - sock.last_ping > sock.server.ping_timeout)
            and not any(isinstance(p.data, bytes) for p in pkts)  # text frames, as the writer's
        ):
            frame = (_frame(direct.ws, pkts[0]) if len(pkts) == 1
                     else b"".join([_frame(direct.ws, p) for p in pkts]))
            if direct.try_send(frame):
                return len(pkts)
        for pkt in pkts:
            queued_send(sock, pkt)
        check_queue(sock)
        return 0

    def flush_held() -> None:
        """The pass of the event loop is over: write each socket's held packets."""
        global _flush_due
        socks, _holding[:] = _holding[:], []
        _flush_due = False
        now = time.time()
        writes = packets = 0
        for sock in socks:
            try:
                written = write_held(sock, now)
            except Exception:
                log.exception("writing to %s failed", sock.sid)
                continue
            if written:
                writes += 1
                packets += written
        metrics.flushed(writes, packets)

    global _flush_held
    _flush_held = flush_held
    eio_socket.Socket.send = send
    eio_socket.Socket._parley_fanout = True
    _install_manager_emit()


_holding: list = []  # the Engine.IO sockets with packets held in this pass
_flush_due = False  # a greenlet to flush them is on its way
_flush_held = None  # set by install()


def _hold(sock, state: dict, pkts: list) -> None:
    state[HELD] = list(pkts)
    _holding.append(sock)


def _pass_began() -> bool:
    """Whether a broadcast went out earlier in this pass of the loop; if not, from now on the
    pass's broadcasts are held, and flushed when it ends."""
    global _flush_due
    if _flush_due:
        return True
    _flush_due = True
    # A greenlet of its own, started when this pass of the loop is over (see _deliver's
    # presence: a send that finds a dead socket runs its disconnect handler there).
    eventlet.spawn_n(_flush_held)
    return False


def _install_manager_emit() -> None:
    """python-socketio's broadcast loop, minus three layers of calls per recipient.

    Same packets as ``Manager.emit`` builds (one encoding per broadcast); each recipient's
    Engine.IO socket is looked up directly and handed the packets (``send`` above). Broadcasts
    that expect a callback keep the original code.
    """
    original_emit = sio_manager.Manager.emit
    pending: dict[tuple, list] = {}  # (manager, namespace, room) -> packets of one pass

    def flush(key) -> None:
        manager, namespace, room = key
        try:
            _deliver(manager, namespace, room, [None], pending.pop(key))
        except Exception:
            log.exception("broadcasting to %s failed", room)

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None,
             **kwargs):
        if callback is not None:
            return original_emit(self, event, data, namespace, room=room, skip_sid=skip_sid,
                                 callback=callback, to=to, **kwargs)
        room = to or room
        if namespace not in self.rooms:
            return
        if isinstance(room, str) and not self.rooms[namespace].get(room):
            return  # no one here (with Redis, every process hears every room's events)
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        encoded = self.server.packet_class(
            sio_packet.EVENT, namespace=namespace, data=[event] + data).encode()
        if not isinstance(encoded, list):
            encoded = [encoded]
        eio_pkts = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in encoded]
        if event in COALESCED and skip == [None] and isinstance(room, str):
            key = (self, namespace, room)
            if key in pending:
                pending[key].extend(eio_pkts)
            else:
                pending[key] = eio_pkts
                # A greenlet of its own, started when this pass of the loop is over (not a bare
                # timer callback: that runs in the hub, where a send that finds a dead socket
                # and runs its disconnect handler could not wait for anything).
                eventlet.spawn_n(flush, key)
            return
        _deliver(self, namespace, room, skip, eio_pkts)

    def _deliver(self, namespace, room, skip, eio_pkts) -> None:
        eio = self.server.eio
        sockets = eio.sockets
        # The common case -- one text packet to upgraded, idle WebSockets -- is decided inline:
        # at 50,000 deliveries/s every call layer and attribute lookup per recipient shows.
        # Text packets share one frame, however many (coalesced presence: several).
        texts = eio_pkts if all(isinstance(p.data, str) for p in eio_pkts) else None
        # The pass's first broadcast is written at once (a quiet room pays nothing for the
        # coalescing); the ones after it in the same pass are held and written together.
        hold, frame = _pass_began(), None
        now, ping_timeout = time.time(), eio.ping_timeout
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = sockets.get(eio_sid)
            if sock is None or sock.closed:
                continue
            state = sock.__dict__
            held = state.get(HELD)
            if held is not None:
                held.extend(eio_pkts)
                continue
            if (
                texts is not None
                and state.get(DIRECT) is not None
                and state.get(WRITER_IDLE, False)
                and sock.upgraded
                and not sock.queue.queue
                and not (sock.last_ping and now - sock.last_ping > ping_timeout)
            ):
                if hold:
                    _hold(sock, state, texts)
                    continue
                if frame is None:
                    frame = b"".join([_frame(state[DIRECT].ws, pkt) for pkt in texts])
                if state[DIRECT].try_send(frame):
                    continue
            try:
                for pkt in eio_pkts:
                    sock.send(pkt)
            except Exception:
                log.exception("broadcasting to %s failed", eio_sid)

    sio_manager.Manager.emit = emit


def _frame(ws, pkt) -> bytes:
    """The WebSocket frame for ``pkt``: built once, then shared by every recipient."""
    frame = pkt.__dict__.get(_FRAME)
    if frame is None:
        frame = ws._pack_message(pkt.encode(), masked=False)
        setattr(pkt, _FRAME, frame)
    return frame


class Direct:
    """One WebSocket's way around python-engineio's queue: its socket's own ``send`` and the
    eventlet WebSocket's send lock, looked up once per connection rather than per delivery."""

    __slots__ = ("lock", "send", "ws")

    def __init__(self, ws) -> None:
        self.ws = ws
        self.lock = ws._sendlock
        self.send = ws.socket.fd.send  # the OS socket's, non-blocking: no greenlet switch

    def try_send(self, frame: bytes) -> bool:
        """Write ``frame`` now if the socket is free; False means "queue it instead".

        Greenlets switch only where they wait, and a non-blocking send does not: nobody can
        start a frame between the check of the send lock and the write, so a whole write needs
        no lock.
        """
        lock = self.lock
        if lock.counter <= 0:  # someone is in the middle of a frame
            return False
        try:
            sent = self.send(frame)
        except BlockingIOError:
            return False
        except OSError:
            return True  # the connection is gone; its reader will notice and clean up
        if sent < len(frame):
            lock.acquire()  # free (checked above, no switch since): holds off other frames
            eventlet.spawn_n(_finish, self.ws, frame[sent:], lock)
        return True


def _finish(ws, rest: bytes, lock) -> None:
    try:
        ws.socket.sendall(rest)
    except OSError:
        pass
    finally:
        lock.release()
