"""Redis calls on a request's path that cannot hold the chat up when Redis is in trouble.

A hung Redis (a stopped process, a full network buffer) answers nothing, and redis-py's defaults
-- no socket timeout, three retries with backoff -- would make every ack wait for it. So request
paths talk to Redis with a short timeout and no retry (``client_options``), and a ``Breaker``
remembers a failure: for ``cooldown`` seconds after one, callers skip Redis at once and use their
local fallback; then one call tries again. A Redis outage costs one short wait per cooldown
instead of one long wait per call, and is logged once when it starts and once when it ends.
"""
from __future__ import annotations

import logging
import time

from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

log = logging.getLogger(__name__)

COOLDOWN = 2.0  # seconds without trying Redis after it failed


def client_options(timeout: float) -> dict:
    """redis-py options for a request path: fail after ``timeout`` seconds, never retry."""
    return {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
        "retry_on_timeout": False,
    }


class Breaker:
    """Whether to try Redis now, for one kind of use (rate limits, presence)."""

    def __init__(self, name: str, cooldown: float = COOLDOWN) -> None:
        self.name, self.cooldown = name, cooldown
        self.down = False
        self._retry_at = 0.0

    def allow(self) -> bool:
        return not self.down or time.monotonic() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            log.warning("%s: Redis failed (%s); going on without it, trying again every %.0f s",
                        self.name, exc, self.cooldown)
        self.down = True
        self._retry_at = time.monotonic() + self.cooldown

    def succeeded(self) -> None:
        if self.down:
            log.info("%s: Redis answers again", self.name)
            self.down = False

    def call(self, fn, *args, fallback=None, **kwargs):
        """``fn(*args, **kwargs)``, or ``fallback`` while Redis is known down or when it fails."""
        if not self.allow():
            return fallback
        try:
            result = fn(*args, **kwargs)
        except RedisError as exc:
            self.failed(exc)
            return fallback
        self.succeeded()
        return result
