"""Presence shared by every server process through Redis.

Each process publishes what its own connections contribute and keeps a heartbeat key alive;
readers count only the entries of processes whose heartbeat is alive, so a crashed process's
users disappear when its key expires (``ttl`` seconds), and the next heartbeat of any live
process reaps the leftovers and reports who vanished. Keys (``parley:`` prefix):

    proc:<proc>       heartbeat, value "host:pid", expires after ttl
    procs             set of processes that may have entries
    names             hash: folded nickname -> "<proc>|<sid>"
    room:<room>       hash: "<proc>:<user>" -> that process's connections in the room
    rooms-of:<proc>   set of rooms where the process has entries (for reaping)
    conns:<address>   hash: <proc> -> that process's connections from the address
    addrs-of:<proc>   set of addresses the process counts connections from (for reaping)

The scripts read keys they are not passed, so this needs one Redis, not Redis Cluster.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid

import redis

from webapp.presence.local import LocalPresence
from webapp.redisguard import client_options

log = logging.getLogger(__name__)

# Held by a live process -> refuse; held by a dead one (no heartbeat) -> take it over.
CLAIM = """
local holder = redis.call('HGET', KEYS[1], ARGV[1])
if holder and holder ~= ARGV[2] then
  local proc = string.match(holder, '^([^|]*)|')
  if proc and redis.call('EXISTS', ARGV[3] .. proc) == 1 then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""

MEMBERS = """
local alive, out = {}, {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  local sep = string.find(field, ':', 1, true)
  local proc = string.sub(field, 1, sep - 1)
  if alive[proc] == nil then alive[proc] = redis.call('EXISTS', ARGV[1] .. proc) == 1 end
  if alive[proc] then out[#out + 1] = string.sub(field, sep + 1) end
end
return out
"""

# The rooms a user is in on any live process (profile events): each live process's rooms, and
# in each whether the user has connections there through that process.
ROOMS_WITH = """
local out = {}
for _, proc in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. proc) == 1 then
    for _, room in ipairs(redis.call('SMEMBERS', ARGV[2] .. proc)) do
      if redis.call('HEXISTS', ARGV[3] .. room, proc .. ':' .. ARGV[4]) == 1 then out[#out + 1] = room end
    end
  end
end
return out
"""

# Set this process's count for a user in a room (0: remove it) and answer whether the user is in
# the room on another live process, in one step: two processes changing the same user at once
# are then ordered, so one of them sees the user's first arrival (or last departure) as news.
SET_MEMBER = """
local elsewhere = 0
for _, proc in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if proc ~= ARGV[1] and redis.call('HEXISTS', KEYS[1], proc .. ':' .. ARGV[2]) == 1
     and redis.call('EXISTS', ARGV[4] .. proc) == 1 then
    elsewhere = 1
    break
  end
end
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
end
return elsewhere
"""

# One more connection from an address, unless its connections on live processes (this one's
# always counted, registered yet or not) already reach the limit.
HOLD = """
local total, fields = 0, redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local proc = fields[i]
  if proc == ARGV[1] or redis.call('EXISTS', ARGV[3] .. proc) == 1 then
    total = total + tonumber(fields[i + 1])
  end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[4])
return 1
"""

UNHOLD = """
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 1
"""


def client(url: str, timeout: float = 0.5) -> redis.Redis:
    """A Redis client that fails fast: a request handler should not hang on a Redis outage."""
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30,
                                **client_options(timeout))


class SharedPresence:
    """This process's view of the shared presence in Redis; every call may raise RedisError."""

    def __init__(self, url: str, ttl: float, prefix: str = "parley:", timeout: float = 0.5) -> None:
        self.redis = client(url, timeout)
        self.ttl = max(1, int(ttl))
        self.proc = uuid.uuid4().hex[:12]
        self.label = f"{socket.gethostname()}:{os.getpid()}"
        self.prefix = prefix
        self.dirty = True  # nothing published yet: the first heartbeat publishes everything
        self._claim = self.redis.register_script(CLAIM)
        self._release = self.redis.register_script(RELEASE)
        self._members = self.redis.register_script(MEMBERS)
        self._hold = self.redis.register_script(HOLD)
        self._unhold = self.redis.register_script(UNHOLD)
        self._rooms_with = self.redis.register_script(ROOMS_WITH)
        self._set_member = self.redis.register_script(SET_MEMBER)

    # -- keys ----------------------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @property
    def _proc_prefix(self) -> str:
        return self._key("proc", "")

    # -- writes for this process's connections -------------------------------------------------
    def register(self) -> None:
        """Announce this process alive (the heartbeat repeats it)."""
        pipe = self.redis.pipeline()
        pipe.set(self._key("proc", self.proc), self.label, ex=self.ttl)
        pipe.sadd(self._key("procs"), self.proc)
        pipe.execute()

    def claim_name(self, folded: str, sid: str) -> bool:
        holder = f"{self.proc}|{sid}"
        return bool(self._claim(keys=[self._key("names")], args=[folded, holder, self._proc_prefix]))

    def release_name(self, folded: str, sid: str) -> None:
        self._release(keys=[self._key("names")], args=[folded, f"{self.proc}|{sid}"])

    def set_member(self, room: str, user: str, connections: int) -> None:
        """Publish how many of this process's connections are in ``room`` as ``user``."""
        field = f"{self.proc}:{user}"
        pipe = self.redis.pipeline()
        if connections:
            pipe.hset(self._key("room", room), field, connections)
            pipe.sadd(self._key("rooms-of", self.proc), room)
        else:
            pipe.hdel(self._key("room", room), field)
        pipe.execute()

    def set_member_elsewhere(self, room: str, user: str, connections: int) -> bool:
        """``set_member``, answering whether ``user`` is in ``room`` on another live process
        (one atomic step: see SET_MEMBER)."""
        keys = [self._key("room", room), self._key("rooms-of", self.proc), self._key("procs")]
        args = [self.proc, user, connections, self._proc_prefix, room]
        return bool(self._set_member(keys=keys, args=args))

    def hold_address(self, address: str, limit: int) -> bool:
        """Count one more of this process's connections from ``address``, if all processes'
        connections from it stay within ``limit``."""
        keys = [self._key("conns", address), self._key("addrs-of", self.proc)]
        return bool(self._hold(keys=keys, args=[self.proc, limit, self._proc_prefix, address]))

    def release_address(self, address: str) -> None:
        keys = [self._key("conns", address), self._key("addrs-of", self.proc)]
        self._unhold(keys=keys, args=[self.proc, address])

    # -- reads ---------------------------------------------------------------------------------
    def members(self, room: str) -> set[str]:
        return set(self._members(keys=[self._key("room", room)], args=[self._proc_prefix]))

    def rooms_with(self, user: str) -> set[str]:
        """The rooms ``user`` is in through any live process (a room may repeat: a set)."""
        args = [self._proc_prefix, self._key("rooms-of", ""), self._key("room", ""), user]
        return set(self._rooms_with(keys=[self._key("procs")], args=args))

    def ping(self) -> bool:
        return bool(self.redis.ping())

    # -- heartbeat -----------------------------------------------------------------------------
    def beat(self, local: LocalPresence) -> list[tuple[str, str]]:
        """Refresh this process's heartbeat, republish if Redis lost it, reap dead processes.

        Answers ``(room, user)`` pairs for users who were only on dead processes.
        """
        alive = self.redis.set(self._key("proc", self.proc), self.label, ex=self.ttl, xx=True)
        if not alive or self.dirty:
            # First beat, Redis restarted (it keeps nothing), or we missed our own TTL.
            self.resync(local)
        return self.reap()

    def resync(self, local: LocalPresence) -> None:
        """Make Redis hold exactly this process's local state."""
        self.dirty = True
        self.register()
        names = local.names()
        self._drop(self.proc, keep=local.memberships(), keep_names=names)
        for folded, sid in names.items():
            if not self.claim_name(folded, sid):
                log.warning("name %r is held on another process as well", folded)
        for room, users in local.memberships().items():
            for user, connections in users.items():
                self.set_member(room, user, connections)
        addresses = local.addresses()
        if addresses:
            pipe = self.redis.pipeline()
            for address, connections in addresses.items():
                pipe.hset(self._key("conns", address), self.proc, connections)
            pipe.sadd(self._key("addrs-of", self.proc), *addresses)
            pipe.execute()
        self.dirty = False

    def reap(self) -> list[tuple[str, str]]:
        """Drop the entries of processes whose heartbeat expired; one live process does each."""
        others = [p for p in self.redis.smembers(self._key("procs")) if p != self.proc]
        if not others:
            return []
        pipe = self.redis.pipeline()
        for proc in others:
            pipe.exists(self._key("proc", proc))
        vanished: list[tuple[str, str]] = []
        for proc, alive in zip(others, pipe.execute(), strict=True):
            if alive or not self.redis.set(self._key("reap", proc), self.proc, nx=True, ex=self.ttl):
                continue
            log.info("reaping the presence of dead process %s", proc)
            vanished += self._drop(proc)
            self.redis.srem(self._key("procs"), proc)
        return vanished

    def forget(self) -> None:
        """Drop this process's heartbeat, so live processes reap its entries at their next beat."""
        self.redis.delete(self._key("proc", self.proc))

    def _drop(self, proc: str, keep: dict | None = None, keep_names: dict | None = None):
        """Remove ``proc``'s entries (but ``keep``/``keep_names``); answer who is now gone."""
        keep, keep_names = keep or {}, keep_names or {}
        vanished = []
        rooms_key = self._key("rooms-of", proc)
        for room in self.redis.smembers(rooms_key):
            fields = [f for f in self.redis.hkeys(self._key("room", room)) if f.startswith(proc + ":")]
            users = [f.split(":", 1)[1] for f in fields]
            stale = [f for f, u in zip(fields, users, strict=True) if u not in keep.get(room, {})]
            if stale:
                self.redis.hdel(self._key("room", room), *stale)
            if proc != self.proc and users:
                still = self.members(room)
                vanished += [(room, u) for u in users if u not in still]
        self.redis.delete(rooms_key)
        addresses_key = self._key("addrs-of", proc)
        # (For this process itself, resync publishes its local counts again right after.)
        for address in self.redis.smembers(addresses_key):
            self.redis.hdel(self._key("conns", address), proc)
        self.redis.delete(addresses_key)
        mine = proc + "|"
        for folded, holder in self.redis.hscan_iter(self._key("names"), count=500):
            if holder.startswith(mine) and holder != mine + keep_names.get(folded, ""):
                self._release(keys=[self._key("names")], args=[folded, holder])
        return vanished
