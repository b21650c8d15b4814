"""What a server process does as one of several: keep its heartbeat, reap dead processes' users.

Only a serving process runs these (``wsgi.py``), never the CLI or the tests' in-process apps.
"""
from __future__ import annotations

import logging
import os
import signal
from contextlib import contextmanager

import redis
from flask import Flask, current_app

from webapp.chat import service
from webapp.extensions import presence, socketio

log = logging.getLogger(__name__)

# Moderation across processes: each process closes its own connections in the named room.
CLOSE_CHANNEL = "parley:close-room"


@contextmanager
def duties(app: Flask):
    """Run the presence heartbeat while the block serves; on SIGTERM leave the cluster first."""
    # Three beats per TTL: one late beat (a busy process, a Redis blip) does not drop anybody.
    presence.start(socketio, _announce_leave, interval=app.config["PRESENCE_TTL"] / 3)
    if app.config["REDIS_URL"]:
        socketio.start_background_task(_listen_for_closes, app.config["REDIS_URL"])
    # A signal handler runs inside whichever greenlet is current, so it only schedules the exit.
    previous = signal.signal(signal.SIGTERM, lambda *_: socketio.start_background_task(_leave))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        presence.stop()


def close_room_everywhere(room: str) -> None:
    """Disconnect every connection in Socket.IO room ``room``, on every process.

    Only the process holding a connection can close it, and Socket.IO's message queue has no
    "disconnect a room" message, so the request goes out on a channel of our own.
    """
    url = current_app.config["REDIS_URL"]
    if url:
        redis.Redis.from_url(url, socket_connect_timeout=2).publish(CLOSE_CHANNEL, room)
    else:
        close_local_room(room)


def close_local_room(room: str) -> None:
    for sid, _ in list(socketio.server.manager.get_participants("/", room)):
        socketio.server.disconnect(sid, namespace="/", ignore_queue=True)


def _listen_for_closes(url: str) -> None:
    """Subscribe to close requests; after a Redis failure, subscribe again."""
    while True:
        try:
            pubsub = redis.Redis.from_url(
                url, decode_responses=True, socket_connect_timeout=2, health_check_interval=30
            ).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(CLOSE_CHANNEL)
            for message in pubsub.listen():
                close_local_room(message["data"])
        except redis.RedisError as exc:
            log.warning("moderation channel lost, subscribing again: %s", exc)
            socketio.sleep(1)


def _leave() -> None:
    """SIGTERM (systemd, a platform's shutdown): drop our heartbeat so the others free our
    users' names and announce their leaving now, not after the TTL; then exit."""
    log.info("SIGTERM: leaving the cluster")
    presence.stop()
    os._exit(0)  # the clients reconnect (through the load balancer) to another process


def _announce_leave(room: str, user: str) -> None:
    """Tell a room that ``user`` left with the process that served them (it cannot say so)."""
    member = service.Member(sid="", name=user)
    socketio.emit("presence", service.presence_event(room, member, "leave"), to=room)
