"""Notification tables: settings per room and account, push subscriptions, the outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db

# As in webapp/models.py: SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
LEVELS = ("all", "mentions", "nothing")  # per room; "mentions" means mentions and DMs


def _now() -> datetime:
    from webapp.models import utcnow  # webapp/models.py imports this module at its end

    return utcnow()


class NotifySetting(db.Model):
    """One person's choice for one room; no row means the default level "mentions"."""

    __tablename__ = "notify_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[str] = mapped_column(String(16), default="mentions", server_default="mentions")
    muted_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NotifyAccount(db.Model):
    """Account-wide choices; no row means push on, e-mail digests on (with an address)."""

    __tablename__ = "notify_accounts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    push: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    email_digest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # None: NOTIFY_EMAIL_DELAY; otherwise this person's own wait before a digest, in minutes.
    digest_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PushSubscription(db.Model):
    """A browser's PushSubscription: where to POST and the keys to encrypt for it."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Unique: the same browser subscribing again (or for another account) replaces its row.
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    def to_dict(self) -> dict:
        from webapp.models import iso

        return {"id": self.id, "endpoint": self.endpoint, "created_at": iso(self.created_at)}


class Notification(db.Model):
    """One message to tell one person about over one channel: a row of the durable outbox.

    ``target`` is "email" or "push:<subscription id>"; the unique key makes a second process or
    a restart that scans the same message find the row instead of queueing it again.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id", "target", name="uq_notifications_message"),
        # The sender's question: pending rows that are due, oldest first.
        Index("ix_notifications_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))  # dm | mention | all
    # pending -> sent; or skipped (read, muted, active), dropped (subscription gone), failed.
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # A sender owns a claimed row until then; a crashed sender's rows are claimed again after.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class NotifyCursor(db.Model):
    """The one row saying up to which message id the outbox has decided recipients."""

    __tablename__ = "notify_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
