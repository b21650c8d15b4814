"""Rate limits on chat operations, logins and registrations, kept where every process sees them.

Built on ``limits`` (the library under Flask-Limiter) so the counters live in Redis when
``REDIS_URL`` is set and in memory otherwise; limits therefore hold across reconnects and, with
Redis, across processes.
"""
from __future__ import annotations

import threading
import time
from typing import ClassVar

from flask import Flask
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from webapp.redisguard import Breaker, client_options

# Every RATE_LIMIT_<ACTION> setting is a limit on <action> (lower case), except these two, which
# say how limits apply: a new operation gets its limit by adding its setting to webapp/config.py.
NOT_ACTIONS = ("RATE_LIMIT_FLOOD", "RATE_LIMIT_ADDRESS_FACTOR")


def actions(config) -> list[str]:
    """The actions ``config`` sets a limit for: ``RATE_LIMIT_MESSAGE`` -> "message"."""
    return [key[len("RATE_LIMIT_"):].lower() for key in config
            if key.startswith("RATE_LIMIT_") and key not in NOT_ACTIONS]


# Limits an address gets as stated rather than multiplied: they are about guessing passwords and
# minting accounts, which sharing an address does not make more legitimate.
PER_ADDRESS_AS_STATED = ("login", "register")


class LocalCounters(Storage):
    """Fixed-window counters in this process's memory (``parley-memory://``), for ``limits``.

    ``limits``' own ``memory://`` storage starts a timer thread on a hit whenever its last one has
    ended and, 10 ms later, walks every key it holds to drop the expired ones: in a busy process a
    new thread about every message and a walk of every user's counters a hundred times a second
    (30,000 keys: 4 ms a walk). Here a counter past its window counts from zero when next hit or
    read, and the expired ones are dropped by a walk at most every ``SWEEP_S`` seconds.
    """

    STORAGE_SCHEME: ClassVar[list[str]] = ["parley-memory"]
    SWEEP_S = 10.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._counts: dict[str, int] = {}
        self._ends: dict[str, float] = {}  # when each key's window ends
        self._lock = threading.Lock()  # a green lock under eventlet; real threads in tests
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if self._ends.get(key, 0.0) <= now:  # a window begins
                self._counts[key] = 0
                self._ends[key] = now + expiry
            count = self._counts[key] = self._counts[key] + amount
            if now >= self._next_sweep:
                self._sweep(now)
        return count

    def get(self, key: str) -> int:
        return self._counts.get(key, 0) if self._ends.get(key, 0.0) > time.time() else 0

    def get_expiry(self, key: str) -> float:
        return max(time.time(), self._ends.get(key, 0.0))

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = len(self._counts)
            self._counts.clear()
            self._ends.clear()
        return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
            self._ends.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)

    def _sweep(self, now: float) -> None:
        for key in [key for key, end in self._ends.items() if end <= now]:
            del self._counts[key], self._ends[key]
        self._next_sweep = now + self.SWEEP_S


class RateLimits:
    """``hit(action, *keys)`` counts one use for every key and says whether all are in bounds."""

    def __init__(self) -> None:
        self._limiter: FixedWindowRateLimiter | None = None
        self._limits: dict[str, RateLimitItem] = {}

    def init_app(self, app: Flask) -> None:
        uri = app.config.get("RATELIMIT_STORAGE_URI") or app.config["REDIS_URL"] or "parley-memory://"
        if uri == "memory://":
            uri = "parley-memory://"  # the same counters, without limits' expiry thread
        local = uri.startswith("parley-memory")
        options = {} if local else client_options(app.config["REDIS_TIMEOUT"])
        self._limiter = FixedWindowRateLimiter(storage_from_string(uri, **options))
        # While Redis is down (or hung), this process counts on its own: limits per process
        # rather than none, and no event waits on Redis (webapp/redisguard.py).
        self._local = FixedWindowRateLimiter(storage_from_string("parley-memory://"))
        self._breaker = Breaker("rate limits")
        self._limits = {action: parse(app.config[f"RATE_LIMIT_{action.upper()}"])
                        for action in actions(app.config)}
        self._limits["flood"] = parse(app.config["RATE_LIMIT_FLOOD"])
        # Many people can share one address (NAT, an office), so an address gets a multiple.
        factor = app.config["RATE_LIMIT_ADDRESS_FACTOR"]
        self._address_limits = {
            action: item if action in PER_ADDRESS_AS_STATED
            else type(item)(item.amount * factor, item.multiples)
            for action, item in self._limits.items()
        }
        app.extensions["parley.ratelimits"] = self

    def hit(self, action: str, *keys: str) -> bool:
        """Count one ``action`` for each key (``addr:...`` keys get the address limit)."""
        # Count every key even after one fails, so a flood is charged to all its identities.
        results = self._breaker.call(self._hit, self._limiter, action, keys)
        if results is None:
            results = self._hit(self._local, action, keys)
        return all(results)

    def _hit(self, limiter: FixedWindowRateLimiter, action: str, keys) -> list[bool]:
        return [
            limiter.hit(
                (self._address_limits if key.startswith("addr:") else self._limits)[action],
                action, key,
            )
            for key in keys
        ]

    def retry_after(self, action: str, *keys: str) -> float:
        """Seconds until every one of ``keys`` may do ``action`` again (0 if it may now)."""
        wait = 0.0
        limiter = self._limiter if self._breaker.allow() else self._local
        try:
            for key in keys:
                item = (self._address_limits if key.startswith("addr:") else self._limits)[action]
                stats = limiter.get_window_stats(item, action, key)
                if stats.remaining <= 0:
                    wait = max(wait, stats.reset_time - time.time())
        except Exception:  # noqa: BLE001 - storage down: limits are off anyway
            return 0.0
        return round(max(wait, 0.0), 1)

    def reset(self) -> None:
        self._limiter.storage.reset()
        self._local.storage.reset()
