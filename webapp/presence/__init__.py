"""Who is online and who is in which room, for one process or for many.

``Presence`` is the one object the rest of the app talks to. Without ``REDIS_URL`` it is the
process's own dicts (``LocalPresence``). With it, per-connection state (which rooms a sid is in)
stays local, because a connection lives in one process, while nickname reservations and room
members are shared through Redis (``SharedPresence``) so every process sees every user.

A Redis outage must not take the chat down: a new connection is refused with ``unavailable``
(its nickname cannot be checked), everything else goes on with this process's local view and is
republished by the heartbeat once Redis is back.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from webapp.errors import AppError
from webapp.presence.local import Change, LocalPresence
from webapp.presence.shared import SharedPresence
from webapp.redisguard import Breaker

log = logging.getLogger(__name__)


class Unavailable(AppError):
    code = "unavailable"
    status = 503


class Presence:
    """Name reservations, room membership and connections per address, keyed by connection id
    (the Socket.IO sid)."""

    def __init__(self) -> None:
        self._local = LocalPresence()
        self._shared: SharedPresence | None = None
        self._running = False
        self._breaker = Breaker("presence")

    def init_app(self, app) -> None:
        """Bind to ``app``; a new app starts with nobody online (tests build many apps)."""
        self.reset()
        url = app.config.get("REDIS_URL")
        self._shared = SharedPresence(url, ttl=app.config["PRESENCE_TTL"],
                                      timeout=app.config["REDIS_TIMEOUT"]) if url else None
        self._breaker = Breaker("presence")
        app.extensions["parley.presence"] = self

    def reset(self) -> None:
        self._local.reset()
        if self._shared is not None:
            self._shared.dirty = True
            self._guard(self._shared.resync, self._local)

    # -- names ---------------------------------------------------------------------------------
    def claim_name(self, name: str, sid: str) -> bool:
        """Reserve ``name`` for ``sid``; False when another connection holds it (case-insensitive)."""
        if not self._local.claim_name(name, sid):
            return False
        if self._shared is None:
            return True
        claimed = self._breaker.call(self._shared.claim_name, name.casefold(), sid)
        if claimed is None:  # Redis is down: the name cannot be checked on other processes
            self._local.release_name(name, sid)
            self._shared.dirty = True
            raise Unavailable("The chat is briefly unavailable; try again in a moment.")
        if not claimed:
            self._local.release_name(name, sid)
        return claimed

    def release_name(self, name: str, sid: str) -> None:
        if self._local.release_name(name, sid) and self._shared is not None:
            self._guard(self._shared.release_name, name.casefold(), sid)

    # -- connections per address ---------------------------------------------------------------
    def hold_connection(self, address: str, sid: str, limit: int) -> bool:
        """Count ``sid`` among ``address``'s connections; False if it has ``limit`` already.

        With Redis the count covers every live process; while Redis is down, this process's own.
        """
        if not self._local.hold_address(address, sid, limit):
            return False
        if self._shared is None:
            return True
        held = self._breaker.call(self._shared.hold_address, address, limit)
        if held is None:  # Redis is down: this process counts alone; the heartbeat republishes
            self._shared.dirty = True
            return True
        if not held:
            self._local.release_address(sid)
        return held

    def release_connection(self, sid: str) -> None:
        """Stop counting ``sid`` against its address (harmless if it was never counted)."""
        address = self._local.release_address(sid)
        if address is not None and self._shared is not None:
            self._guard(self._shared.release_address, address)

    def connections_from(self, address: str) -> int:
        """This process's connections from ``address``."""
        return self._local.addresses().get(address, 0)

    # -- rooms ---------------------------------------------------------------------------------
    def add(self, room: str, user: str, sid: str) -> Change:
        """Record that ``sid`` (acting as ``user``) is in ``room``: whether that is news for the
        connection, and for the room (the user's first connection there, on any process)."""
        return self._shared_news(room, user, self._local.add(room, user, sid))

    def remove(self, room: str, user: str, sid: str) -> Change:
        """Forget ``sid`` in ``room``: whether it was there, and whether the user has now left
        the room (their last connection there, on any process)."""
        return self._shared_news(room, user, self._local.remove(room, user, sid))

    def _shared_news(self, room: str, user: str, change: Change) -> Change:
        """Publish a local change; a user's first (last) connection here is news for the room
        only if no other live process has them there (while Redis is down: this process's view)."""
        if not change.connection or self._shared is None:
            return change
        if not change.user:
            self._publish(room, user)
            return change
        connections = self._local.connections(room, user)
        elsewhere = self._guard(self._shared.set_member_elsewhere, room, user, connections)
        return Change(connection=True, user=not elsewhere)

    def is_member(self, room: str, sid: str) -> bool:
        return self._local.is_member(room, sid)

    def rooms_of(self, sid: str) -> list[str]:
        return self._local.rooms_of(sid)

    def rooms_with(self, user: str) -> list[str]:
        """The rooms ``user`` is in, on every live process (this one's alone while Redis is
        down): where a change of their profile is announced."""
        rooms = {room for room, users in self._local.memberships().items() if user in users}
        if self._shared is not None:
            rooms |= self._guard(self._shared.rooms_with, user) or set()
        return sorted(rooms)

    def members(self, room: str) -> list[str]:
        """The names in ``room`` on every live process (this one's alone while Redis is down)."""
        names = set(self._local.members(room))
        if self._shared is not None:
            names |= self._guard(self._shared.members, room) or set()
        return sorted(names, key=str.casefold)

    # -- cluster duties ------------------------------------------------------------------------
    def start(self, socketio, on_vanished: Callable[[str, str], None], interval: float) -> None:
        """Run the heartbeat in the background (server processes only; a no-op without Redis).

        ``on_vanished(room, user)`` is called for each user whose only connections were on a
        process that died.
        """
        if self._shared is None or self._running:
            return
        self._running = True
        socketio.start_background_task(self._heartbeat, socketio, on_vanished, interval)

    def stop(self) -> None:
        """Stop the heartbeat and let the other processes reap this one's entries now."""
        self._running = False
        if self._shared is not None:
            self._guard(self._shared.forget)

    def redis_ok(self) -> bool | None:
        """Whether Redis answers; None when there is no Redis."""
        if self._shared is None:
            return None
        return bool(self._guard(self._shared.ping))

    def _heartbeat(self, socketio, on_vanished, interval: float) -> None:
        while self._running:
            for room, user in self._guard(self._shared.beat, self._local) or []:
                try:
                    on_vanished(room, user)
                except Exception:  # one failed announcement must not stop the heartbeat
                    log.exception("announcing that %s left %s failed", user, room)
            socketio.sleep(interval)

    def _publish(self, room: str, user: str) -> None:
        if self._shared is not None:
            self._guard(self._shared.set_member, room, user, self._local.connections(room, user))

    def _guard(self, call, *args):
        """Run a Redis call, or skip it while Redis is known down (``Breaker``); on failure or
        skip mark for republishing and answer None. The heartbeat republishes once it is back."""
        result = self._breaker.call(call, *args)
        if self._breaker.down:
            self._shared.dirty = True
        return result
