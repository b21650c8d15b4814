"""One plain WebSocket connection: who it is, what it asks for, what it is sent, whether it lives.

The reader (the server's greenlet for the request) handles one frame at a time, in order, through
the same service functions as the Socket.IO handlers. A writer task owns the socket's sending
side: it drains this connection's queue (replies and broadcasts, already framed), pings, and
closes connections that stop answering or never authenticate. Nothing here knows the async mode;
the transport (``webapp.server.websocket``) does.
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

from flask import Flask
from flask_login import current_user

from webapp import metrics
from webapp.chat import broadcast, ops, service
from webapp.chat.cluster import identity_rooms
from webapp.errors import (
    AppError,
    Flooding,
    InvalidPayload,
    NotInRoom,
    error_ack,
    socket_error_handler,
)
from webapp.extensions import socketio
from webapp.gateway import protocol
from webapp.gateway.hub import Hub

log = logging.getLogger(__name__)

# Seconds a client gets to answer our close frame before the socket is simply cut.
CLOSE_GRACE = 2.0
STOP = object()


class Transport(Protocol):
    """What a connection needs from a WebSocket implementation."""

    last_heard: float  # time.monotonic() of the last frame of any kind from the client

    def receive(self) -> str | bytes | None: ...  # the next message; None once closed
    def send_frame(self, frame: bytes) -> None: ...  # from protocol.text_frame; OSError if gone
    def try_send(self, frame: bytes) -> bool: ...  # write now without blocking, or answer False
    def ping(self) -> None: ...
    def send_close(self, code: int, reason: str) -> None: ...
    def abort(self) -> None: ...  # cut the TCP connection now


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


class Connection:
    """A plain WebSocket client, speaking the same operations as a Socket.IO one."""

    _declared: dict = {}  # noqa: RUF012 - ``?protocol=`` of the URL, if given (replaced, never changed)

    def __init__(self, app: Flask, hub: Hub, transport: Transport, environ: dict) -> None:
        self.app, self.hub, self.transport, self.environ = app, hub, transport, environ
        self.sid = f"ws:{uuid.uuid4().hex}"  # a presence key of its own, never a Socket.IO sid
        self.member: service.Member | None = None
        self.rooms: list[str] = []  # joined rooms, latest last: plain text frames go to rooms[-1]
        self.closing = False
        eio = socketio.server.eio
        self._queue = eio.create_queue()
        self._empty = eio.get_queue_empty_exception()
        self._done = eio.create_event()
        self.opened = time.monotonic()
        self._next_ping = self.opened + app.config["WS_PING_INTERVAL"]
        self._ping_sent = 0.0
        self._writer_idle = False  # waiting for work: a frame may then skip the queue

    # -- reading -----------------------------------------------------------------------------
    def run(self) -> None:
        """Serve the connection until either side closes it."""
        socketio.start_background_task(self._write)
        try:
            self._open()
            while (frame := self.transport.receive()) is not None:
                if not self.closing:  # after our close frame, only the client's reply matters
                    self._handle(frame)
        finally:
            self._done.set()
            self._cleanup()

    def _open(self) -> None:
        """Admit a client that identified itself in the request; others must send ``auth`` first."""
        query = parse_qs(self.environ.get("QUERY_STRING", ""))
        auth = {key: query[key][0] for key in ("token", "name") if key in query}
        if "protocol" in query:  # kept for an ``auth`` frame that does not repeat it
            self._declared = {"protocol": query["protocol"][0]}
        bearer = self.environ.get("HTTP_AUTHORIZATION", "")
        if bearer.startswith("Bearer ") and "token" not in auth:
            auth["token"] = bearer[len("Bearer "):].strip()
        with self.app.request_context(self.environ):
            # A browser on the page's own origin sends its login cookie, as with Socket.IO.
            user = current_user._get_current_object() if current_user.is_authenticated else None
            if user is None and not auth:
                return
            self._admit({**self._declared, **auth}, user, ref=None, frame=False)
        if self.member is not None and "room" in query:
            self._answer(protocol.Request("join", {"room": query["room"][0]}))

    def _admit(self, auth: Any, user, ref, frame: bool = True) -> None:
        """Identify the client; an ``auth`` frame (``frame``) is answered, with or without a ref."""
        address = self.environ.get("REMOTE_ADDR")
        try:
            member = service.connect(auth, self.sid, user=user, address=address)
        except Exception as exc:  # noqa: BLE001 - answered in the one error shape, then closed
            self._refuse(exc, ref)
            return
        self.member = member
        self.hub.add(self, identity_rooms(member))
        metrics.connected("ws", 1)
        who = {"user": member.name, "guest": member.guest}
        if frame:
            self.send(protocol.reply(ref, {"ok": True, **who}))
        self.send(protocol.event("welcome", who))

    def _refuse(self, exc: Exception, ref) -> None:
        error = exc if isinstance(exc, AppError) else None
        answer = socket_error_handler(exc)
        self.send(protocol.reply(ref, answer))
        if error is None:
            self.close(protocol.POLICY, "internal: the server failed to admit you.")
        else:
            self.close(protocol.close_code(error), protocol.close_reason(error))

    def _handle(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            self.close(protocol.UNSUPPORTED_DATA, "Binary frames are not accepted: send JSON text.")
            return
        try:
            request = protocol.parse(frame)
        except protocol.Rejected as exc:
            self.send(protocol.reply(exc.ref, error_ack(exc.error)))
            return
        except AppError as exc:
            self.send(protocol.reply(None, error_ack(exc)))
            return
        if self.member is None:
            if request.op == "auth":
                auth = request.data
                if isinstance(auth, dict):
                    auth = {**self._declared, **auth}
                with self.app.app_context():
                    self._admit(auth, None, request.ref)
            else:
                self._refuse(AppError(
                    'Authenticate first: {"op": "auth", "token": "..."} or {"op": "auth", '
                    '"name": "..."}, or connect to /ws?token=... or /ws?name=...',
                    code="auth_required", status=401), request.ref)
            return
        self._answer(request)

    def _answer(self, request: protocol.Request) -> None:
        """Run one operation and send its reply; a flood is answered, then closed."""
        try:
            with self.app.app_context():
                answer = self._run(request.op, request.data)
        except Exception as exc:  # noqa: BLE001 - the same handler as Socket.IO's acks
            answer = socket_error_handler(exc)
            if isinstance(exc, Flooding):
                self.send(protocol.reply(request.ref, answer))
                self.close(protocol.POLICY, protocol.close_reason(exc))
                return
        self.send(protocol.reply(request.ref, answer))

    def _run(self, op: str, data: dict) -> dict:
        """An operation of webapp/chat/ops.py, as on Socket.IO; two more are the gateway's own."""
        if op == "auth":
            raise InvalidPayload(f"Already authenticated as '{self.member.name}'.")
        if op == protocol.TEXT:  # a plain text frame: a message to the room joined last
            if not self.rooms:
                raise NotInRoom('Join a room before sending text: {"op": "join", "room": '
                                '"general"}, or connect to /ws?room=general.')
            op, data = "message", {"room": self.rooms[-1], "text": data["text"]}
        return metrics.run(op, ops.OPS[op], self.member, data, self)

    # -- what an operation needs of its connection (ops.Conn) ----------------------------------
    def subscribe(self, room: str) -> None:
        self.hub.enter(self, room)
        if ":" not in room:  # a room, not one of its presence sub-rooms (broadcast.channels)
            self.rooms = [r for r in self.rooms if r != room] + [room]

    def unsubscribe(self, room: str) -> None:
        self.hub.leave(self, room)
        self.rooms = [r for r in self.rooms if r != room]

    def forget_room(self, room: str) -> None:
        """Stop receiving ``room``'s events (a leave, or a kick from the room's owner)."""
        for channel in broadcast.channels(room):
            self.unsubscribe(channel)

    # -- writing -----------------------------------------------------------------------------
    def send(self, text: str) -> None:
        """Queue one reply or event for this connection."""
        self.push(protocol.text_frame(text))

    def push(self, frame: bytes) -> None:
        """Queue an already framed message (broadcasts are framed once for all recipients)."""
        if self.closing:
            return
        # Bytes waiting for a client that does not read (MAX_QUEUED_BYTES, as for Socket.IO):
        # past the bound it is cut off rather than allowed to hold every broadcast's memory.
        if getattr(self._queue, "over", bool)():
            log.warning("gateway %s (%s): %d bytes wait for a client that does not read them; "
                        "cutting it off", self.sid, self.member.name if self.member else "-",
                        self._queue.bytes)
            self.closing = True
            self._queue.drop_all()
            self.transport.abort()
            self._queue.put(STOP)
            return
        if self._writer_idle and self._queue.empty() and self.transport.try_send(frame):
            return  # the common case: no queue round trip, no writer wake-up (see fanout.py)
        self._queue.put(frame)

    def close(self, code: int, reason: str) -> None:
        """Close after what is already queued; the client learns why from the close frame."""
        if not self.closing:
            self.closing = True
            self._queue.put(Close(code, reason))

    def _write(self) -> None:
        try:
            while True:
                wait = self._keepalive(time.monotonic())
                self._writer_idle = True
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else None
                except self._empty:
                    item = None
                finally:
                    self._writer_idle = False
                if item is STOP:
                    return
                if isinstance(item, Close):
                    self._finish(item)
                    return
                if item is not None:
                    self.transport.send_frame(item)
        except OSError:  # the client is gone; the reader sees it too and cleans up
            self.transport.abort()
        except Exception:
            log.exception("gateway writer failed")
            self.transport.abort()

    def _keepalive(self, now: float) -> float:
        """Ping on schedule; close the silent and the anonymous. Answers seconds until next due."""
        config = self.app.config
        auth_deadline = self.opened + config["WS_AUTH_TIMEOUT"]
        if self.member is None and not self.closing and now >= auth_deadline:
            self.close(protocol.POLICY, "auth_timeout: no credentials in time.")
            return 0
        awaiting = self._ping_sent and self.transport.last_heard < self._ping_sent
        pong_deadline = self._ping_sent + config["WS_PING_TIMEOUT"]
        if awaiting and not self.closing and now >= pong_deadline:
            self.close(protocol.GOING_AWAY, "ping timeout: no answer to pings.")
            return 0
        if now >= self._next_ping:
            self.transport.ping()
            if not awaiting:
                self._ping_sent, pong_deadline = now, now + config["WS_PING_TIMEOUT"]
                awaiting = True
            self._next_ping = now + config["WS_PING_INTERVAL"]
        due = [self._next_ping]
        if awaiting:
            due.append(pong_deadline)
        if self.member is None:
            due.append(auth_deadline)
        return max(min(due) - now, 0.01)

    def _finish(self, close: Close) -> None:
        """Send the close frame, give the client a moment to answer it, then cut the socket."""
        self.transport.send_close(close.code, close.reason)
        if not self._done.wait(CLOSE_GRACE):
            self.transport.abort()

    def _cleanup(self) -> None:
        """The connection is over: stop the writer, leave every room, tell the rooms."""
        self.closing = True
        self._queue.put(STOP)
        self.hub.remove(self)
        member = self.member
        if member is None:
            return
        metrics.connected("ws", -1)
        with self.app.app_context():
            try:
                ops.disconnected(member)
            except Exception:
                log.exception("cleaning up gateway connection %s failed", self.sid)
