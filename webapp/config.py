"""Configuration read from the environment (12-factor); parsing only, no logic."""
from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _database_url(value: str | None) -> str:
    """Normalise DATABASE_URL; Heroku still hands out the deprecated ``postgres://`` scheme."""
    if not value:
        return f"sqlite:///{INSTANCE_DIR / 'parley.sqlite3'}"
    if value.startswith("postgres://"):
        value = "postgresql://" + value[len("postgres://"):]
    return value


def _engine_options(url: str, env) -> dict:
    """Connection pool settings; SQLite (one file, one process) keeps SQLAlchemy's defaults."""
    if url.startswith("sqlite"):
        return {}
    return {
        # Per process: each greenlet handling an event holds one connection while it runs.
        # processes x (DB_POOL_SIZE + DB_MAX_OVERFLOW) must stay under the server's
        # max_connections (see docs/operations.md).
        "pool_size": int(env.get("DB_POOL_SIZE", "5")),
        "max_overflow": int(env.get("DB_MAX_OVERFLOW", "5")),
        # A greenlet waits this long for a free connection, then the event fails as "internal".
        "pool_timeout": float(env.get("DB_POOL_TIMEOUT", "10")),
        # Survive a database restart or a proxy that drops idle connections.
        "pool_pre_ping": True,
        "pool_recycle": 1800,
    }


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


class Config:
    """Settings for one deployment; every field can be set from the environment."""

    def __init__(self, env: os._Environ | dict | None = None) -> None:
        env = os.environ if env is None else env
        self.ENV = env.get("PARLEY_ENV", "development")
        # PARLEY_ENV=production refuses to start without a real SECRET_KEY (webapp/security.py).
        self.SECRET_KEY = env.get("SECRET_KEY", "dev-only-not-secret")
        self.COOKIE_SECURE = env.get("COOKIE_SECURE", "false").lower() in ("1", "true", "yes")
        self.SQLALCHEMY_DATABASE_URI = _database_url(env.get("DATABASE_URL"))
        self.SQLALCHEMY_ENGINE_OPTIONS = _engine_options(self.SQLALCHEMY_DATABASE_URI, env)
        self.REDIS_URL = env.get("REDIS_URL") or None
        # Seconds a request waits on Redis (rate limits, presence) before going on without it:
        # a hung Redis must not hold up acks (webapp/redisguard.py).
        self.REDIS_TIMEOUT = float(env.get("REDIS_TIMEOUT", "0.5"))
        # A crashed process's users stay listed at most this long (its heartbeat's lifetime);
        # the heartbeat runs three times per TTL so one late beat does not drop anybody.
        self.PRESENCE_TTL = float(env.get("PRESENCE_TTL", "15"))
        # How many proxies (nginx, a platform router) set X-Forwarded-*; 0 trusts none.
        self.PROXY_FIX = int(env.get("PROXY_FIX", "0"))
        # "eventlet" is the designed server; "threading" serves tests and debugging.
        self.ASYNC_MODE = env.get("ASYNC_MODE", "eventlet")
        # Origins allowed to open Socket.IO connections besides the app's own.
        self.ALLOWED_ORIGINS = _list(env.get("ALLOWED_ORIGINS"))
        self.HOST = env.get("HOST", "127.0.0.1")
        self.PORT = int(env.get("PORT", "5000"))
        # Several processes on one port (SO_REUSEPORT: the kernel spreads connections between
        # them) only when asked: by accident, two servers would split clients and state.
        self.REUSE_PORT = env.get("REUSE_PORT", "false").lower() in ("1", "true", "yes")
        # Simultaneous connections one process accepts (eventlet's default of 1024 is too few).
        self.MAX_CONNECTIONS = int(env.get("MAX_CONNECTIONS", "20000"))
        # Seconds a request's line and headers may take to arrive (from when the server starts
        # waiting, so an idle keep-alive connection too): slow clients do not hold descriptors.
        self.REQUEST_HEADER_TIMEOUT = float(env.get("REQUEST_HEADER_TIMEOUT", "20"))
        # Seconds a Socket.IO connection has to say who it is (connect to the namespace) after
        # its Engine.IO handshake; then it is closed (socket.io's own connectTimeout: 45 s).
        self.CONNECT_TIMEOUT = float(env.get("CONNECT_TIMEOUT", "45"))
        # Simultaneous connections from one address (Socket.IO over either transport and /ws;
        # across processes with Redis); each guest connection holds one nickname, so this also
        # bounds the names one address reserves. An office behind one NAT address, 60 people
        # with a phone and two tabs each, stays under 200; a script opening thousands does not.
        # 0 turns the bound off.
        self.MAX_CONNECTIONS_PER_ADDRESS = int(env.get("MAX_CONNECTIONS_PER_ADDRESS", "200"))
        # Bytes the server keeps waiting for one client that does not read them (Socket.IO over
        # WebSocket or long-polling, and /ws); past it the connection is cut off and the client
        # reconnects and catches up. Room for the largest answer: a full page of history.
        self.MAX_QUEUED_BYTES = int(env.get("MAX_QUEUED_BYTES", str(4 << 20)))
        self.GUESTS_ALLOWED = env.get("GUESTS_ALLOWED", "true").lower() in ("1", "true", "yes")
        # Moderation (docs/security.md, "Moderation"), in minutes; fractions allowed. A banned
        # account's addresses are closed to guests for BAN_ADDRESS_MINUTES: long enough that
        # the person cannot walk back in under a nickname, short enough that others behind the
        # same address (an office NAT, a mobile carrier) are not locked out for a day.
        self.BAN_ADDRESS_MINUTES = float(env.get("BAN_ADDRESS_MINUTES", "60"))
        # An admin's ban of a guest (its name and addresses) when the ban gives no "minutes".
        self.BAN_GUEST_MINUTES = float(env.get("BAN_GUEST_MINUTES", "60"))
        # A kick from a public room keeps that person, and guests from their addresses, out of
        # the room this long: a cooling-off, not an exile (a ban is for that).
        self.KICK_MINUTES = float(env.get("KICK_MINUTES", "15"))
        # Rate limits ("N per period" in the ``limits`` notation), per user, and per address for
        # guests. Generous for people, tight for scripts gone wrong.
        self.RATE_LIMIT_MESSAGE = env.get("RATE_LIMIT_MESSAGE", "30 per 10 seconds")
        # Edits and deletions of one's messages; reactions and pins (docs/protocol.md).
        self.RATE_LIMIT_EDIT = env.get("RATE_LIMIT_EDIT", "30 per minute")
        self.RATE_LIMIT_REACT = env.get("RATE_LIMIT_REACT", "60 per minute")
        # How long a deleted message's tombstone stays in its room's change log; a client away
        # longer reloads the room instead of syncing (webapp/chat/changes.py).
        self.SYNC_RETENTION_DAYS = int(env.get("SYNC_RETENTION_DAYS", "30"))
        # Files (webapp/chat/files.py, webapp/storage.py): where they are kept -- "directory"
        # (FILE_DIR) or "database" (for platforms whose disk does not survive a restart).
        self.FILE_STORAGE = env.get("FILE_STORAGE", "directory")
        if self.FILE_STORAGE not in ("directory", "database"):
            raise ValueError("FILE_STORAGE must be 'directory' or 'database'")
        self.FILE_DIR = env.get("FILE_DIR", str(INSTANCE_DIR / "files"))
        self.MAX_UPLOAD_SIZE = int(env.get("MAX_UPLOAD_SIZE", str(25 * 1024 * 1024)))
        self.USER_FILE_QUOTA = int(env.get("USER_FILE_QUOTA", str(1024 * 1024 * 1024)))
        self.FILE_ATTACH_HOURS = float(env.get("FILE_ATTACH_HOURS", "24"))
        self.MAX_IMAGE_PIXELS = int(env.get("MAX_IMAGE_PIXELS", str(50_000_000)))
        self.RATE_LIMIT_UPLOAD = env.get("RATE_LIMIT_UPLOAD", "30 per 10 minutes")
        # Searches: each may read many rows (webapp/chat/search.py).
        self.RATE_LIMIT_SEARCH = env.get("RATE_LIMIT_SEARCH", "20 per 10 seconds")
        self.RATE_LIMIT_TYPING = env.get("RATE_LIMIT_TYPING", "20 per 10 seconds")
        self.RATE_LIMIT_JOIN = env.get("RATE_LIMIT_JOIN", "30 per minute")
        # Rooms a user creates (create_room, and joins of a name that did not exist), counted
        # per address for accounts too. A person sets up a few rooms on their first day; ten in
        # an hour is already a spree, and an address (x RATE_LIMIT_ADDRESS_FACTOR) gets 100.
        self.RATE_LIMIT_CREATE_ROOM = env.get("RATE_LIMIT_CREATE_ROOM", "10 per hour")
        # DMs opened and invitations sent per user: each one notifies its target (``invited``),
        # so this is how often one person can notify others. A person opens a DM or invites
        # someone now and then; an owner inviting a team of 30 one by one still fits.
        self.RATE_LIMIT_INVITE = env.get("RATE_LIMIT_INVITE", "30 per 10 minutes")
        # Blocks and unblocks per user: a person blocks someone now and then; a script toggling
        # a block to churn the database gets a few a minute.
        self.RATE_LIMIT_BLOCK = env.get("RATE_LIMIT_BLOCK", "30 per hour")
        # History pages per user (Socket.IO, /ws and REST). A reconnect catches up each joined
        # room (one page usually, 100 messages each) and the page re-reads every room every
        # 30 s; 60 covers two full pages for each of the 30 rooms RATE_LIMIT_JOIN lets a user
        # re-enter in a minute, while a script reading the archive in a loop is slowed to
        # 6 pages a second.
        self.RATE_LIMIT_HISTORY = env.get("RATE_LIMIT_HISTORY", "60 per 10 seconds")
        # Logins per address and per account name; registrations per address. Neither is
        # multiplied by the address factor: guessing passwords and minting accounts are what
        # these limits are for, and real people log in and register rarely.
        self.RATE_LIMIT_LOGIN = env.get("RATE_LIMIT_LOGIN", "10 per minute")
        self.RATE_LIMIT_REGISTER = env.get("RATE_LIMIT_REGISTER", "10 per hour")
        self.RATE_LIMIT_ADDRESS_FACTOR = int(env.get("RATE_LIMIT_ADDRESS_FACTOR", "10"))
        # Refusals a connection may collect before it is closed as a flood.
        self.RATE_LIMIT_FLOOD = env.get("RATE_LIMIT_FLOOD", "50 per minute")
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        # Within this many seconds a record of the same kind is counted, not logged again: one
        # line per kind of failure per interval, with the count (webapp/logs.py); 0 logs them all.
        self.LOG_REPEAT_SECONDS = float(env.get("LOG_REPEAT_SECONDS", "10"))
        # One line per HTTP request (WebSocket handshakes included); LOG_LEVEL=DEBUG turns it on too.
        self.ACCESS_LOG = env.get("ACCESS_LOG", "false").lower() in ("1", "true", "yes")
        # Native threads per process for CPU-heavy calls (password hashes, ~100-150 ms and 32 MiB
        # each) kept off the event loop; more wait their turn (webapp/server/offload.py).
        self.OFFLOAD_THREADS = int(env.get("OFFLOAD_THREADS", "2"))
        # 64 KiB: far above the 4,000-character text limit (16 KiB in UTF-8 at worst) and
        # small enough that a hostile client cannot make the server buffer megabytes.
        self.MAX_HTTP_BUFFER_SIZE = int(env.get("MAX_HTTP_BUFFER_SIZE", str(64 * 1024)))
        # Socket.IO (Engine.IO) heartbeat: the server pings every PING_INTERVAL seconds and drops a
        # client that has not answered within PING_TIMEOUT (its users leave presence then).
        self.PING_INTERVAL = float(env.get("PING_INTERVAL", "25"))
        self.PING_TIMEOUT = float(env.get("PING_TIMEOUT", "20"))
        # The plain WebSocket gateway (/ws) pings as often as Engine.IO does (25 s, under the
        # 60-75 s idle timeouts of proxies), closes a client silent this long after a ping (1001),
        # and one that has not said who it is within WS_AUTH_TIMEOUT (1008).
        self.WS_PING_INTERVAL = float(env.get("WS_PING_INTERVAL", "25"))
        self.WS_PING_TIMEOUT = float(env.get("WS_PING_TIMEOUT", "20"))
        self.WS_AUTH_TIMEOUT = float(env.get("WS_AUTH_TIMEOUT", "10"))
        # -- read state, mentions, read receipts (issue 18; webapp/chat/reads.py, mentions.py) --
        # Read marks per user: the page sends one (throttled) as a room's bottom comes into view;
        # a few tabs and devices a second at most. A script marking in a loop is slowed down.
        self.RATE_LIMIT_READ = env.get("RATE_LIMIT_READ", "120 per minute")
        # @room / @here notify a whole room: a few an hour from one person is plenty; over the
        # limit they stay plain text.
        self.RATE_LIMIT_MENTION_ALL = env.get("RATE_LIMIT_MENTION_ALL", "5 per 10 minutes")
        # Receipts ("seen") are shown in DMs and in private rooms of at most this many members:
        # beyond, "seen by" lists grow long and each read would be sent to many.
        self.RECEIPTS_MAX_MEMBERS = int(env.get("RECEIPTS_MAX_MEMBERS", "20"))

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}
