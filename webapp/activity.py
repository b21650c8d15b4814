"""Who is at their screen: when each account last had a Parley page in the foreground.

A page in the foreground says so (``active`` with ``{"active": true}``) when it comes to the front
and then about once a minute while it stays there; a page in the background, or closed, says
nothing. So "idle for N seconds" means no page of that account was in the foreground for N
seconds: the person is "away" after AWAY_AFTER, and notifications (push, e-mail) go to people
idle for their own threshold. Bots and scripts (tokens) never report, so they are always idle.

With Redis every process sees every account's last report (one key per account, kept a day);
without it, or while Redis is down, this process's own reports count.
"""
from __future__ import annotations

import time
from typing import Any

from webapp import validation as v
from webapp.errors import InvalidPayload
from webapp.presence.shared import client
from webapp.redisguard import Breaker

KEEP_SECONDS = 24 * 3600  # longer than any idle threshold worth configuring


class Activity:
    """The last foreground report per account (a Unix time), shared through Redis if there is one."""

    def __init__(self) -> None:
        self._local: dict[int, float] = {}
        self._redis = None
        self._breaker = Breaker("activity")
        self.away_after = 300.0

    def init_app(self, app) -> None:
        self._local = {}
        url = app.config.get("REDIS_URL")
        self._redis = client(url, app.config["REDIS_TIMEOUT"]) if url else None
        self._breaker = Breaker("activity")
        self.away_after = app.config["AWAY_AFTER"]
        app.extensions["parley.activity"] = self

    def touch(self, user_id: int, now: float | None = None) -> None:
        """``user_id`` has a page in the foreground now."""
        now = time.time() if now is None else now
        self._local[user_id] = now
        if self._redis is not None:
            self._breaker.call(self._redis.set, f"parley:active:{user_id}", repr(now),
                               ex=KEEP_SECONDS)

    def last_active(self, user_ids: list[int]) -> dict[int, float | None]:
        """When each account last reported a page in the foreground (None: not within a day)."""
        seen: dict[int, float | None] = {uid: self._local.get(uid) for uid in user_ids}
        if self._redis is None or not user_ids:
            return seen
        keys = [f"parley:active:{uid}" for uid in user_ids]
        shared = self._breaker.call(self._redis.mget, keys)
        for uid, value in zip(user_ids, shared or (), strict=False):
            if value is not None:
                seen[uid] = max(float(value), seen[uid] or 0.0)
        return seen

    def idle_seconds(self, user_id: int, now: float | None = None) -> float:
        """Seconds since ``user_id`` last had a page in the foreground (infinity: not today)."""
        last = self.last_active([user_id])[user_id]
        now = time.time() if now is None else now
        return float("inf") if last is None else max(0.0, now - last)

    def away(self, user_ids: list[int], now: float | None = None) -> dict[int, bool]:
        """Whether each account counts as away: no page in the foreground for AWAY_AFTER."""
        now = time.time() if now is None else now
        return {uid: last is None or now - last > self.away_after
                for uid, last in self.last_active(user_ids).items()}


def report(activity: Activity, member: Any, data: Any) -> dict:
    """The ``active`` operation: a page says it is in the foreground (``true``) or not."""
    data = v.payload(data)
    active = data.get("active")
    if not isinstance(active, bool):
        raise InvalidPayload("'active' must be true or false.")
    if active and member.user_id is not None:  # guests have no account to be away from
        activity.touch(member.user_id)
    return {"ok": True}
