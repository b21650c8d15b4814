"""What a server process does as one of several: keep its heartbeat, reap dead processes' users,
and leave gracefully on SIGTERM.

Only a serving process runs these (``wsgi.py``), never the CLI or the tests' in-process apps.
"""
from __future__ import annotations

import json
import logging
import os
import select
import signal
import time
from contextlib import contextmanager

import redis
from flask import Flask, appcontext_popped, appcontext_pushed, current_app

from webapp import gateway
from webapp.chat import broadcast, moderation
from webapp.extensions import presence, socketio
from webapp.redisguard import client_options

log = logging.getLogger(__name__)

# Moderation across processes: each process acts on its own connections (close, kick).
CLOSE_CHANNEL = "parley:moderation"


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
def duties(app: Flask):
    """Run the presence heartbeat while the block serves; on SIGTERM leave gracefully."""
    # Three beats per TTL: one late beat (a busy process, a Redis blip) does not drop anybody.
    presence.start(socketio, _announce_leave, interval=app.config["PRESENCE_TTL"] / 3)
    if app.config["REDIS_URL"]:
        socketio.start_background_task(_listen_for_closes, app, app.config["REDIS_URL"])
        # Subscribe to the message queue now: python-socketio would wait for the first Socket.IO
        # client, and a process serving only plain WebSocket clients (/ws) would miss events.
        gateway.start_client_manager()
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


def close_room_everywhere(room: str) -> None:
    """Disconnect every connection in Socket.IO room ``room``, on every process.

    Only the process holding a connection can close it, and Socket.IO's message queue has no
    "disconnect a room" message, so the request goes out on a channel of our own.
    """
    _everywhere({"op": "close", "room": room})


def ban_everywhere(room: str, ban: dict | None) -> None:
    """Close the connections in identity room ``room`` on every process, each process banning
    their addresses first as ``ban`` says (``moderation.ban_addresses``; None: no address ban).

    Only the process holding a connection knows its address, hence the order does it there.
    """
    _everywhere({"op": "ban", "room": room, "ban": ban})


def kick_everywhere(room: str, key: str, name: str, by: str, ban: dict | None = None) -> None:
    """Take the connections of identity ``key`` (user ``name``) out of ``room``, everywhere;
    with ``ban``, their addresses are kept out of it too (a kick from a public room)."""
    _everywhere({"op": "kick", "room": room, "key": key, "name": name, "by": by, "ban": ban})


def _everywhere(order: dict) -> None:
    url = current_app.config["REDIS_URL"]
    if url:
        try:
            options = client_options(current_app.config["REDIS_TIMEOUT"])
            redis.Redis.from_url(url, **options).publish(CLOSE_CHANNEL, json.dumps(order))
            return
        except redis.RedisError as exc:  # Redis down: at least this process's connections
            log.warning("moderation order not shared, Redis failed: %s", exc)
    _carry_out(order)


def _carry_out(order: dict) -> None:
    """Act on this process's own connections."""
    op = order.get("op")
    if op in ("ban", "kick") and order.get("ban"):
        _ban_local_addresses(order["room"] if op == "ban" else order["key"], order["ban"])
    if op in ("close", "ban"):
        close_local_room(order["room"])
    elif op == "kick":
        _kick_local(order["room"], order["key"], order["name"], order["by"])


def _ban_local_addresses(room: str, ban: dict) -> None:
    """Ban the addresses of this process's connections in identity room ``room``, before they
    are closed or kicked (so that reconnecting at once is refused already)."""
    addresses = set()
    for _, eio_sid in list(socketio.server.manager.get_participants("/", room)):
        addresses.add((socketio.server.environ.get(eio_sid) or {}).get("REMOTE_ADDR"))
    hub = getattr(socketio.server.manager, "gateway", None)  # plain WebSocket clients too
    for conn in list(hub.rooms.get(room, ())) if hub is not None else ():
        addresses.add(conn.member.address if conn.member is not None else None)
    addresses.discard(None)
    if not addresses:
        return
    try:
        moderation.ban_addresses(addresses, ban)
    except Exception:  # the database failed: still close or kick them
        log.exception("banning the addresses of %s failed", room)


def close_local_room(room: str) -> None:
    for sid, _ in list(socketio.server.manager.get_participants("/", room)):
        socketio.server.disconnect(sid, namespace="/", ignore_queue=True)
    hub = getattr(socketio.server.manager, "gateway", None)  # plain WebSocket clients too
    if hub is not None:
        hub.close_room(room, "revoked: the server closed this connection.")


def _kick_local(room: str, key: str, name: str, by: str) -> None:
    left = False
    for sid, _ in list(socketio.server.manager.get_participants("/", key)):
        socketio.server.leave_room(sid, room, namespace="/")
        if presence.remove(room, name, sid):
            left = True
            broadcast.kicked(room, by, sid)
    hub = getattr(socketio.server.manager, "gateway", None)  # plain WebSocket clients too
    for conn in list(hub.rooms.get(key, ())) if hub is not None else ():
        conn.forget_room(room)
        if presence.remove(room, name, conn.sid):
            left = True
            broadcast.kicked(room, by, conn.sid)
    if left:
        broadcast.left(room, name)


def _listen_for_closes(app: Flask, url: str) -> None:
    """Subscribe to moderation orders; after a Redis failure, subscribe again."""
    while True:
        try:
            pubsub = redis.Redis.from_url(
                url, decode_responses=True, socket_connect_timeout=2, health_check_interval=30
            ).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CLOSE_CHANNEL)
            for message in pubsub.listen():
                try:
                    with app.app_context():  # a ban writes its addresses' rows
                        _carry_out(json.loads(message["data"]))
                except (ValueError, KeyError, TypeError):
                    log.warning("ignoring a malformed moderation order")
        except redis.RedisError as exc:
            log.warning("moderation channel lost, subscribing again: %s", exc)
            socketio.sleep(1)


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
    from webapp.server.serving import stop_accepting

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


def _announce_leave(room: str, user: str) -> None:
    """Tell a room that ``user`` left with the process that served them (it cannot say so)."""
    broadcast.left(room, user)
