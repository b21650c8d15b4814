"""Socket.IO's Redis message queue, made to survive Redis trouble without losing anything for good.

python-socketio's ``RedisManager`` delivers an event to this process's clients, then publishes it
for the other processes -- inline, on the sender's greenlet, with no socket timeout: a hung Redis
holds every ack until it answers. And its subscriber retries quietly (1, 2, 4 ... 60 s) after a
failure, and nobody learns that events published meanwhile never arrived. Here:

- **Publishing never waits.** Events go onto a bounded backlog that one publisher greenlet sends
  in pipelined batches (also cheaper under load: one round trip per batch). While Redis is down
  the backlog waits and is retried; past ``MAX_BACKLOG`` the oldest events are dropped, and their
  rooms remembered.
- **Nothing missed for good.** A ``resync`` event tells clients to catch up from the database
  (``history`` after their newest id): this process's own clients when its subscription comes
  back after a loss (whatever was published meanwhile went past it), and every process's clients
  in the rooms whose events this process had to drop, once Redis takes them again.
- **A hung Redis is noticed.** The subscriber pings every second; three seconds without a word
  (a message or a pong) counts as a lost subscription, and it subscribes again.
- **A process hears only its rooms.** python-socketio publishes every event on one channel that
  every process reads: each process paid for every message of the cluster, rooms it has nobody
  in included (docs/scaling.md: ~85 us a message a process, the first wall). Here an event to
  one room goes on that room's channel (``<channel>:room:<room>``), and a process subscribes to
  a room's channel while a connection of its own is in the room (Socket.IO or /ws; each
  connection's own sid room too, so an emit to one connection finds it). The first local
  connection to enter a room waits for Redis to confirm the subscription before its join goes
  on (bounded: ``SUBSCRIBE_WAIT``), so nothing published after its join's answer passes the
  process by. Everything else -- several rooms, everyone, python-socketio's own orders, the
  external emitter's events -- stays on the one channel, which every process still reads.
  During a rolling deploy, processes of a release before this one read the one channel only:
  while Redis counts fewer subscribers of ``<channel>:rooms`` (this release's mark) than of the
  one channel, room events go out on both, the copy flagged ``routed`` so that processes of
  this release, which have it from the room's channel, drop it.

Clients' part (docs/protocol.md, ``resync``): catch up every joined room, or the rooms named.
"""
from __future__ import annotations

import logging
import time
from collections import deque

import eventlet
import greenlet
import redis
import socketio
from redis.backoff import NoBackoff
from redis.retry import Retry

from webapp import metrics

log = logging.getLogger(__name__)

MAX_BACKLOG = 10_000  # events waiting for Redis; past it the oldest are dropped (and resynced)
BATCH = 500  # events per pipelined round trip
PING_EVERY = 1.0  # seconds between the subscriber's pings
STALL = 3.0  # seconds without a word from Redis before the subscription counts as lost
RETRY_CAP = 2.0  # the longest pause between attempts to reach Redis again
SUBSCRIBE_WAIT = 1.0  # the longest a join waits for Redis to confirm a room's new subscription
SUBSCRIBE_CHUNK = 1000  # channels per SUBSCRIBE when subscribing to everything again
LEGACY_CHECK = 2.0  # seconds between looks for processes that read the one channel only


def resync_event(rooms: list[str] | None, reason: str) -> dict:
    """The ``resync`` event's payload: catch up ``rooms`` (None: every room you are in)."""
    return {"rooms": rooms, "reason": reason}


class ResilientRedisManager(socketio.RedisManager):
    """A ``RedisManager`` whose publishing never blocks and whose subscriber tells clients to
    catch up after a gap."""

    def __init__(self, url: str, channel: str, timeout: float = 0.5) -> None:
        super().__init__(url, channel=channel)
        self._options = {"socket_connect_timeout": max(timeout, 1.0), "socket_timeout": STALL,
                         "retry": Retry(NoBackoff(), 0), "health_check_interval": 0}
        self._queue = None
        self._lost_rooms: set[str] = set()
        self._lost_all = False
        self.subscribed = False  # for health reports: the subscription is live right now
        # Room channels: wanted while a local connection is in the room; each SUBSCRIBE sent on
        # the live subscription leaves an entry per channel (an Event a join waits on, or None),
        # taken off in order by Redis's confirmations (they come in the order asked).
        self._wanted: set[str] = set()
        self._asked: dict[str, deque] = {}
        self._pubsub = None  # the live subscription, once it holds everything wanted
        self._listener = None  # the greenlet reading it
        self.mark = f"{channel}:rooms"  # subscribed by every process that reads room channels
        self._legacy, self._checked = True, 0.0  # processes of an older release may listen

    # -- routing ---------------------------------------------------------------------------------
    def room_channel(self, room: str) -> str:
        return f"{self.channel}:room:{room}"

    def _channel_of(self, data: dict) -> str:
        """The channel an event goes out on: its room's, or the one every process reads."""
        room = data.get("room")
        if data.get("method") == "emit" and isinstance(room, str) and data.get("namespace") == "/":
            return self.room_channel(room)
        return self.channel

    def has_local(self, room: str) -> bool:
        """Whether a connection of this process is in ``room`` (the gateway's manager adds its own)."""
        return room in self.rooms.get("/", ())

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        first = namespace == "/" and isinstance(room, str) and not self.has_local(room)
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        if first:
            self.interest(room, True, wait=room != sid)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        if namespace == "/" and isinstance(room, str) and not self.has_local(room):
            self.interest(room, False)

    def interest(self, room: str, present: bool, wait: bool = True) -> None:
        """A room gained its first local connection (``present``) or lost its last one."""
        channel = self.room_channel(room)
        if not present:
            self._wanted.discard(channel)
            self._command("unsubscribe", [channel])
            return
        self._wanted.add(channel)
        done = eventlet.Event() if wait and greenlet.getcurrent() is not self._listener else None
        if self._command("subscribe", [channel], done) and done is not None:
            # Events published from here on reach this process: wait for Redis to say so.
            with eventlet.Timeout(SUBSCRIBE_WAIT, False):
                done.wait()

    def _command(self, kind: str, channels: list[str], done=None) -> bool:
        """SUBSCRIBE or UNSUBSCRIBE on the live subscription; False if there is none (the
        listener subscribes to everything wanted when it is back)."""
        pubsub = self._pubsub
        if pubsub is None:
            return False
        if kind == "subscribe":  # before sending: the answer may be read while the send waits
            for channel in channels:
                self._asked.setdefault(channel, deque()).append(done)
        try:
            getattr(pubsub, kind)(*channels)
        except (redis.RedisError, OSError):
            return False  # the listener notices, starts again and lets the waiters go
        return True

    def _confirmed(self, channel: str) -> None:
        asked = self._asked.get(channel)
        if asked:
            done = asked.popleft()
            if not asked:
                del self._asked[channel]
            if done is not None:
                done.send()

    def _release_waiters(self) -> None:
        """The subscription is gone: no confirmation will come; joins go on (they resync)."""
        asked, self._asked, self._pubsub = self._asked, {}, None
        for entries in asked.values():
            for done in entries:
                if done is not None and not done.ready():
                    done.send()

    # -- publishing ------------------------------------------------------------------------------
    def _publish(self, data) -> None:
        """Queue ``data`` for the other processes (this process has handled it already)."""
        if self._queue is None:
            self._queue = self.server.eio.create_queue()
            self._empty = self.server.eio.get_queue_empty_exception()
            self.server.start_background_task(self._publisher)
        if self._queue.qsize() >= MAX_BACKLOG:
            try:
                self._forget(self._queue.get_nowait())
            except self._empty:
                pass
        self._queue.put(data)

    def _forget(self, data) -> None:
        """An event that will never reach the other processes: resync its room there later."""
        room = data.get("room") if isinstance(data, dict) else None
        if data.get("method") != "emit" or room is None or not isinstance(room, str):
            self._lost_all = True
        else:
            self._lost_rooms.add(room)

    def _publisher(self) -> None:
        client, pause = None, 0.1
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except self._empty:
                    break
            while True:  # until Redis takes this batch (newer events wait behind it, bounded)
                try:
                    client = client or redis.Redis.from_url(self.redis_url, **self._options)
                    self._send(client, batch)
                    pause = 0.1
                    break
                except (redis.RedisError, OSError) as exc:
                    log.warning("message queue: cannot publish %d events (%s); retrying",
                                len(batch), exc)
                    client = None
                    if self._queue.qsize() + len(batch) > MAX_BACKLOG:
                        for data in batch:
                            self._forget(data)
                        break
                    self.server.sleep(pause)
                    pause = min(pause * 2, RETRY_CAP)

    def _send(self, client: redis.Redis, batch: list) -> None:
        if time.monotonic() - self._checked > LEGACY_CHECK:
            counts = dict(client.pubsub_numsub(self.channel, self.mark))
            self._legacy = counts[self.channel.encode()] > counts[self.mark.encode()]
            self._checked = time.monotonic()
        pipe = client.pipeline(transaction=False)
        for data in batch:
            channel = self._channel_of(data)
            pipe.publish(channel, self.json.dumps(data))
            if self._legacy and channel != self.channel:
                pipe.publish(self.channel, self.json.dumps({"routed": True, **data}))
        if self._lost_all or self._lost_rooms:
            rooms = None if self._lost_all else sorted(self._lost_rooms)
            log.warning("message queue: events for %s were dropped; asking clients to catch up",
                        "every room" if rooms is None else f"{len(rooms)} rooms")
            pipe.publish(self.channel, self.json.dumps(self._resync_message(rooms)))
            self._lost_all, self._lost_rooms = False, set()
        started = time.perf_counter()
        pipe.execute()
        metrics.QUEUE.observe(time.perf_counter() - started)

    def _resync_message(self, rooms: list[str] | None) -> dict:
        """A message-queue emit of ``resync`` to ``rooms`` (or everyone) on the other processes."""
        return {"method": "emit", "event": "resync", "data": [resync_event(rooms, "message_queue")],
                "binary": False, "namespace": "/", "room": rooms, "skip_sid": None,
                "callback": None, "host_id": self.host_id}

    # -- subscribing -----------------------------------------------------------------------------
    def _listen(self):
        """The events other processes publish; after any gap, this process's clients resync."""
        self._listener = greenlet.getcurrent()
        self._release_waiters()  # python-socketio starts _listen again after an error in it
        shared = self.channel.encode()
        lost, pause = False, 0.1
        while True:
            pubsub = None
            try:
                client = redis.Redis.from_url(self.redis_url, **self._options)
                pubsub = client.pubsub()
                self._subscribe_all(pubsub)
                heard = pinged = time.monotonic()
                while True:
                    message = pubsub.get_message(timeout=PING_EVERY)
                    now = time.monotonic()
                    if message is not None:
                        heard = now
                        kind = message["type"]
                        if kind == "message":
                            data = message["data"]
                            if message["channel"] == shared:
                                try:
                                    data = self.json.loads(data)
                                except ValueError:
                                    continue  # not an event (python-socketio drops it too)
                                if isinstance(data, dict) and data.get("routed"):
                                    continue  # a copy for older processes: we have its room's
                            yield data
                        elif kind == "subscribe":
                            channel = message["channel"]
                            self._confirmed(channel.decode() if isinstance(channel, bytes)
                                            else channel)
                            self.subscribed, pause = True, 0.1
                            if lost:
                                lost = False
                                log.warning("message queue: subscribed again; clients catch up")
                                self.emit("resync", resync_event(None, "message_queue"), "/",
                                          ignore_queue=True)
                        continue
                    if now - heard > STALL:
                        raise TimeoutError(f"no answer from Redis in {STALL:.0f} s")
                    if now - pinged >= PING_EVERY:
                        pubsub.ping()
                        pinged = now
            except (redis.RedisError, OSError) as exc:
                if not lost:
                    log.warning("message queue: subscription lost (%s); other processes' "
                                "events wait until it is back", exc)
                lost, self.subscribed = True, False
                self._release_waiters()
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except (redis.RedisError, OSError):
                        pass
                self.server.sleep(pause)
                pause = min(pause * 2, RETRY_CAP)

    def _subscribe_all(self, pubsub) -> None:
        """Subscribe a new connection to the shared channel and every room channel wanted, then
        make it the live one (rooms entered meanwhile are caught by the second look)."""
        sent: set[str] = set()
        todo = [self.channel, self.mark, *self._wanted]
        while todo:
            for i in range(0, len(todo), SUBSCRIBE_CHUNK):
                chunk = todo[i:i + SUBSCRIBE_CHUNK]
                for channel in chunk:
                    self._asked.setdefault(channel, deque()).append(None)
                pubsub.subscribe(*chunk)  # may switch greenlets: rooms may be entered meanwhile
            sent.update(todo)
            todo = list(self._wanted - sent)
        stale = sent - self._wanted - {self.channel, self.mark}  # rooms left meanwhile
        if stale:
            pubsub.unsubscribe(*stale)
        self._pubsub = pubsub
