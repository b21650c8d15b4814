"""A Parley client for bots and scripts that neither loses nor duplicates a message.

    from examples.parley_client import ParleyClient

    client = ParleyClient()
    client.on("message", lambda m: print(f"{m['author']}: {m['text']}"))
    client.connect("http://localhost:5000", auth={"token": "pt_..."})
    client.join("general")
    client.send("general", "Backup finished.")  # the stored message, once the server acked it

It wraps python-socketio's threaded client (its only dependency) with what docs/delivery.md
promises: connecting with retries, rejoining rooms and catching up after every reconnect, sends
retried under one client_id (the server stores each once) and queued while offline, and each
room's messages handed to the callbacks once each, in id order.
"""
from __future__ import annotations

import bisect
import logging
import random
import threading
import time
import uuid
from collections import deque

import requests
import socketio

log = logging.getLogger("parley_client")

# Refusals no retry can fix. Anything else (name_taken included: after a drop the server may
# hold our old connection's name until it notices) is retried; name_taken for a bounded time.
FATAL_REFUSALS = {"auth_required", "invalid_name", "name_registered", "guests_disabled",
                  "invalid_token", "banned"}
# Ack errors worth another try with the same client_id; any other one fails the send at once.
RETRYABLE = {"rate_limited", "flood", "internal", "not_in_room", "unavailable"}
PAGE = 100        # history page size (the server's maximum)
OVERLAP = 20      # a catch-up re-reads this many known messages: see docs/delivery.md


def _refusal_code(data) -> str:
    """The code of a connect_error: {"message": ..., "data": {"code": ..., "message": ...}}."""
    details = data.get("data") if isinstance(data, dict) else None
    return details.get("code", "connect_error") if isinstance(details, dict) else "connect_error"


class ParleyError(Exception):
    """A refusal from the server ({code, message}) or a send that ran out of tries."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class _Retry(Exception):
    """This attempt failed in a way another attempt may not (no ack, connection lost, ...)."""


class Outgoing:
    """A message on its way: pending until acked, then ``message``; or ``error`` after the tries."""

    def __init__(self, room: str, text: str) -> None:
        self.room, self.text, self.client_id = room, text, uuid.uuid4().hex
        self.tries, self.message, self.error = 0, None, None
        self.done = threading.Event()

    def result(self, timeout: float | None = None) -> dict:
        if not self.done.wait(timeout):
            raise TimeoutError(f"not acked yet after {timeout}s (still queued)")
        if self.error:
            raise self.error
        return self.message


class _Room:
    """One room's view: its messages by id, and how far history has been read."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.messages: dict[int, dict] = {}
        self.seen: set[int] = set()  # ever delivered, deleted ones included
        self.checked = 0  # history has been read up to here
        self.synced = -1  # the connection (generation) it was last joined on
        self.syncing = False  # live messages wait in ``held`` while a catch-up runs
        self.held: list[dict] = []
        self.error: ParleyError | None = None  # the server refused to let us in

    def resume_after(self) -> int:
        """Where a catch-up starts: a little before the newest known message (see OVERLAP)."""
        if not self.ids:
            return self.checked
        return min(self.checked, self.ids[max(0, len(self.ids) - OVERLAP)] - 1)


class ParleyClient:
    """Connect, join, send and listen, with retries and catch-up; safe to use from threads.

    Callbacks run on the client's own threads and should return quickly; from a callback use
    ``send_nowait``, never the blocking ``send``.
    """

    def __init__(self, *, transports: list[str] | None = None, headers: dict | None = None,
                 http_session: requests.Session | None = None, ack_timeout: float = 5.0,
                 max_tries: int = 8, name_taken_for: float = 60.0, resync_every: float = 30.0,
                 reconnect_delay: tuple[float, float] = (0.1, 5.0)):
        self.transports, self.headers = transports, headers or {}
        # One cookie jar for every connection, like a browser's: a load balancer's sticky cookie
        # then holds for all of long-polling's requests, and across reconnects.
        self.http = http_session or requests.Session()
        self.ack_timeout, self.max_tries, self.name_taken_for = ack_timeout, max_tries, name_taken_for
        self.resync_every, self.reconnect_delay = resync_every, reconnect_delay
        self.stats = {"connects": 0, "retries": 0, "late": 0, "healed": 0}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._rooms: dict[str, _Room] = {}
        self._outbox: deque[Outgoing] = deque()
        self._callbacks: dict[str, list] = {}
        self._waiters: set[threading.Event] = set()
        self._ready, self._wake, self._closing = threading.Event(), threading.Event(), False
        self._generation, self._fatal = 0, None
        self._resync_now = False  # the server said events may have passed us by: catch up now
        self._threads: list[threading.Thread] = []
        self.sio: socketio.Client | None = None  # the current connection's client

    # -- public API -----------------------------------------------------------------------------
    def on(self, event: str, callback) -> None:
        """Call ``callback(data)`` on a server event ("message": once per message, in id order
        per room); "connect" (joined and caught up) and "disconnect" are the client's own."""
        with self._lock:
            self._callbacks.setdefault(event, []).append(callback)

    def connect(self, url: str, auth: dict | None = None, timeout: float = 30.0) -> None:
        """Connect (retrying with backoff for up to ``timeout``), then keep connected until close."""
        self._url, self._auth = url, auth
        for target in (self._supervise, self._send_loop):
            thread = threading.Thread(target=target, daemon=True, name=f"parley-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self._fatal or time.monotonic() > deadline:
                error = self._fatal or ParleyError("timeout", f"not connected after {timeout}s")
                self.close()
                raise error

    def join(self, room: str, timeout: float = 10.0) -> list[dict]:
        """Join ``room`` now and after every reconnect; answer its messages so far."""
        with self._changed:
            state = self._rooms.setdefault(room, _Room())
            self._wake.set()
            if self.connected:
                self._changed.wait_for(
                    lambda: state.synced == self._generation or state.error, timeout)
            if state.error:
                raise state.error
        return self.messages(room)

    def send(self, room: str, text: str, timeout: float | None = None) -> dict:
        """Send and wait for the ack: the stored message. Raises ParleyError when it failed."""
        return self.send_nowait(room, text).result(timeout)

    def send_nowait(self, room: str, text: str) -> Outgoing:
        """Queue a message (kept in order, sent when connected); answer it to wait on."""
        if room not in self._rooms:
            raise ValueError(f"join '{room}' before sending to it")
        outgoing = Outgoing(room, text)
        with self._changed:
            self._outbox.append(outgoing)
            self._changed.notify_all()
        return outgoing

    def messages(self, room: str) -> list[dict]:
        """This client's view of ``room``: every message it has, once each, in id order."""
        with self._lock:
            state = self._rooms.get(room)
            return [state.messages[i] for i in state.ids] if state else []

    def close(self) -> None:
        """Disconnect for good; queued sends fail."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._wake.set()
        if self.connected:
            self.sio.disconnect()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=self.ack_timeout + 1)

    @property
    def connected(self) -> bool:
        return self.sio is not None and self.sio.connected

    # -- the connection ---------------------------------------------------------------------------
    def _supervise(self) -> None:
        """Own thread: connect, (re)join and catch up, resync now and then; forever until close."""
        delay, refused_since, last_sync = self.reconnect_delay[0], None, time.monotonic()
        while not self._closing:
            if not self.connected:
                self._ready.clear()
                code = self._try_connect()
                if code is None:
                    delay, refused_since = self.reconnect_delay[0], None
                    continue
                refused_since = refused_since or time.monotonic()
                if code in FATAL_REFUSALS or (
                        code == "name_taken" and time.monotonic() - refused_since > self.name_taken_for):
                    self._fatal = ParleyError(code, "the server refused the connection")
                    return
                time.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self.reconnect_delay[1])
                continue
            with self._lock:
                stale = [name for name, room in self._rooms.items() if room.synced != self._generation]
                resync = not stale and (self._resync_now
                                        or time.monotonic() - last_sync > self.resync_every)
                self._resync_now = self._resync_now and not resync
                todo = list(self._rooms) if resync else stale
            try:
                for name in todo:
                    self._sync(name, join=not resync)
            except _Retry as exc:
                log.info("catch-up interrupted (%s); again shortly", exc)
                time.sleep(delay)
                continue
            last_sync = time.monotonic() if resync else last_sync
            if not stale:
                if not self._ready.is_set():
                    self._ready.set()
                    self._fire("connect", None)
                self._wake.wait(timeout=1.0)
                self._wake.clear()
        if self.connected:  # close() came while we were connecting
            self.sio.disconnect()

    def _try_connect(self) -> str | None:
        """One attempt; answer None when connected, else the refusal code.

        Each attempt gets a new python-socketio client: the old one's threads may still be
        winding down, and on a shared one they could close the new connection.
        """
        sio, refusal = socketio.Client(reconnection=False, http_session=self.http), []
        sio.on("connect_error", lambda data=None: refusal.append(_refusal_code(data)))
        sio.on("disconnect", lambda reason=None: self._on_disconnect(sio, reason))
        sio.on("message", self._on_message)
        sio.on("message_deleted", self._on_deleted)
        sio.on("resync", self._on_resync)
        sio.on("*", lambda event, data=None: self._fire(event, data))  # presence, typing, ...
        try:
            sio.connect(self._url, auth=self._auth, headers=self.headers,
                        transports=self.transports, wait_timeout=10)
        except (socketio.exceptions.ConnectionError, ValueError) as exc:
            log.info("connect failed: %s %s", refusal, exc)
            return refusal[0] if refusal else "unreachable"
        with self._lock:
            self.sio = sio
            self._generation += 1
            self.stats["connects"] += 1
        log.info("connected (%s)", sio.transport())
        return None

    def _sync(self, name: str, join: bool) -> None:
        """(Re)join ``name`` if asked, then read history after what we have, page by page."""
        with self._lock:
            room = self._rooms.get(name)
            if room is None:
                return
            room.syncing, generation = True, self._generation
        try:
            if join:
                ack = self._checked(self._call("join", {"room": name}))
                with self._lock:
                    if not room.ids:  # a first join: the view starts with the recent history
                        self._merge(room, ack["history"])
                        room.checked = max([room.checked] + [m["id"] for m in ack["history"]])
            after, newest = room.resume_after(), room.ids[-1] if room.ids else 0
            log.debug("catching up on %s after %s", name, after)
            while True:
                page = self._checked(self._call(
                    "history", {"room": name, "after": after, "limit": PAGE}))["messages"]
                with self._lock:
                    added = self._merge(room, page)
                    if not join:  # gaps a periodic check found: live delivery missed these
                        self.stats["healed"] += sum(m["id"] < newest for m in added)
                if page:
                    after = room.checked = max(room.checked, page[-1]["id"])
                if len(page) < PAGE:
                    break
        except (_Retry, ParleyError) as exc:
            with self._lock:
                room.synced = -1  # joined again from scratch next time round
            if isinstance(exc, ParleyError):  # the server will not let us in: forget the room
                log.warning("cannot join %s: %s", name, exc)
                with self._changed:
                    room.error = exc
                    self._rooms.pop(name, None)
                    self._changed.notify_all()
                return
            raise
        with self._changed:
            self._merge(room, room.held)
            room.held, room.syncing = [], False
            room.synced = generation if join else room.synced
            self._changed.notify_all()

    def _call(self, event: str, data: dict) -> dict:
        """Emit and wait for the ack; raise _Retry on no ack in time or a lost connection."""
        answered, answer = threading.Event(), []

        def on_ack(*args):
            answer.append(args[0] if args else None)
            answered.set()

        with self._lock:
            self._waiters.add(answered)
            sio = self.sio
        try:
            if sio is None:
                raise _Retry("not connected")
            sio.emit(event, data, callback=on_ack)
            if not answered.wait(self.ack_timeout):
                # A connection that does not answer is broken, whatever it says (long-polling's
                # requests can fail one way only): start a new one.
                log.info("no ack in %ss: reconnecting", self.ack_timeout)
                sio.disconnect()
                raise _Retry("no ack in time")
            if not answer:
                raise _Retry("connection lost")
            return answer[0]
        except socketio.exceptions.SocketIOError as exc:
            raise _Retry(f"not connected ({exc})") from None
        finally:
            with self._lock:
                self._waiters.discard(answered)

    @staticmethod
    def _checked(ack: dict) -> dict:
        if isinstance(ack, dict) and ack.get("ok"):
            return ack
        error = (ack or {}).get("error") or {"code": "internal", "message": repr(ack)}
        if error["code"] in RETRYABLE:
            raise _Retry(error["code"])
        raise ParleyError(error["code"], error["message"])

    # -- sending ----------------------------------------------------------------------------------
    def _send_loop(self) -> None:
        """Own thread: send the outbox in order, one at a time, each until acked or out of tries."""
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._outbox or self._closing)
                if self._closing:
                    for outgoing in self._outbox:
                        outgoing.error = ParleyError("closed", "the client was closed")
                        outgoing.done.set()
                    return
                outgoing = self._outbox[0]
            self._send_one(outgoing)
            with self._lock:
                self._outbox.popleft()
            outgoing.done.set()

    def _send_one(self, outgoing: Outgoing) -> None:
        payload = {"room": outgoing.room, "text": outgoing.text, "client_id": outgoing.client_id}
        while not self._closing:
            if not self._ready.wait(0.2):  # offline: tries are only counted when connected
                continue
            outgoing.tries += 1
            try:
                outgoing.message = self._checked(self._call("message", payload))["message"]
                return
            except _Retry as exc:
                reason = str(exc)
            except ParleyError as exc:
                outgoing.error = exc
                return
            if outgoing.tries >= self.max_tries:
                outgoing.error = ParleyError("failed", f"{outgoing.tries} tries; last: {reason}")
                return
            self.stats["retries"] += 1
            time.sleep(min(0.05 * 2 ** outgoing.tries, 2.0) * random.uniform(0.5, 1.0))
        outgoing.error = ParleyError("closed", "the client was closed")

    # -- receiving --------------------------------------------------------------------------------
    def _on_message(self, message: dict) -> None:
        with self._lock:
            room = self._rooms.get(message.get("room"))
            if room is None:
                return
            if room.syncing:
                room.held.append(message)
            else:
                self._merge(room, [message])

    def _merge(self, room: _Room, messages: list[dict]) -> list[dict]:
        """Add new messages in id order and hand each to the callbacks; answer those."""
        added = []
        for message in sorted(messages, key=lambda m: m["id"]):
            if message["id"] in room.seen:
                continue
            if room.ids and message["id"] < room.ids[-1]:
                self.stats["late"] += 1  # committed out of id order elsewhere: docs/delivery.md
            room.seen.add(message["id"])
            bisect.insort(room.ids, message["id"])
            room.messages[message["id"]] = message
            added.append(message)
            self._fire("message", message)
        return added

    def _on_resync(self, event: dict | None = None) -> None:
        """The server may have missed giving us live events (its message queue had a gap)."""
        with self._lock:
            self._resync_now = True
        self._wake.set()
        self._fire("resync", event)

    def _on_deleted(self, event: dict) -> None:
        with self._lock:
            room = self._rooms.get(event.get("room"))
            if room is None:
                return
            room.seen.add(event["id"])  # a late copy of it must not come back
            if room.messages.pop(event["id"], None) is not None:
                room.ids.remove(event["id"])
        self._fire("message_deleted", event)

    def _on_disconnect(self, sio: socketio.Client, reason=None) -> None:
        if sio is not self.sio:
            return  # an earlier connection's
        log.info("disconnected: %s", reason)
        self._ready.clear()
        with self._lock:
            for waiter in self._waiters:
                waiter.set()  # with no answer: "connection lost"
        if not self._closing:
            self._fire("disconnect", reason)
        self._wake.set()

    def _fire(self, event: str, data) -> None:
        for callback in self._callbacks.get(event, ()):
            try:
                callback(data)
            except Exception:  # one bad callback must not stop delivery
                log.exception("%s callback failed", event)
