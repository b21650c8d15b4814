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

Clients' part (docs/protocol.md, ``resync``): catch up every joined room, or the rooms named.
"""
from __future__ import annotations

import logging
import time

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
        pipe = client.pipeline(transaction=False)
        for data in batch:
            pipe.publish(self.channel, self.json.dumps(data))
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
        lost, pause = False, 0.1
        while True:
            pubsub = None
            try:
                client = redis.Redis.from_url(self.redis_url, **self._options)
                pubsub = client.pubsub()
                pubsub.subscribe(self.channel)
                heard = pinged = time.monotonic()
                while True:
                    message = pubsub.get_message(timeout=PING_EVERY)
                    now = time.monotonic()
                    if message is not None:
                        heard = now
                        kind = message["type"]
                        if kind == "message":
                            yield message["data"]
                        elif kind == "subscribe":
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
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except (redis.RedisError, OSError):
                        pass
                self.server.sleep(pause)
                pause = min(pause * 2, RETRY_CAP)
