"""SQLAlchemy models: rooms and the messages posted to them."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``; SQLite hands datetimes back naive, so assume UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Room(db.Model):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="public")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    messages: Mapped[list[Message]] = relationship(back_populates="room", lazy="noload")

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "created_at": iso(self.created_at)}


class Message(db.Model):
    __tablename__ = "messages"
    # A client retries a send with the same client_id; this makes the retry find, not duplicate.
    __table_args__ = (
        UniqueConstraint("author", "client_id", name="uq_messages_author_client_id"),
        # History pages are "room X, ids before/after N": one index range scan.
        Index("ix_messages_room_id_id", "room_id", "id"),
        # Never reuse the id of a deleted newest message: clients page with "after=<last id>".
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    room: Mapped[Room] = relationship(back_populates="messages", lazy="joined")

    def to_dict(self, room_name: str | None = None) -> dict:
        return {
            "id": self.id,
            "room": room_name or self.room.name,
            "author": self.author,
            "text": self.text,
            "created_at": iso(self.created_at),
            "client_id": self.client_id,
        }
