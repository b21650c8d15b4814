"""Who is online and who is in which room.

This is the single-process implementation: plain dicts guarded by a lock (cheap under eventlet,
needed under the threading async mode). Scale-out replaces it with a Redis-backed one that has the
same methods, so nothing above this module knows where presence lives.
"""
from __future__ import annotations

import threading
from collections import defaultdict


class Presence:
    """Name reservations and room membership, keyed by connection id (the Socket.IO sid)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}  # folded name -> sid holding it
        self._rooms: dict[str, dict[str, set[str]]] = defaultdict(dict)  # room -> user -> sids
        self._sid_rooms: dict[str, set[str]] = defaultdict(set)

    def init_app(self, app) -> None:
        """Bind to ``app``; a new app starts with nobody online (tests build many apps)."""
        self.reset()
        app.extensions["parley.presence"] = self

    def reset(self) -> None:
        with self._lock:
            self._names.clear()
            self._rooms.clear()
            self._sid_rooms.clear()

    # -- names ---------------------------------------------------------------------------------
    def claim_name(self, name: str, sid: str) -> bool:
        """Reserve ``name`` for ``sid``; False when another connection holds it (case-insensitive)."""
        key = name.casefold()
        with self._lock:
            holder = self._names.get(key)
            if holder is not None and holder != sid:
                return False
            self._names[key] = sid
            return True

    def release_name(self, name: str, sid: str) -> None:
        key = name.casefold()
        with self._lock:
            if self._names.get(key) == sid:
                del self._names[key]

    # -- rooms ---------------------------------------------------------------------------------
    def add(self, room: str, user: str, sid: str) -> bool:
        """Record that ``sid`` (acting as ``user``) is in ``room``; True if that is news."""
        with self._lock:
            sids = self._rooms[room].setdefault(user, set())
            if sid in sids:
                return False
            sids.add(sid)
            self._sid_rooms[sid].add(room)
            return True

    def remove(self, room: str, user: str, sid: str) -> bool:
        """Forget ``sid`` in ``room``; True if it was there."""
        with self._lock:
            users = self._rooms.get(room, {})
            sids = users.get(user)
            if not sids or sid not in sids:
                return False
            sids.discard(sid)
            if not sids:
                del users[user]
            if not users:
                self._rooms.pop(room, None)
            self._sid_rooms[sid].discard(room)
            if not self._sid_rooms[sid]:
                del self._sid_rooms[sid]
            return True

    def is_member(self, room: str, sid: str) -> bool:
        with self._lock:
            return room in self._sid_rooms.get(sid, ())

    def rooms_of(self, sid: str) -> list[str]:
        with self._lock:
            return sorted(self._sid_rooms.get(sid, ()))

    def members(self, room: str) -> list[str]:
        with self._lock:
            return sorted(self._rooms.get(room, {}), key=str.casefold)
