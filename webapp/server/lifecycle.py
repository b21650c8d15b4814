"""How a serving process runs and ends: it starts the chat's process duties (``start``: the
presence heartbeat, the moderation channel's listener; webapp/chat/cluster.py) and on SIGTERM
leaves gracefully, losing no ack.

Only a serving process runs these (``wsgi.py``), never the CLI or the tests' in-process apps.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import time
from collections.abc import Callable
from contextlib import contextmanager

from flask import Flask, appcontext_popped, appcontext_pushed

from webapp.extensions import presence, socketio
from webapp.server.serving import stop_accepting

log = logging.getLogger(__name__)

# On SIGTERM, how long events already being handled may take to finish (their acks go out), and
# how long closing the connections may take; systemd's and platforms' own limits are 10-30 s.
# (A long-polling client that is not polling right now never takes its close: don't wait long.)
DRAIN_SECONDS = 5.0
CLOSE_SECONDS = 1.5


class InFlight:
    """Counts the events (and HTTP requests) being handled: each runs in an app context."""

    def __init__(self, app: Flask) -> None:
        self.count = 0
        appcontext_pushed.connect(self._pushed, app, weak=False)
        appcontext_popped.connect(self._popped, app, weak=False)

    def _pushed(self, *_, **__) -> None:
        self.count += 1

    def _popped(self, *_, **__) -> None:
        self.count -= 1


@contextmanager
def duties(app: Flask, start: Callable[[Flask], None]):
    """Run the process's duties (``start(app)`` starts them) while the block serves; on SIGTERM
    leave gracefully."""
    start(app)
    # A Python signal handler runs inside whichever greenlet is current (eventlet's hub, often),
    # where it may neither block nor switch, and a task it spawns may wait until the hub's next
    # timer. So Python itself writes the signal's number to a pipe, and a task waiting on the
    # pipe wakes at once and leaves.
    wake_up, poke = os.pipe()
    os.set_blocking(poke, False)
    socketio.start_background_task(_leave_on_signal, app, InFlight(app), wake_up)
    previous_fd = signal.set_wakeup_fd(poke)
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.set_wakeup_fd(previous_fd)
        presence.stop()


def _leave_on_signal(app: Flask, in_flight: InFlight, wake_up: int) -> None:
    """Wait for SIGTERM's number on the wake-up pipe (other signals write theirs too)."""
    while signal.SIGTERM not in select_read(wake_up):
        pass
    _leave(app, in_flight)


def select_read(fd: int) -> bytes:
    select.select([fd], [], [])  # cooperative under eventlet
    return os.read(fd, 64)


def _leave(app: Flask, in_flight: InFlight) -> None:
    """SIGTERM (systemd, a platform's shutdown, a deploy): leave without losing an ack.

    1. Stop accepting connections: the load balancer sends new ones to the other processes.
    2. Let the events being handled finish, so their acks go out (bounded).
    3. Close every connection at the Engine.IO level. Clients see a transport close, which
       Socket.IO clients answer by reconnecting (a namespace disconnect would tell them to stay
       away); each one's disconnect handler frees its presence and guest name right away.
    4. Drop our heartbeat so the other processes reap whatever is left now, not after the TTL.

    A message whose ack was lost anyway is stored at most once: the client retries it with the
    same ``client_id`` (docs/delivery.md).
    """
    log.info("SIGTERM: draining")
    stop_accepting(app)
    deadline = time.monotonic() + DRAIN_SECONDS
    while in_flight.count > 0 and time.monotonic() < deadline:
        socketio.sleep(0.01)
    _close_connections(CLOSE_SECONDS)
    hub = getattr(socketio.server.manager, "gateway", None)
    if hub is not None:
        hub.close_all()  # plain WebSocket clients: 1001 "going away", they reconnect elsewhere
    presence.stop()
    log.info("SIGTERM: drained, exiting")
    logging.shutdown()
    os._exit(0)


def _close_connections(timeout: float) -> None:
    """Close every Engine.IO connection of this process, all at once, for at most ``timeout``."""
    eio = socketio.server.eio
    pending = set(eio.sockets)

    def close(sid: str) -> None:
        try:
            eio.disconnect(sid)  # sends CLOSE, waits until the transport has flushed it
        except Exception:  # a connection that is already gone
            log.debug("closing %s failed", sid, exc_info=True)
        pending.discard(sid)

    for sid in list(pending):
        socketio.start_background_task(close, sid)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        socketio.sleep(0.01)
