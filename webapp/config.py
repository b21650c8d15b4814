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
        # -- e-mail and links (webapp/mail.py) --
        # Where people reach this server: links in e-mails and notifications point here.
        self.PUBLIC_URL = env.get("PUBLIC_URL", f"http://localhost:{self.PORT}").rstrip("/")
        # Outgoing e-mail (digests, password resets); no SMTP_HOST: no e-mail is sent.
        self.SMTP_HOST = env.get("SMTP_HOST") or None
        self.SMTP_PORT = int(env.get("SMTP_PORT", "587"))
        # "starttls" (port 587), "ssl" (port 465) or "none" (a relay on the same host only).
        self.SMTP_SECURITY = env.get("SMTP_SECURITY", "starttls")
        if self.SMTP_SECURITY not in ("starttls", "ssl", "none"):
            raise ValueError("SMTP_SECURITY must be 'starttls', 'ssl' or 'none'")
        self.SMTP_USERNAME = env.get("SMTP_USERNAME") or None
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD") or None
        self.SMTP_TIMEOUT = float(env.get("SMTP_TIMEOUT", "10"))
        self.MAIL_FROM = env.get("MAIL_FROM", "Parley <parley@localhost>")
        # -- activity (webapp/chat/activity.py) --
        # A person whose pages have all been in the background (or closed) this many seconds is
        # "away" on others' pages.
        self.AWAY_AFTER = float(env.get("AWAY_AFTER", "300"))
        self.RATE_LIMIT_ACTIVE = env.get("RATE_LIMIT_ACTIVE", "30 per minute")
        # -- notifications (webapp/notify/) --
        # Push and e-mail go to people with no page in the foreground for this many seconds.
        self.NOTIFY_IDLE_SECONDS = float(env.get("NOTIFY_IDLE_SECONDS", "120"))
        # Seconds between the outbox's rounds (new messages -> notifications -> sending): the
        # delay a push adds on top of NOTIFY_IDLE_SECONDS' wait, paid by no message's ack.
        self.NOTIFY_POLL_SECONDS = float(env.get("NOTIFY_POLL_SECONDS", "1.5"))
        # Seconds unread mentions and DMs wait before one e-mail digest lists them (an account
        # may choose its own, in minutes).
        self.NOTIFY_EMAIL_DELAY = float(env.get("NOTIFY_EMAIL_DELAY", "900"))
        # A failed delivery (push service 5xx or unreachable, SMTP down) is tried again after
        # NOTIFY_RETRY_SECONDS x 2^attempt (with jitter), at most NOTIFY_MAX_ATTEMPTS times.
        self.NOTIFY_RETRY_SECONDS = float(env.get("NOTIFY_RETRY_SECONDS", "10"))
        self.NOTIFY_MAX_ATTEMPTS = int(env.get("NOTIFY_MAX_ATTEMPTS", "8"))
        # A process owns the notifications it claimed this long; a crashed one's are re-claimed.
        self.NOTIFY_LEASE_SECONDS = float(env.get("NOTIFY_LEASE_SECONDS", "60"))
        # Web Push (VAPID, RFC 8292): `flask --app wsgi chat vapid-keys` prints a pair; without
        # a private key there is no push. The public key is derived when not given.
        self.VAPID_PRIVATE_KEY = env.get("VAPID_PRIVATE_KEY") or None
        self.VAPID_PUBLIC_KEY = env.get("VAPID_PUBLIC_KEY") or None
        self.VAPID_SUBJECT = env.get("VAPID_SUBJECT", "mailto:admin@localhost")
        self.PUSH_TIMEOUT = float(env.get("PUSH_TIMEOUT", "10"))
        # The push services browsers subscribe with (a leading "." matches subdomains). The
        # server POSTs to a subscription's endpoint, so no other host is accepted: a made-up
        # subscription must not aim it at the server's own network. Loopback may use http.
        self.PUSH_SERVICE_HOSTS = _list(env.get(
            "PUSH_SERVICE_HOSTS", "fcm.googleapis.com,updates.push.services.mozilla.com,"
            ".push.apple.com,.notify.windows.com"))
        # Notification settings read and changed, push subscriptions added and removed.
        self.RATE_LIMIT_NOTIFY = env.get("RATE_LIMIT_NOTIFY", "30 per minute")
        # -- your data (webapp/data/) --
        # Messages older than this many days are removed, with their files (a room's own
        # retention_days overrides it); 0 keeps them forever. Checked hourly.
        self.RETENTION_DAYS = int(env.get("RETENTION_DAYS", "0"))
        # Changes of a room's retention by its owner or an admin (set_retention).
        self.RATE_LIMIT_RETENTION = env.get("RATE_LIMIT_RETENTION", "10 per minute")
        # /metrics (webapp/metrics.py): a scrape with "Authorization: Bearer METRICS_TOKEN", or
        # from an address in METRICS_ALLOW (CIDRs; loopback by default: a Prometheus on the
        # same host). Neither: 403. Several processes on a host: PROMETHEUS_MULTIPROC_DIR.
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        self.METRICS_ALLOW = _list(env.get("METRICS_ALLOW", "127.0.0.1/8,::1/128"))
        # -- Team admin (issue 20): registration, invitations, the audit log ---------------------
        # Who may make an account: "open" (anyone: today's behaviour), "invite" (only with a
        # valid invitation link; what a team wants) or "closed" (admins create accounts).
        self.REGISTRATION = env.get("REGISTRATION", "open")
        if self.REGISTRATION not in ("open", "invite", "closed"):
            raise ValueError("REGISTRATION must be 'open', 'invite' or 'closed'")
        # Whether accounts that are not admins may create invitation links too.
        self.INVITES_BY_MEMBERS = env.get("INVITES_BY_MEMBERS", "false").lower() in ("1", "true", "yes")
        # Invitation links one account creates: each can bring in people, so not a script's loop.
        self.RATE_LIMIT_INVITATION = env.get("RATE_LIMIT_INVITATION", "20 per hour")
        # Audit rows older than this go with the hourly compaction (webapp/chat/cluster.py).
        self.AUDIT_RETENTION_DAYS = int(env.get("AUDIT_RETENTION_DAYS", "365"))
        # Integrations (issue 20; webapp/integrations/): outgoing webhooks, custom slash commands,
        # incoming webhooks. Targets on loopback, private, link-local or otherwise non-public
        # addresses are refused (SSRF) unless inside one of these networks (CIDR, comma-separated).
        self.WEBHOOK_ALLOWED_NETWORKS = _list(env.get("WEBHOOK_ALLOWED_NETWORKS"))
        # Attempts per delivery before it is marked failed; the waits between them double from
        # WEBHOOK_RETRY_SECONDS (with jitter) up to an hour: 8 attempts span about 20 minutes.
        self.WEBHOOK_MAX_ATTEMPTS = int(env.get("WEBHOOK_MAX_ATTEMPTS", "8"))
        self.WEBHOOK_RETRY_SECONDS = float(env.get("WEBHOOK_RETRY_SECONDS", "10"))
        # Seconds one POST to a webhook may take (connect and read each); short, as a slow
        # receiver holds up the deliveries behind it.
        self.WEBHOOK_TIMEOUT = float(env.get("WEBHOOK_TIMEOUT", "5"))
        # How often each serving process looks for new messages and due deliveries.
        self.WEBHOOK_POLL_SECONDS = float(env.get("WEBHOOK_POLL_SECONDS", "1"))
        # Seconds a custom slash command's URL has to answer (the sender's ack waits for it).
        self.COMMAND_TIMEOUT = float(env.get("COMMAND_TIMEOUT", "3"))
        # Posts to one incoming webhook's URL; a CI burst of a few dozen fits, a loop does not.
        self.RATE_LIMIT_INCOMING_WEBHOOK = env.get("RATE_LIMIT_INCOMING_WEBHOOK", "60 per minute")
        # Custom slash commands run per user: each one is an outgoing HTTP request.
        self.RATE_LIMIT_COMMAND = env.get("RATE_LIMIT_COMMAND", "20 per minute")
        # Webhooks and commands an owner registers or removes.
        self.RATE_LIMIT_INTEGRATION = env.get("RATE_LIMIT_INTEGRATION", "30 per hour")
        # -- profiles (issue 18; webapp/chat/profiles.py, webapp/chat/avatars.py) ----------------
        # Profile changes (set_profile, avatar upload and removal) per user: each one is sent to
        # every room the person is in, so this bounds what one person makes everyone receive.
        self.RATE_LIMIT_PROFILE = env.get("RATE_LIMIT_PROFILE", "30 per 10 minutes")
        # Profile reads (profile, profiles, GET /api/users/<name>): the page asks for the cards
        # of the people in each room it opens, 100 at a time, and caches them.
        self.RATE_LIMIT_PROFILE_READ = env.get("RATE_LIMIT_PROFILE_READ", "120 per minute")
        # Bytes an avatar upload may have: a phone photo fits; it is shown 256 px at most.
        self.AVATAR_MAX_SIZE = int(env.get("AVATAR_MAX_SIZE", str(10 * 1024 * 1024)))
        # -- sign-in (webapp/twofactor.py, webapp/resets.py, webapp/oidc.py) --
        # Admins must turn on two-factor before their login session works (pages lead to
        # enrolment; Socket.IO, /ws and REST refuse it with 2fa_required). API tokens unaffected.
        self.REQUIRE_2FA_FOR_ADMINS = env.get(
            "REQUIRE_2FA_FOR_ADMINS", "false").lower() in ("1", "true", "yes")
        # Password reset e-mails asked for, per address and per e-mail address: each one is an
        # e-mail sent to someone, so a few an hour.
        self.RATE_LIMIT_PASSWORD_RESET = env.get("RATE_LIMIT_PASSWORD_RESET", "5 per hour")
        # How long a reset link works (it also dies once used: it is bound to the password).
        self.PASSWORD_RESET_MINUTES = float(env.get("PASSWORD_RESET_MINUTES", "60"))
        # OpenID Connect single sign-on; off without OIDC_ISSUER (docs/operations.md).
        self.OIDC_ISSUER = (env.get("OIDC_ISSUER") or "").rstrip("/") or None
        self.OIDC_CLIENT_ID = env.get("OIDC_CLIENT_ID") or None
        self.OIDC_CLIENT_SECRET = env.get("OIDC_CLIENT_SECRET") or None
        # Only people whose verified e-mail is in one of these domains; empty: anyone the
        # provider lets through.
        self.OIDC_ALLOWED_DOMAINS = [d.lower() for d in _list(env.get("OIDC_ALLOWED_DOMAINS"))]
        # Members of this group (in the ID token's OIDC_GROUPS_CLAIM) are admins, others are
        # not: set at every single sign-on login. Empty: single sign-on never changes admins.
        self.OIDC_ADMIN_GROUP = env.get("OIDC_ADMIN_GROUP") or None
        self.OIDC_GROUPS_CLAIM = env.get("OIDC_GROUPS_CLAIM", "groups")
        self.OIDC_LABEL = env.get("OIDC_LABEL", "single sign-on")
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
