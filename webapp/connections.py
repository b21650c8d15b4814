"""What an idle Socket.IO connection costs the server (eventlet mode): as little as we can make it.

python-engineio gives each connection a greenlet whose only job is to sleep ``ping_interval``
and then queue a PING: ~7.6 KiB of saved stack and frames per connection, for a timer. Here the
hub's own timer list holds the wait (a Timer object, ~0.3 KiB), and a greenlet lives only for
the moment of queueing the PING (which may find the client gone and close it: that takes a
greenlet, the hub itself must never block).
"""
from __future__ import annotations

import time

import eventlet
from eventlet import hubs
from engineio import packet as eio_packet
from engineio import socket as eio_socket


def install() -> None:
    """Patch python-engineio's Socket (idempotent); eventlet mode only."""
    if getattr(eio_socket.Socket, "_parley_ping_timer", False):
        return

    def schedule_ping(self):
        # as python-engineio's: a new wait starts only once the last PING was answered
        if self.last_ping:
            self.last_ping = None
            hubs.get_hub().schedule_call_global(
                self.server.ping_interval, eventlet.spawn_n, _ping, self)

    eio_socket.Socket.schedule_ping = schedule_ping
    eio_socket.Socket._parley_ping_timer = True


def _ping(sock) -> None:
    if not sock.closing and not sock.closed:
        sock.last_ping = time.time()
        sock.send(eio_packet.Packet(eio_packet.PING))
