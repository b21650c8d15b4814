"""A Parley client for bots and scripts: each room as the server has it, nothing lost or doubled.

    from examples.parley_client import ParleyClient

    client = ParleyClient()
    client.on("message", lambda m: print(f"{m['author']}: {m['text']}"))
    client.on("message_edited", lambda e: print(f"#{e['id']} now says {e['message']['text']}"))
    client.connect("http://localhost:5000", auth={"token": "pt_..."})
    client.join("general")
    sent = client.send("general", "Backup running.")  # the stored message, once the server acked it
    client.react("general", sent["id"], "⏳")
    client.edit("general", sent["id"], "Backup finished.")

It wraps python-socketio's threaded client (its only dependency) with what docs/delivery.md
promises: connecting with retries, rejoining rooms and catching up after every reconnect, sends
retried under one client_id (the server stores each once) and queued while offline, and each
room's messages handed to the callbacks once each, in id order -- and, for protocol v2's
conversations, edits, deletions, reactions, pins and replies kept up to date through the room's
change log (docs/protocol.md, "Applying changes").

**Changing things.** ``send``, ``reply``, ``edit``, ``delete``, ``react`` and ``pin`` go through
one outbox: in the order called, queued while offline, each tried until the server answers (at
most ``max_tries`` times while connected). A message or reply keeps one client_id through its
tries, so the server stores it once; an edit, a reaction or a pin sent again changes nothing the
second time; a deletion whose retry finds the message gone has done its work. Each call blocks
until the answer and returns the stored message, or the message after the change (``delete``:
None), or raises ``ParleyError``. With ``wait=False`` (``send_nowait`` for ``send``) it returns
an ``Outgoing`` at once: ``.result(timeout)`` waits for the answer, ``.then(callback)`` runs
``callback(result)`` when it succeeds. Callbacks must never block: use ``wait=False`` there.

**The view.** ``messages(room)`` is the room as this client knows it: the history its first
``join`` answered and everything since, in id order, each message in its latest state (text,
``edited_at``, ``reactions``, ``pinned``, ``reply_count``), deleted ones gone. Per room the
client keeps ``seq(room)``, the highest change number up to which it has applied every change
(the join ack's at first), and applies the room's live events in seq order: one that comes early
(events come on threads of their own, and from several processes) waits for those before it --
for a moment, or, if one was lost, until a ``sync`` brings it after ``gap_wait`` seconds. Each
change is applied by the protocol's rule: per message the copy with the highest seq wins, and a
deleted id never comes back. Each room is also brought up to date with ``sync`` from its seq after
every reconnect, when the server sends ``resync``, and every ``resync_every`` seconds; when the
server cannot serve a sync (``sync_expired``) the room is reloaded from ``history``. A change
shows in the view when its event (or a sync) arrives, a moment after the change's ack; changes
to messages older than the first join's history are not tracked. ``thread(room, id)`` and
``pins(room)`` ask the server, as do ``profile(name)`` and ``set_profile(...)`` (a person's
display name, avatar and status). ``members(room)`` is who is in the room: each join ack's list
(after every reconnect too), then the ``presence`` deltas (the client speaks protocol 2).

**Callbacks**, ``client.on(event, callback)``, run on the client's threads; the first three
kinds (the rooms' content) one at a time, under the client's lock -- none may block:

- ``"message"``: a message new to the view (its ``reply_to`` is set for a reply): once per
  message, in id order per room.
- ``"message_edited"``, ``"reaction"``, ``"pin"``, ``"replies"``: a change to a message
  ``"message"`` has given, once per change, in seq order; ``data`` is ``{room, seq, id,
  message}`` -- ``message`` is its state after the change -- plus the live event's details
  (``emoji``, ``user``, ``on``, ``by``, ``reply``). Changes found by ``sync`` (after a
  reconnect) come compacted: one callback for all of a message's changes meanwhile, named after
  the latest, without the details.
- ``"message_deleted"``: ``{room, seq, id}`` (``by`` when live): a message ``"message"`` gave is
  gone for good.
- ``"connect"`` (connected, every room joined and caught up; after each reconnect too),
  ``"disconnect"`` (the connection dropped; the client is reconnecting), and any other server
  event as it comes (``presence``, ``typing``, ``resync``, ``invited``, ...).

So an app can keep its own copy of a room with callbacks alone: add on ``"message"``, replace
with ``data["message"]`` on a change, remove on ``"message_deleted"``.

**Read state** (accounts): ``read(room, seq=...)`` or ``read(room, id=...)`` marks the room read
up to there for the account, on every device (``{"last_read", "unread", "mentions"}``; a mark
never moves back). ``on_read(callback)``: the account read a room elsewhere (another bot or tab
of it); ``on_receipt(callback)`` and ``receipts(room)``: how far the other members of a DM or
small private room have read (``{name: last_read}``, from the join and ``receipt`` events).
"""
from __future__ import annotations

import bisect
import functools
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
# Ack errors worth another try; any other one fails the operation at once.
RETRYABLE = {"rate_limited", "flood", "internal", "not_in_room", "unavailable"}
PAGE = 100        # history page size (the server's maximum)
SYNC_PAGE = 500   # changes per sync answer (the server's maximum)
KEEP = object()  # set_profile: leave this part of the profile as it is
CHANGES = ("message", "message_edited", "message_deleted", "reaction", "pin", "replies")
# Which fields each kind of change touches: a reload names what it found changed after these.
FIELDS = (("message_edited", ("text", "edited_at")), ("reaction", ("reactions",)),
          ("pin", ("pinned",)), ("replies", ("reply_count",)))


def _refusal_code(data) -> str:
    """The code of a connect_error: {"message": ..., "data": {"code": ..., "message": ...}}."""
    details = data.get("data") if isinstance(data, dict) else None
    return details.get("code", "connect_error") if isinstance(details, dict) else "connect_error"


class ParleyError(Exception):
    """A refusal from the server ({code, message}) or an operation that ran out of tries."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class _Retry(Exception):
    """This attempt failed in a way another attempt may not (no ack, connection lost, ...)."""


class Outgoing:
    """An operation on its way (``op``: message, edit, delete_message, react, pin): pending
    until acked, then ``message`` (the server's answer; None for a deletion), or ``error``."""

    def __init__(self, op: str, room: str, **payload) -> None:
        self.op, self.room = op, room
        self.payload = {"room": room, **payload}
        self.text, self.client_id = payload.get("text"), payload.get("client_id")
        self.tries, self.message, self.error = 0, None, None
        self.done = threading.Event()
        self._lock, self._then = threading.Lock(), []

    def result(self, timeout: float | None = None) -> dict | None:
        if not self.done.wait(timeout):
            raise TimeoutError(f"not acked yet after {timeout}s (still queued)")
        if self.error:
            raise self.error
        return self.message

    def then(self, callback) -> Outgoing:
        """Call ``callback(result)`` once this succeeds (at once if it has); not if it fails."""
        with self._lock:
            if not self.done.is_set():
                self._then.append(callback)
                return self
        if self.error is None:
            callback(self.message)
        return self

    def _finish(self) -> None:
        with self._lock:
            self.done.set()
            callbacks, self._then = self._then, []
        for callback in callbacks if self.error is None else ():
            try:
                callback(self.message)
            except Exception:  # one bad callback must not stop the outbox
                log.exception("callback of %s failed", self.op)


class _Room:
    """One room: the view (its messages by id), its seq, and where its catch-up stands."""

    def __init__(self) -> None:
        self.ids: list[int] = []  # the view's messages, in id order
        self.messages: dict[int, dict] = {}
        self.deleted: set[int] = set()  # gone for good: a late event must not bring one back
        self.floor = 0  # the view holds messages from this id on (the first join's history)
        self.seq: int | None = None  # every change up to here is applied (None: never joined)
        # Live events not applied yet, by seq: they are applied in seq order, so one that came
        # early (events come on threads of their own, and from several processes) waits for
        # those before it, and all wait while a catch-up runs.
        self.pending: dict[int, tuple[str, dict]] = {}
        self.gap_since: float | None = None  # since when ``pending`` waits for a missing seq
        self.synced = -1  # the connection (generation) it was last joined on
        self.syncing = False
        # In the view, not yet given to "message": a catch-up finds messages in the order of
        # their latest change, and gives them in id order when it is done.
        self.unannounced: set[int] = set()
        self.given = 0  # the highest id given to "message"
        self.error: ParleyError | None = None  # the server refused to let us in
        self.receipts: dict[str, int] = {}  # how far each other member has read (read receipts)
        # Who is in the room: the join ack's list, then the ``presence`` deltas (protocol 2).
        # While a join is under way, deltas wait in ``heard`` to be applied over its ack's list.
        self.members: set[str] = set()
        self.heard: list[dict] | None = None


class ParleyClient:
    """Connect, join, send and change, listen, with retries and catch-up; safe to use from
    threads. Callbacks run on the client's own threads and must return quickly (see above)."""

    def __init__(self, *, transports: list[str] | None = None, headers: dict | None = None,
                 http_session: requests.Session | None = None, ack_timeout: float = 5.0,
                 max_tries: int = 8, name_taken_for: float = 60.0, resync_every: float = 30.0,
                 gap_wait: float = 2.0, reconnect_delay: tuple[float, float] = (0.1, 5.0)):
        self.transports, self.headers = transports, headers or {}
        # One cookie jar for every connection, like a browser's: a load balancer's sticky cookie
        # then holds for all of long-polling's requests, and across reconnects.
        self.http = http_session or requests.Session()
        self.ack_timeout, self.max_tries, self.name_taken_for = ack_timeout, max_tries, name_taken_for
        self.resync_every, self.gap_wait = resync_every, gap_wait
        self.reconnect_delay = reconnect_delay
        self.stats = {"connects": 0, "retries": 0, "late": 0, "healed": 0, "reloads": 0}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._rooms: dict[str, _Room] = {}
        self._outbox: deque[Outgoing] = deque()
        self._callbacks: dict[str, list] = {}
        self._waiters: set[threading.Event] = set()
        self._ready, self._wake, self._closing = threading.Event(), threading.Event(), False
        self._generation, self._fatal = 0, None
        self._due: set[str] = set()  # rooms to sync soon (``resync``, a gap, the periodic check)
        self._threads: list[threading.Thread] = []
        self.sio: socketio.Client | None = None  # the current connection's client

    # -- public API -----------------------------------------------------------------------------
    def on(self, event: str, callback) -> None:
        """Call ``callback(data)`` on ``event`` (the module's docstring lists them)."""
        with self._lock:
            self._callbacks.setdefault(event, []).append(callback)

    def connect(self, url: str, auth: dict | None = None, timeout: float = 30.0) -> None:
        """Connect (retrying with backoff for up to ``timeout``), then keep connected until close."""
        # Protocol 2: presence comes as join/leave deltas, the whole list only in join acks.
        self._url, self._auth = url, {"protocol": 2, **(auth or {})}
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
        return self._queue(Outgoing("message", room, text=text, client_id=uuid.uuid4().hex))

    def reply(self, room: str, reply_to: int, text: str, *, wait: bool = True,
              timeout: float | None = None):
        """Send a reply to message ``reply_to`` (into its thread); like ``send``."""
        return self._submit(wait, timeout, Outgoing(
            "message", room, text=text, reply_to=reply_to, client_id=uuid.uuid4().hex))

    def edit(self, room: str, id: int, text: str, *, wait: bool = True,
             timeout: float | None = None):
        """Replace the text of your message ``id``; answers the message after the edit."""
        return self._submit(wait, timeout, Outgoing("edit", room, id=id, text=text))

    def delete(self, room: str, id: int, *, wait: bool = True,
               timeout: float | None = None):
        """Delete message ``id`` for everyone (yours; or any, as the room's owner or an admin)."""
        return self._submit(wait, timeout, Outgoing("delete_message", room, id=id))

    def react(self, room: str, id: int, emoji: str, on: bool = True, *,
              wait: bool = True, timeout: float | None = None):
        """Put one emoji on message ``id`` (``on=False``: take it back); answers the message."""
        return self._submit(wait, timeout, Outgoing("react", room, id=id, emoji=emoji, on=on))

    def pin(self, room: str, id: int, on: bool = True, *, wait: bool = True,
            timeout: float | None = None):
        """Pin message ``id`` (``on=False``: unpin); answers the message."""
        return self._submit(wait, timeout, Outgoing("pin", room, id=id, on=on))

    def thread(self, room: str, id: int, timeout: float = 30.0) -> dict:
        """Message ``id``'s thread, read from the server: ``{"root": ..., "replies": [...]}``,
        every reply in id order. Blocks: not for callbacks."""
        ask = {"room": room, "id": id, "limit": 100}
        answer = self._request("thread", ask, timeout)
        replies = answer["replies"]
        while answer["more"] and replies:
            answer = self._request("thread", {**ask, "before": replies[0]["id"]}, timeout)
            replies = answer["replies"] + replies
        return {"root": answer["root"], "replies": replies}

    def pins(self, room: str, timeout: float = 30.0) -> list[dict]:
        """The room's pinned messages, read from the server, the latest pinned first."""
        return self._request("pins", {"room": room}, timeout)["pins"]

    def profile(self, name: str, timeout: float = 30.0) -> dict:
        """``name``'s profile card (docs/protocol.md, "Profile object"), read from the server;
        ParleyError ``not_found`` for a guest or nobody. Others' changes come as ``"profile"``."""
        return self._request("profile", {"name": name}, timeout)["profile"]

    def set_profile(self, *, display_name=KEEP, status=KEEP, timeout: float = 30.0) -> dict:
        """Change your display name and/or status (accounts only); answers your card. An
        argument left out stays as it is; None removes it. ``status``: ``{"text", "emoji",
        "expires_in" (seconds) | "expires_at" (ISO 8601)}``. Setting the same twice changes
        nothing, so it is asked again (like a read) until answered."""
        wanted = {key: value for key, value in
                  (("display_name", display_name), ("status", status)) if value is not KEEP}
        return self._request("set_profile", wanted, timeout)["profile"]

    def read(self, room: str, seq: int | None = None, id: int | None = None,
             timeout: float = 30.0) -> dict:
        """Mark ``room`` read up to ``seq`` (or message ``id``) for the account, on every device;
        answers ``{"room", "last_read", "unread", "mentions"}``. A repeat changes nothing."""
        if (seq is None) == (id is None):
            raise ValueError("give one of seq and id")
        mark = {"seq": seq} if id is None else {"id": id}
        answer = self._request("read", {"room": room, **mark}, timeout)
        return {k: answer[k] for k in ("room", "last_read", "unread", "mentions")}

    def on_read(self, callback) -> None:
        """``callback({"room", "last_read", "unread", "mentions"})`` when the account read a room
        on another connection."""
        self.on("read", callback)

    def on_receipt(self, callback) -> None:
        """``callback({"room", "user", "last_read"})`` when a member of a DM or small private room
        read further (``receipts(room)`` is up to date by then)."""
        self.on("receipt", callback)

    def receipts(self, room: str) -> dict[str, int]:
        """How far the other members of ``room`` have read: ``{name: last_read}`` (DMs and small
        private rooms; empty elsewhere)."""
        with self._lock:
            state = self._rooms.get(room)
            return dict(state.receipts) if state else {}

    def messages(self, room: str) -> list[dict]:
        """This client's view of ``room``: every message it has, once each, in id order."""
        with self._lock:
            state = self._rooms.get(room)
            return [state.messages[i] for i in state.ids] if state else []

    def members(self, room: str) -> list[str]:
        """Who is in ``room`` now (as of the last join ack and the presence events since)."""
        with self._lock:
            state = self._rooms.get(room)
            return sorted(state.members, key=str.casefold) if state else []

    def seq(self, room: str) -> int | None:
        """How far ``room`` is applied: every change up to this seq (None: not joined yet)."""
        with self._lock:
            state = self._rooms.get(room)
            return state.seq if state else None

    def close(self) -> None:
        """Disconnect for good; queued operations fail."""
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
        """Own thread: connect, (re)join and catch up, sync when due; forever until close."""
        delay, refused_since, last_sync = self.reconnect_delay[0], None, time.monotonic()
        while not self._closing:
            if not self.connected:
                self._ready.clear()
                try:
                    code = self._try_connect()
                except Exception:  # whatever it was, the next attempt may go better
                    log.exception("connecting failed")
                    code = "unreachable"
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
                now = time.monotonic()
                stale = [name for name, room in self._rooms.items() if room.synced != self._generation]
                if not stale:
                    if now - last_sync > self.resync_every:
                        self._due.update(self._rooms)
                        last_sync = now
                    self._due.update(name for name, room in self._rooms.items()
                                     if room.gap_since and now - room.gap_since > self.gap_wait)
                todo, join = (stale, True) if stale else (sorted(self._due), False)
                self._due.difference_update(todo)
            try:
                for name in todo:
                    self._sync(name, join)
            except _Retry as exc:
                log.info("catch-up interrupted (%s); again shortly", exc)
                time.sleep(delay)
                continue
            if not stale:
                if not self._ready.is_set():
                    self._ready.set()
                    self._fire("connect", None)
                self._wake.wait(timeout=min(1.0, self.gap_wait / 2))
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
        for kind in CHANGES:
            sio.on(kind, functools.partial(self._on_change, kind))
        sio.on("resync", self._on_resync)
        sio.on("receipt", self._on_receipt)
        sio.on("presence", self._on_presence)
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

    def _on_receipt(self, data: dict) -> None:
        with self._lock:
            room = self._rooms.get(data.get("room"))
            if room is not None:
                room.receipts[data["user"]] = max(room.receipts.get(data["user"], 0),
                                                  data["last_read"])
        self._fire("receipt", data)

    def _sync(self, name: str, join: bool) -> None:
        """(Re)join ``name`` if asked, then bring it up to date: ``sync`` from its seq."""
        with self._lock:
            room = self._rooms.get(name)
            if room is None:
                return
            room.syncing, generation = True, self._generation
        try:
            if join:
                with self._lock:
                    room.heard = []
                try:
                    ack = self._checked(self._call("join", {"room": name}))
                finally:
                    with self._lock:
                        heard, room.heard = room.heard or [], None
                with self._lock:
                    room.members = set(ack["members"])
                    room.receipts.update(ack.get("receipts") or {})
                    for event in heard:  # heard since the join began: newer than the ack's list
                        self._apply_presence(room, event)
                    if room.seq is None:  # the first join: the view starts with its history
                        history = ack["history"]
                        room.floor = history[0]["id"] if history else 0
                        room.seq = ack["seq"]
                        for message in history:
                            self._apply(room, "message", message)
            self._catch_up(name, room, healing=not join)
        except Exception as exc:
            with self._lock:
                room.synced = -1  # joined again from scratch next time round
            if isinstance(exc, ParleyError):  # the server will not let us in: forget the room
                log.warning("cannot join %s: %s", name, exc)
                with self._changed:
                    room.error = exc
                    self._rooms.pop(name, None)
                    self._changed.notify_all()
                return
            if not isinstance(exc, _Retry):  # an answer we do not understand: try again later
                log.exception("catching up on %s failed", name)
                raise _Retry("unexpected error") from exc
            raise
        with self._changed:
            room.syncing = False
            self._drain(room)
            room.synced = generation if join else room.synced
            self._changed.notify_all()

    def _catch_up(self, name: str, room: _Room, healing: bool) -> None:
        """Apply what changed in the room after its seq, page by page (``sync``)."""
        while True:
            try:
                answer = self._checked(self._call(
                    "sync", {"room": name, "since": room.seq, "limit": SYNC_PAGE}))
            except ParleyError as exc:
                if exc.code != "sync_expired":
                    raise
                self._reload(name, room)
                return
            with self._lock:
                for change in answer["changes"]:
                    kind = change.pop("type")
                    if self._apply(room, kind, change) and healing and (
                            change["seq"] not in room.pending):
                        self.stats["healed"] += 1  # live delivery had missed it
                room.seq = max(room.seq, answer["seq"])
            if not answer["more"]:
                return

    def _reload(self, name: str, room: _Room) -> None:
        """The server cannot say what changed since our seq: read the room afresh (the join's
        seq, then every message from the view's first on) and put the view right."""
        log.info("reloading %s", name)
        seq = self._checked(self._call("join", {"room": name}))["seq"]  # read before the history
        fresh, after = {}, max(room.floor - 1, 0)
        while True:
            page = self._checked(self._call(
                "history", {"room": name, "after": after, "limit": PAGE}))["messages"]
            fresh.update((m["id"], m) for m in page)
            if len(page) < PAGE:
                break
            after = page[-1]["id"]
        with self._lock:
            self.stats["reloads"] += 1
            for gone in [i for i in room.ids if i not in fresh]:
                self._apply(room, "message_deleted", {"room": name, "seq": seq, "id": gone},
                            force=True)
            for message in fresh.values():
                held = room.messages.get(message["id"])
                kind = "message" if held is None else next(
                    (kind for kind, keys in FIELDS if any(held[k] != message[k] for k in keys)),
                    None)
                if kind == "message":
                    self._apply(room, kind, message, force=True)
                elif kind:
                    self._apply(room, kind, {"room": name, "seq": message["seq"],
                                             "id": message["id"], "message": message}, force=True)
                else:
                    room.messages[message["id"]] = message  # nothing a callback would show
            room.seq = seq

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

    def _request(self, op: str, payload: dict, timeout: float) -> dict:
        """A read: asked (again) once connected until answered, for up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            if self._ready.wait(max(0.0, min(0.2, deadline - time.monotonic()))):
                try:
                    return self._checked(self._call(op, payload))
                except _Retry as exc:
                    reason = str(exc)
                    time.sleep(0.1)
            else:
                reason = "not connected"
            if self._closing or time.monotonic() > deadline:
                raise ParleyError("timeout", f"no answer to {op} in {timeout}s; last: {reason}")

    @staticmethod
    def _checked(ack: dict) -> dict:
        if isinstance(ack, dict) and ack.get("ok"):
            return ack
        error = ack.get("error") if isinstance(ack, dict) else None
        error = error or {"code": "internal", "message": repr(ack)}
        if error["code"] in RETRYABLE:
            raise _Retry(error["code"])
        raise ParleyError(error["code"], error["message"])

    # -- sending ----------------------------------------------------------------------------------
    def _queue(self, outgoing: Outgoing) -> Outgoing:
        if outgoing.room not in self._rooms:
            raise ValueError(f"join '{outgoing.room}' before changing anything in it")
        with self._changed:
            self._outbox.append(outgoing)
            self._changed.notify_all()
        return outgoing

    def _submit(self, wait: bool, timeout: float | None, outgoing: Outgoing):
        self._queue(outgoing)
        return outgoing.result(timeout) if wait else outgoing

    def _send_loop(self) -> None:
        """Own thread: send the outbox in order, one at a time, each until acked or out of tries."""
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._outbox or self._closing)
                if self._closing:
                    for outgoing in self._outbox:
                        outgoing.error = ParleyError("closed", "the client was closed")
                        outgoing._finish()
                    return
                outgoing = self._outbox[0]
            try:
                self._send_one(outgoing)
            except Exception as exc:  # an answer we do not understand: this one fails, not all
                log.exception("%s failed", outgoing.op)
                outgoing.error = ParleyError("internal", repr(exc))
            with self._lock:
                self._outbox.popleft()
            outgoing._finish()

    def _send_one(self, outgoing: Outgoing) -> None:
        while not self._closing:
            if not self._ready.wait(0.2):  # offline: tries are only counted when connected
                continue
            outgoing.tries += 1
            try:
                outgoing.message = self._checked(
                    self._call(outgoing.op, outgoing.payload)).get("message")
                return
            except _Retry as exc:
                reason = str(exc)
            except ParleyError as exc:
                gone = (outgoing.op, exc.code) == ("delete_message", "not_found")
                if gone and outgoing.tries > 1:
                    return  # an earlier try deleted it; its ack was lost
                outgoing.error = exc
                return
            if outgoing.tries >= self.max_tries:
                outgoing.error = ParleyError("failed", f"{outgoing.tries} tries; last: {reason}")
                return
            self.stats["retries"] += 1
            time.sleep(min(0.05 * 2 ** outgoing.tries, 2.0) * random.uniform(0.5, 1.0))
        outgoing.error = ParleyError("closed", "the client was closed")

    # -- receiving --------------------------------------------------------------------------------
    def _on_change(self, kind: str, data: dict) -> None:
        """A live event of the room's content (``CHANGES``): applied in seq order."""
        with self._lock:
            room = self._rooms.get(data.get("room"))
            if room is None:
                return
            room.pending[data["seq"]] = (kind, data)
            if not room.syncing and room.seq is not None:
                self._drain(room)

    def _drain(self, room: _Room) -> None:
        """Apply the live events that wait, in seq order, up to the first missing seq (noting
        since when one is missing); then give the new messages to the callbacks."""
        for seq in sorted(seq for seq in room.pending if seq <= room.seq):
            self._apply(room, *room.pending.pop(seq))  # known already (a catch-up had it)
        while room.seq + 1 in room.pending:
            room.seq += 1
            self._apply(room, *room.pending.pop(room.seq))
        if not room.pending:
            room.gap_since = None
        elif room.gap_since is None:
            room.gap_since = time.monotonic()
        self._announce(room)

    def _apply(self, room: _Room, kind: str, data: dict, *, force: bool = False) -> bool:
        """Apply one change by the client rule; answer whether the view changed. ``data`` is a
        message (``kind`` "message") or a change ``{room, seq, id, ..., message}``; with
        ``force`` (a reload) it wins whatever its seq."""
        seq, message_id = data["seq"], data["id"]
        if message_id < room.floor or (message_id in room.deleted and not force):
            return False
        held = room.messages.get(message_id)
        if held is not None and held["seq"] >= seq and not force:
            return False  # we have this change, or a later one
        if kind == "message_deleted":
            room.deleted.add(message_id)
            if held is None:
                return False
            del room.messages[message_id]
            room.ids.remove(message_id)
            if message_id in room.unannounced:
                room.unannounced.discard(message_id)  # never given, so nothing to take back
            else:
                self._fire(kind, data)
            return True
        room.deleted.discard(message_id)  # (only a reload's force finds it there)
        message = data if kind == "message" else data["message"]
        room.messages[message_id] = message
        if held is None:
            bisect.insort(room.ids, message_id)
            room.unannounced.add(message_id)
            if not room.syncing:
                self._announce(room)
        elif kind != "message" and message_id not in room.unannounced:
            self._fire(kind, data)
        return True

    def _announce(self, room: _Room) -> None:
        """Give the messages new to the view to the "message" callbacks, in id order."""
        for message_id in sorted(room.unannounced):
            if message_id < room.given:  # never, while a room's ids grow with its seqs
                self.stats["late"] += 1
            room.given = max(room.given, message_id)
            self._fire("message", room.messages[message_id])
        room.unannounced.clear()

    def _on_resync(self, event: dict | None = None) -> None:
        """The server may have missed giving us live events (its message queue had a gap)."""
        named = (event or {}).get("rooms")
        with self._lock:
            self._due.update(name for name in self._rooms if named is None or name in named)
        self._wake.set()
        self._fire("resync", event)

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

    def _on_presence(self, data) -> None:
        if isinstance(data, dict):
            with self._lock:
                room = self._rooms.get(data.get("room"))
                if room is not None and room.heard is not None:
                    room.heard.append(data)
                elif room is not None:
                    self._apply_presence(room, data)
        self._fire("presence", data)

    @staticmethod
    def _apply_presence(room: _Room, data: dict) -> None:
        """A delta (``{room, user, event}``), or a whole list from a server before protocol 2."""
        if isinstance(data.get("members"), list):
            room.members = set(data["members"])
        elif data.get("event") == "join":
            room.members.add(data.get("user"))
        elif data.get("event") == "leave":
            room.members.discard(data.get("user"))

    def _fire(self, event: str, data) -> None:
        for callback in self._callbacks.get(event, ()):
            try:
                callback(data)
            except Exception:  # one bad callback must not stop delivery
                log.exception("%s callback failed", event)
