"""Orders that must reach a person's connections on every process: close (a revoked token, a
logout, a ban), kick out of a room, ban their addresses. Only the process holding a connection can
act on it, and Socket.IO's message queue has no such orders, so they travel on a Redis channel of
our own (``CLOSE_CHANNEL``; without Redis, this process acts alone).

Connections are addressed by their identity rooms (``identity_rooms``): the person, the token or
the login they connected with.
"""
from __future__ import annotations

import json
import logging

import redis
from flask import Flask, current_app

from webapp import audit
from webapp.chat import broadcast, changes, files, moderation, service
from webapp.data import retention
from webapp.extensions import presence, socketio
from webapp.integrations import outgoing
from webapp.notify import outbox
from webapp.redisguard import client_options
from webapp.server.protocol import start_client_manager

log = logging.getLogger(__name__)

# Moderation across processes: each process acts on its own connections (close, kick).
CLOSE_CHANNEL = "parley:moderation"


def identity_rooms(member: service.Member) -> list[str]:
    """Socket.IO rooms that address a person or a token, for moderation and revocation."""
    rooms = [member.key]
    if member.token_id:
        rooms.append(f"token:{member.token_id}")
    elif member.user_id:  # identified by the login cookie: logging out closes these, not bots'
        rooms.append(f"login:{member.user_id}")
    return rooms


def disconnect_token(token_id: int) -> None:
    close_room_everywhere(f"token:{token_id}")


def disconnect_logins(user_id: int) -> None:
    """Close a user's connections made with a login (session) cookie; API tokens' stay."""
    close_room_everywhere(f"login:{user_id}")


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


def forget_room_everywhere(room: str) -> None:
    """A room was deleted: every process forgets the id it remembered for the name (a later
    join of the name makes a new room)."""
    _everywhere({"op": "forget", "room": room})


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
    elif op == "forget":
        current_app.extensions.get("parley.rooms", {}).pop(order["room"], None)


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
        for channel in broadcast.channels(room):  # the room and its presence sub-rooms
            socketio.server.leave_room(sid, channel, namespace="/")
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


def listen(app: Flask, url: str) -> None:
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




def start(app: Flask) -> None:
    """A serving process's part in the cluster (webapp/server/lifecycle.py starts it): the
    presence heartbeat, reaping the users of processes that died, and with Redis the moderation
    channel's listener and the message queue's subscription."""
    # Three beats per TTL: one late beat (a busy process, a Redis blip) does not drop anybody.
    presence.start(socketio, broadcast.left, interval=app.config["PRESENCE_TTL"] / 3)
    socketio.start_background_task(_compact_now_and_then, app)
    outbox.start(app)  # notifications: push and e-mail digests (webapp/notify/outbox.py)
    socketio.start_background_task(outgoing.run, app)  # webhooks: queue and send deliveries
    if app.config["REDIS_URL"]:
        socketio.start_background_task(listen, app, app.config["REDIS_URL"])
        # Subscribe to the message queue now: python-socketio would wait for the first Socket.IO
        # client, and a process serving only plain WebSocket clients (/ws) would miss events.
        start_client_manager(socketio.server)


COMPACT_EVERY = 3600.0  # seconds between removals of old tombstones from the change logs


def _compact_now_and_then(app: Flask) -> None:
    """Hourly: remove deleted messages' tombstones past SYNC_RETENTION_DAYS (changes.compact),
    uploads never sent (files.expire), messages past their retention (retention.expire) and
    audit rows past AUDIT_RETENTION_DAYS (audit.purge);
    several processes doing it at once remove each row once."""
    while True:
        socketio.sleep(COMPACT_EVERY)
        with app.app_context():
            try:
                removed = changes.compact()
                expired = files.expire()
                retained = retention.expire()
                audited = audit.purge()
            except Exception:  # a database blip: try again next hour
                log.exception("compacting the change logs, expiring uploads or purging the audit log failed")
                continue
        if retained:
            log.info("retention: removed %d messages past their rooms' retention", retained)
        if audited:
            log.info("audit log: removed %d rows older than %d days", audited,
                     app.config["AUDIT_RETENTION_DAYS"])
        if expired:
            log.info("files: removed %d uploads never sent within %s hours", expired,
                     app.config["FILE_ATTACH_HOURS"])
        if removed:
            log.info("change logs: removed %d tombstones older than %d days", removed,
                     app.config["SYNC_RETENTION_DAYS"])
