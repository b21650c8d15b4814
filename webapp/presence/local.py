"""This process's own connections: name reservations, room membership and connections per address,
keyed by Socket.IO sid.

Plain dicts guarded by a lock (cheap under eventlet, needed under the threading async mode). On
its own it is the whole truth of a single-process server; with Redis it is the part of the truth
this process contributes, which it re-publishes whenever Redis lost it.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from typing import NamedTuple


class Change(NamedTuple):
    """What one connection entering or leaving a room changed."""

    connection: bool  # it entered (left) the room: it was not (was) in it
    user: bool  # and it was the user's first (last) connection there: news for the room

    def __bool__(self) -> bool:  # "was it news?" as before: the connection's part
        return self.connection


NO_CHANGE = Change(connection=False, user=False)


class LocalPresence:
    """Name reservations and room membership of the connections this process serves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, str] = {}  # folded name -> sid holding it
        self._rooms: dict[str, dict[str, set[str]]] = defaultdict(dict)  # room -> user -> sids
        self._sid_rooms: dict[str, set[str]] = defaultdict(set)
        self._addresses: dict[str, int] = {}  # address -> connections from it
        self._sid_address: dict[str, str] = {}  # sid -> the address it is counted against

    def reset(self) -> None:
        with self._lock:
            self._names.clear()
            self._rooms.clear()
            self._sid_rooms.clear()
            self._addresses.clear()
            self._sid_address.clear()

    # -- connections per address ---------------------------------------------------------------
    def hold_address(self, address: str, sid: str, limit: int) -> bool:
        """Count ``sid`` against ``address``; False if ``address`` already has ``limit``."""
        with self._lock:
            if sid in self._sid_address:
                return True
            count = self._addresses.get(address, 0)
            if count >= limit:
                return False
            self._addresses[address] = count + 1
            self._sid_address[sid] = address
            return True

    def release_address(self, sid: str) -> str | None:
        """Stop counting ``sid``; answer the address it was counted against, if it was."""
        with self._lock:
            address = self._sid_address.pop(sid, None)
            if address is None:
                return None
            left = self._addresses[address] - 1
            if left:
                self._addresses[address] = left
            else:
                del self._addresses[address]
            return address

    def addresses(self) -> dict[str, int]:
        """A snapshot: address -> connections from it."""
        with self._lock:
            return dict(self._addresses)

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

    def release_name(self, name: str, sid: str) -> bool:
        """Drop the reservation if ``sid`` holds it; True if it did."""
        key = name.casefold()
        with self._lock:
            if self._names.get(key) != sid:
                return False
            del self._names[key]
            return True

    def names(self) -> dict[str, str]:
        """A snapshot: folded name -> sid."""
        with self._lock:
            return dict(self._names)

    # -- rooms ---------------------------------------------------------------------------------
    def add(self, room: str, user: str, sid: str) -> Change:
        """Record that ``sid`` (acting as ``user``) is in ``room``: what that changed here."""
        with self._lock:
            sids = self._rooms[room].setdefault(user, set())
            if sid in sids:
                return NO_CHANGE
            sids.add(sid)
            self._sid_rooms[sid].add(room)
            return Change(connection=True, user=len(sids) == 1)

    def remove(self, room: str, user: str, sid: str) -> Change:
        """Forget ``sid`` in ``room``: what that changed here (``user``: their last one here)."""
        with self._lock:
            users = self._rooms.get(room, {})
            sids = users.get(user)
            if not sids or sid not in sids:
                return NO_CHANGE
            sids.discard(sid)
            if not sids:
                del users[user]
            if not users:
                self._rooms.pop(room, None)
            self._sid_rooms[sid].discard(room)
            if not self._sid_rooms[sid]:
                del self._sid_rooms[sid]
            return Change(connection=True, user=not sids)

    def connections(self, room: str, user: str) -> int:
        """How many of this process's connections are in ``room`` as ``user``."""
        with self._lock:
            return len(self._rooms.get(room, {}).get(user, ()))

    def is_member(self, room: str, sid: str) -> bool:
        with self._lock:
            return room in self._sid_rooms.get(sid, ())

    def rooms_of(self, sid: str) -> list[str]:
        with self._lock:
            return sorted(self._sid_rooms.get(sid, ()))

    def members(self, room: str) -> list[str]:
        with self._lock:
            return sorted(self._rooms.get(room, {}), key=str.casefold)

    def memberships(self) -> dict[str, dict[str, int]]:
        """A snapshot: room -> user -> number of connections."""
        with self._lock:
            return {room: {u: len(s) for u, s in users.items()} for room, users in self._rooms.items()}
