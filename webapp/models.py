"""SQLAlchemy models: accounts, rooms, the messages posted to them, and moderation."""
from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from urllib.parse import quote

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_session_secret() -> str:
    """A user's session secret: 128 random bits (see ``User.session_secret``)."""
    return secrets.token_urlsafe(16)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``; SQLite hands datetimes back naive, so assume UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class User(UserMixin, db.Model):
    """A registered account. Guests have no row: they are a name held while connected."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    # Names are unique case-insensitively: "Alice" and "alice" are one person to readers.
    name_key: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    banned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Every login (session and remember-me cookie) carries this; a new one ends all of them at
    # once: log out, a password change, deactivation (webapp/accounts.py, "Logins"). Random
    # rather than a counter, so a leaked SECRET_KEY alone cannot forge a login. The empty server
    # default only exists for rows added by hand; such a row gets a secret at its first login.
    session_secret: Mapped[str] = mapped_column(
        String(32), default=new_session_secret, server_default=""
    )
    # Read state (issue 18): whether others in DMs and small private rooms see how far this user
    # has read (``receipt`` events, the join ack's ``receipts``).
    send_receipts: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Notifications (e-mail digests) and password resets write here; stored lower-cased
    # (webapp/notify/settings.py), so the unique key makes addresses unique case-insensitively.
    email: Mapped[str | None] = mapped_column(String(254), nullable=True, unique=True, index=True)
    # Team admin (issue 20): a password an admin set (webapp/temporary_passwords.py). None: the
    # person's own; 1: temporary, good for one login; 0: that login happened.
    temporary_logins: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # -- profiles (issue 18; webapp/chat/profiles.py) -----------------------------------------
    # Each is None when not set: the page shows the name, the initial-and-colour badge, no status.
    display_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The storage key the avatar's two squares are saved under (webapp/chat/avatars.py); a new
    # upload gets a new key, so the URL changes and caches never show an old picture.
    avatar: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status_text: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status_emoji: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Past this the status is served as absent (no job clears it; the page hides it on time).
    status_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    # Flask-Login's name for the login being made or served (``accounts.begin_login``,
    # ``accounts.resume_login``); never stored.
    login_id = None

    @property
    def is_active(self) -> bool:  # Flask-Login: a banned user's session stops working
        return self.banned_at is None

    def get_id(self) -> str:
        """What Flask-Login puts in the session and the remember-me cookie: this login's name.

        Without ``accounts.begin_login`` first it is the bare id, which the user loader refuses.
        """
        return self.login_id or str(self.id)


class ApiToken(db.Model):
    """A named bearer token for bots and scripts; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists so people can tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at) if self.last_used_at else None,
        }


class Room(db.Model):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="public")  # public | private | dm
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The room's change log position: the seq of its latest change (a message, an edit, a
    # deletion, a reaction, a pin, a reply count). Taken with ``UPDATE ... SET seq = seq + n``
    # in the change's own transaction, so the row lock orders a room's changes: a change with a
    # higher seq never becomes visible before one with a lower seq (webapp/chat/changes.py).
    seq: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    # Deleted messages up to this seq were compacted away: a sync from before it cannot be served.
    compacted_seq: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    # -- your data (issue 20): messages older than this many days are removed (webapp/data/
    # retention.py); None follows RETENTION_DAYS, 0 keeps this room's messages forever.
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Team admin (issue 20): an archived room is read-only -- posts are refused (room_archived).
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Set by ``/topic`` (webapp/integrations/commands.py); shown with the room on joining it.
    topic: Mapped[str | None] = mapped_column(String(250), nullable=True)

    messages: Mapped[list[Message]] = relationship(back_populates="room", lazy="noload")

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "created_at": iso(self.created_at),
                "topic": self.topic, "archived": self.archived_at is not None}


class RoomMember(db.Model):
    """Who may enter a private room or a direct conversation (public rooms need no row)."""

    __tablename__ = "room_members"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Message(db.Model):
    """A message, and its state after every change since: edits, reactions, pins, replies.

    A deleted message stays as a tombstone (``deleted_at``, its text emptied, never served) so
    the deletion has its place in the room's change log until the log is compacted.
    """

    __tablename__ = "messages"
    # A client retries a send with the same client_id; this makes the retry find, not duplicate.
    __table_args__ = (
        UniqueConstraint("author", "client_id", name="uq_messages_author_client_id"),
        # History pages are "room X, ids before/after N": one index range scan.
        Index("ix_messages_room_id_id", "room_id", "id"),
        # The change log: "room X, changes after seq N" (``sync``), one index range scan.
        Index("ix_messages_room_id_seq", "room_id", "seq"),
        # Unread counts: "room X, posted after N", a bounded index range (webapp/chat/reads.py).
        Index("ix_messages_room_id_posted_seq", "room_id", "posted_seq"),
        # Never reuse the id of a deleted newest message: clients page with "after=<last id>".
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(32))
    guest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The author's account (None for guests): who may edit or delete it is decided on this.
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    # The text folded for search (webapp/chat/folding.py), kept in step with ``text``; indexed by
    # trigrams: SQLite's FTS5 table messages_search, PostgreSQL's pg_trgm (migration 0007).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The seq of this message's latest change, and which kind it was (an event name of
    # docs/protocol.md: message, message_edited, message_deleted, reaction, pin, replies).
    seq: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    last_change: Mapped[str] = mapped_column(String(16), default="message", server_default="message")
    # The seq the message was posted with; ``seq`` moves with every later change, this never
    # does. Read positions (``room_reads``) and mentions are counted on it.
    posted_seq: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    # "room" or "here" when the text says @room / @here and its author may say so; else None.
    mentions_all: Mapped[str | None] = mapped_column(String(8), nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A reply names its thread's root (always a root: a reply to a reply joins the root's thread).
    reply_to: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    reply_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pinned_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Marks merged into the message object (JSON; None for most): {"kind": "me"} for ``/me``,
    # {"bot": true, ...} for what an integration posts (webapp/integrations/messages.py).
    meta: Mapped[str | None] = mapped_column(Text, nullable=True)

    # Callers pass the room name to to_dict; loading the room with every message is waste.
    room: Mapped[Room] = relationship(back_populates="messages")

    def to_dict(self, room_name: str | None = None, reactions: list | None = None,
                files: list | None = None, mentions: list | None = None) -> dict:
        """The message as clients get it (docs/protocol.md, "The message object")."""
        return {
            "id": self.id,
            "room": room_name or self.room.name,
            "author": self.author,
            "guest": self.guest,
            "text": self.text,
            "created_at": iso(self.created_at),
            "client_id": self.client_id,
            "seq": self.seq,
            "edited_at": iso(self.edited_at) if self.edited_at else None,
            "reply_to": self.reply_to,
            "reply_count": self.reply_count or 0,
            "reactions": reactions or [],
            "pinned": self.pinned_at is not None,
            "files": files or [],
            # The seq it was posted with (``seq`` moves with later changes): read positions
            # and receipts compare with it.
            "posted_seq": self.posted_seq,
            "mentions": mentions or [],
            "mentions_all": self.mentions_all,
            # The group commit's rows (groupcommit.StoredMessage) carry no meta: plain messages.
            **(json.loads(meta) if (meta := getattr(self, "meta", None)) else {}),
        }


class File(db.Model):
    """An uploaded file: in a room, by an account; attached to one message once it is sent
    (webapp/chat/files.py). Its bytes are in the storage (webapp/storage.py) under ``key``."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), nullable=True, index=True)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # in the message's list
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(100))  # from the content, never the name
    key: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thumbnail_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        shown = {"id": self.id, "name": self.name, "size": self.size, "type": self.type,
                 "url": f"/api/files/{self.id}/{quote(self.name)}"}
        if self.thumbnail_key:
            shown["thumbnail_url"] = f"/api/files/{self.id}/thumbnail"
        if self.width:
            shown["width"], shown["height"] = self.width, self.height
        return shown


class FileChunk(db.Model):
    """Stored bytes, a MiB at a time, where files live in the database (FILE_STORAGE=database:
    platforms whose disk does not survive a restart). Read and written a chunk at a time."""

    __tablename__ = "file_chunks"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MessageEdit(db.Model):
    """An earlier version of an edited message: its text, and when that text was written."""

    __tablename__ = "message_edits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reaction(db.Model):
    """One person's one emoji on one message (the key makes adding it twice count once)."""

    __tablename__ = "reactions"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_key: Mapped[str] = mapped_column(String(48), primary_key=True)  # Member.key
    emoji: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Ban(db.Model):
    """One thing kept out until ``expires_at`` (None: until lifted): an account, a guest name or
    an address, from the whole server or (``room_id``) from one public room.

    A row without ``address`` bans its identity: ``user_id`` (an account; the account ban itself
    is ``users.banned_at``, this row records who and why) or ``name_key`` (a guest name, folded).
    A row with ``address`` bans that address for guests, and ``user_id``/``name_key`` say whose
    ban it came with, so lifting a person's ban lifts their addresses' too
    (webapp/chat/moderation.py).
    """

    __tablename__ = "bans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    name_key: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Block(db.Model):
    """``blocker`` takes no DMs or invitations from ``blocked`` (webapp/chat/moderation.py)."""

    __tablename__ = "blocks"

    blocker_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# -- notifications (issue 18): webapp/notify/models.py --------------------------------------------
from webapp.notify.models import (  # noqa: F401
    Notification,
    NotifyAccount,
    NotifyCursor,
    NotifySetting,
    PushSubscription,
)


# -- Team admin (issue 20): the audit log and registration invitations --------------------------
class AuditEvent(db.Model):
    """One security-relevant action (webapp/audit.py): what, who, when, from where, on what.

    The actor's name is copied, so the row still says who after the account is gone.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(48))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    def to_dict(self) -> dict:
        return {"id": self.id, "at": iso(self.at), "action": self.action,
                "actor": self.actor_name, "target": self.target, "address": self.address,
                "details": self.details or {}}


class Invitation(db.Model):
    """A registration link (``/auth/register?invite=<token>``); only the token's SHA-256 is kept.

    ``max_uses`` None: unlimited until it expires or is revoked.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # tells links apart in lists
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    creator: Mapped[User | None] = relationship(lazy="joined")
# -- integrations (issue 20): outgoing and incoming webhooks, slash commands ---------------------
class Webhook(db.Model):
    """An outgoing webhook: each new message of its room (matching ``trigger``, if set) is
    POSTed, signed with ``secret``, to ``url`` (webapp/integrations/outgoing.py)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    trigger: Mapped[str | None] = mapped_column(String(64), nullable=True)
    secret: Mapped[str] = mapped_column(String(64))  # the HMAC key: kept clear, it signs
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The id of the room's last message already queued for this webhook: the duty queues those
    # after it (ids of one room become visible in order: they are taken under the room's lock).
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    last_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_delivery_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "url": self.url, "trigger": self.trigger, "active": self.active,
            "last_status": self.last_status, "last_error": self.last_error,
            "last_delivery_at": iso(self.last_delivery_at) if self.last_delivery_at else None,
            "created_at": iso(self.created_at),
        }


class WebhookDelivery(db.Model):
    """One message to deliver to one webhook: its id is the ``X-Parley-Delivery`` header, the
    same on every attempt, so receivers can drop a repeat."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "message_id", name="uq_webhook_deliveries_message"),
        # The due ones: "not done, next attempt before now".
        Index("ix_webhook_deliveries_due", "done_at", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigId, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Also the lease: a process sending it first moves it past the send's timeout.
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # delivered, failed, skipped


class IncomingWebhook(db.Model):
    """A secret URL (``/hooks/<token>``) that posts Slack-style JSON to its room as ``name``."""

    __tablename__ = "incoming_webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "created_at": iso(self.created_at)}


class SlashCommand(db.Model):
    """A custom ``/name``: of one room, or (``room_id`` None, admins') of every room. Invoking
    it POSTs signed JSON to ``url`` and posts or returns the answer (commands.py)."""

    __tablename__ = "slash_commands"
    __table_args__ = (UniqueConstraint("room_id", "name", name="uq_slash_commands_room_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "url": self.url,
                "global": self.room_id is None, "created_at": iso(self.created_at)}
# -- Sign-in (issue 20): two-factor authentication, recovery codes, single sign-on -----------


class TwoFactor(db.Model):
    """A user's TOTP secret (webapp/twofactor.py): pending until confirmed with a code."""

    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))  # base32, as authenticator apps take it
    enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The time step (unix time // 30) of the last code accepted: a code is good once.
    last_step: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class RecoveryCode(db.Model):
    """A one-time code that stands in for a TOTP code (lost phone); only its SHA-256 is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OidcIdentity(db.Model):
    """An OpenID Connect identity (issuer, subject) and the one account it logs in to."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_oidc_identities_issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# -- read state and mentions (issue 18) ---------------------------------------------------------
class RoomRead(db.Model):
    """How far a user has read a room: every message posted with a seq up to ``last_read_seq``.
    Only ever moves forward (webapp/chat/reads.py)."""

    __tablename__ = "room_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_seq: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Mention(db.Model):
    """A message that mentions a user: by name (``via`` "name"), or through @room / @here, for
    each account it reached when posted (webapp/chat/mentions.py). Counted after a read
    position by (user, room, posted_seq); listed newest first by (user, message)."""

    __tablename__ = "mentions"
    __table_args__ = (
        Index("ix_mentions_user_id_room_id_posted_seq", "user_id", "room_id", "posted_seq"),
        Index("ix_mentions_user_id_message_id", "user_id", "message_id"),
    )

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    posted_seq: Mapped[int] = mapped_column(BigId)
    via: Mapped[str] = mapped_column(String(8), default="name", server_default="name")
