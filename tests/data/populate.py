"""A small instance with one of everything an export holds, made through the operations."""
from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from webapp import accounts, audit, invitations
from webapp.chat import avatars, files, ops, service
from webapp.extensions import db
from webapp.models import Mention, OidcIdentity, Room, User
from webapp.notify.models import NotifyAccount, NotifySetting


class Conn:
    """An operation's connection; these tests have no sockets."""

    sid = "populate"

    def subscribe(self, room: str) -> None:
        pass

    def unsubscribe(self, room: str) -> None:
        pass


def member(name: str, admin: bool = False) -> service.Member:
    user = accounts.create_user(name, "long enough password", admin=admin)
    _, token = accounts.create_token(user, "api")
    return service.connect({"token": token}, None)


def op(name: str, who: service.Member, **data) -> dict:
    ack = ops.OPS[name](who, data, Conn())
    assert ack.get("ok"), ack
    return ack


def populate() -> dict:
    """Accounts, a public and a private room, a DM, messages with an edit, a reaction, a pin, a
    reply, a deletion and a file, a ban and a block; answers the ids tests look at."""
    alice, bob = member("alice", admin=True), member("bob")
    carol = member("carol")
    op("join", alice, room="general")
    op("join", bob, room="general")
    first = op("message", alice, room="general", text="hello *world*")["message"]
    op("edit", alice, room="general", id=first["id"], text="hello world, edited")
    op("react", bob, room="general", id=first["id"], emoji="👍", on=True)
    op("pin", alice, room="general", id=first["id"], on=True)
    op("message", bob, room="general", text="a reply", reply_to=first["id"])
    gone = op("message", bob, room="general", text="oops")["message"]
    op("delete_message", bob, room="general", id=gone["id"])
    upload = files.upload(bob, "general", io.BytesIO(b"file bytes\n" * 100), "notes.txt")
    op("message", bob, room="general", text="see file", files=[upload["id"]])
    op("create_room", alice, room="secret", private=True)
    op("invite", alice, room="secret", user="bob")
    op("message", alice, room="secret", text="private words")
    op("dm", alice, user="bob")
    op("block", carol, user="bob", on=True)
    op("ban", alice, user="carol", reason="testing")
    this_round(alice, bob, first["id"])
    return {"message": first["id"], "file": upload["id"]}


def this_round(alice: service.Member, bob: service.Member, message_id: int) -> None:
    """A row in each table of issues 18 and 20 that an export holds, and their new columns
    (room_reads come with posting)."""
    png = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 30, 30)).save(png, "PNG")
    png.seek(0)
    avatars.upload(bob, png)
    when = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    user = db.session.get(User, bob.user_id)
    user.display_name, user.status_text, user.status_emoji = "Bob B.", "away", "🌴"
    user.status_expires_at, user.email, user.send_receipts = when, "bob@example.com", False
    user.temporary_logins = 1
    general = db.session.scalar(db.select(Room).filter_by(name="general"))
    general.topic, general.retention_days, general.archived_at = "Everything", 30, None
    secret = db.session.scalar(db.select(Room).filter_by(name="secret"))
    secret.archived_at = when
    db.session.add_all([
        Mention(message_id=message_id, user_id=bob.user_id, room_id=general.id, posted_seq=1),
        NotifySetting(user_id=bob.user_id, room_id=general.id, level="all", muted_until=when),
        NotifyAccount(user_id=bob.user_id, push=False, email_digest=True, digest_minutes=15),
        OidcIdentity(issuer="https://sso.example", subject="bob-1", user_id=bob.user_id,
                     email="bob@example.com"),
    ])
    db.session.commit()
    invitations.create(db.session.get(User, alice.user_id), max_uses=3, hours=24)
    audit.record("role_changed", actor=alice, target="user:bob", details={"admin": False})
