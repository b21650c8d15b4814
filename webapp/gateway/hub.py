"""Fan-out to plain WebSocket connections from Socket.IO's own emits, in this process and others.

Every room event goes through ``socketio.emit(..., to=room)``, which lands in python-socketio's
client manager, and, with Redis, in the manager of every process (its listener calls the base
``emit`` locally). Hooking that one method therefore delivers each event to both kinds of client
everywhere, whoever sent it: Socket.IO handlers, the gateway, the CLI's external emitter.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import socketio

from webapp import metrics
from webapp.gateway import protocol
from webapp.server.messagequeue import ResilientRedisManager

if TYPE_CHECKING:
    from webapp.gateway.connection import Connection

log = logging.getLogger(__name__)


class Hub:
    """This process's gateway connections, by sid and by room (Socket.IO rooms by another name)."""

    def __init__(self) -> None:
        self.connections: dict[str, Connection] = {}
        self.rooms: dict[str, set[Connection]] = defaultdict(set)
        self._rooms_of: dict[str, set[str]] = defaultdict(set)
        # With Redis, the manager subscribes to a room's channel while a local connection of
        # either kind is in the room (webapp/server/messagequeue.py): told of the gateway's.
        self.queue: ResilientRedisManager | None = None

    def add(self, conn: Connection, rooms: Iterable[str]) -> None:
        """Register an authenticated connection; it also answers to its sid, like a Socket.IO one."""
        self.connections[conn.sid] = conn
        for room in (conn.sid, *rooms):
            self.enter(conn, room)

    def remove(self, conn: Connection) -> None:
        self.connections.pop(conn.sid, None)
        for room in self._rooms_of.pop(conn.sid, set()):
            self._discard(conn, room)

    def enter(self, conn: Connection, room: str) -> None:
        first = self.queue is not None and not self.queue.has_local(room)
        self.rooms[room].add(conn)
        self._rooms_of[conn.sid].add(room)
        if first:
            self.queue.interest(room, True, wait=room != conn.sid)

    def leave(self, conn: Connection, room: str) -> None:
        self._rooms_of.get(conn.sid, set()).discard(room)
        self._discard(conn, room)

    def _discard(self, conn: Connection, room: str) -> None:
        members = self.rooms.get(room)
        if members is not None:
            members.discard(conn)
            if not members:
                del self.rooms[room]
                if self.queue is not None and not self.queue.has_local(room):
                    self.queue.interest(room, False)

    def deliver(self, event: str, data, room, skip_sid=None) -> int:
        """Send one event to the connections in ``room`` (a name, a list of names, or None: all);
        answers how many it was sent to."""
        if not self.connections:
            return 0
        if room is None:
            targets = set(self.connections.values())
        elif isinstance(room, str):
            targets = self.rooms.get(room, ())
        else:
            targets = set().union(*(self.rooms.get(r, ()) for r in room))
        if not targets:
            return 0
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        # Encoded and framed once for every recipient (a room of thousands costs one dumps).
        frame = protocol.text_frame(protocol.event(event, data))
        sent = 0
        for conn in list(targets):
            if conn.sid not in skip:
                try:
                    conn.push(frame)
                    sent += 1
                except Exception:
                    log.exception("delivering to gateway connection %s failed", conn.sid)
        return sent

    def close_room(self, room: str, reason: str) -> None:
        """Close every connection in ``room`` (moderation: a revoked token, a banned user)."""
        for conn in list(self.rooms.get(room, ())):
            conn.close(protocol.POLICY, reason)

    def close_all(self, reason: str = "server shutting down") -> None:
        """Close every connection with 1001 (going away): a graceful shutdown."""
        for conn in list(self.connections.values()):
            conn.close(protocol.GOING_AWAY, reason)


class GatewayDelivery(socketio.Manager):
    """A client manager whose local ``emit`` also reaches the gateway's connections.

    Sits just above ``Manager`` in the MRO, so pub/sub managers call it both for events emitted
    here and for those their listener receives from other processes.
    """

    gateway: Hub | None = None

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None,
             **kwargs):
        room = to or room
        sent = 0
        if self.gateway is not None and (namespace or "/") == "/":
            try:
                sent = self.gateway.deliver(event, data, room, skip_sid)
            except Exception:  # one broken connection must not cost Socket.IO clients the event
                log.exception("delivering %r to gateway connections failed", event)
        metrics.delivered(event, sent + self._recipients(namespace or "/", room, skip_sid))
        return super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                            callback=callback, **kwargs)


    def _recipients(self, namespace: str, room, skip_sid) -> int:
        """How many Socket.IO connections an emit reaches (room sizes: no loop over members)."""
        rooms = self.rooms.get(namespace)
        if not rooms:
            return 0
        names = [room] if room is None or isinstance(room, str) else room
        count = sum(len(rooms.get(name, ())) for name in names)
        return max(0, count - (len(skip_sid) if isinstance(skip_sid, list) else skip_sid is not None))


class GatewayManager(GatewayDelivery):
    """One process: python-socketio's default manager, plus the gateway."""


class GatewayRedisManager(ResilientRedisManager, GatewayDelivery):
    """Several processes: the Redis message queue, plus the gateway on every process."""

    def has_local(self, room: str) -> bool:
        return super().has_local(room) or (self.gateway is not None and room in self.gateway.rooms)


def client_manager(hub: Hub, redis_url: str | None, timeout: float = 0.5) -> socketio.Manager:
    """The client manager for ``SocketIO.init_app``, delivering to ``hub`` as well."""
    if redis_url:
        # Flask-SocketIO's default channel, where its external emitter (webapp/chat/external.py,
        # ``SocketIO(message_queue=REDIS_URL)``) publishes.
        manager = GatewayRedisManager(redis_url, channel="flask-socketio", timeout=timeout)
        hub.queue = manager
    else:
        manager = GatewayManager()
    manager.gateway = hub
    return manager
