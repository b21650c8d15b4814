"""Rate limits on chat operations, logins and registrations, kept where every process sees them.

Built on ``limits`` (the library under Flask-Limiter) so the counters live in Redis when
``REDIS_URL`` is set and in memory otherwise; limits therefore hold across reconnects and, with
Redis, across processes.
"""
from __future__ import annotations

import time

from flask import Flask
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from webapp.redisguard import Breaker, client_options

ACTIONS = ("message", "edit", "react", "typing", "join", "create_room", "invite", "history", "search",
           "upload", "login", "register", "block", "read", "mention_all")
# Limits an address gets as stated rather than multiplied: they are about guessing passwords and
# minting accounts, which sharing an address does not make more legitimate.
PER_ADDRESS_AS_STATED = ("login", "register")


class RateLimits:
    """``hit(action, *keys)`` counts one use for every key and says whether all are in bounds."""

    def __init__(self) -> None:
        self._limiter: FixedWindowRateLimiter | None = None
        self._limits: dict[str, RateLimitItem] = {}

    def init_app(self, app: Flask) -> None:
        uri = app.config.get("RATELIMIT_STORAGE_URI") or app.config["REDIS_URL"] or "memory://"
        options = {} if uri.startswith("memory") else client_options(app.config["REDIS_TIMEOUT"])
        self._limiter = FixedWindowRateLimiter(storage_from_string(uri, **options))
        # While Redis is down (or hung), this process counts on its own: limits per process
        # rather than none, and no event waits on Redis (webapp/redisguard.py).
        self._local = FixedWindowRateLimiter(storage_from_string("memory://"))
        self._breaker = Breaker("rate limits")
        self._limits = {action: parse(app.config[f"RATE_LIMIT_{action.upper()}"]) for action in ACTIONS}
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
