"""Read state and mentions on both databases (``database_url``: SQLite and PostgreSQL): the
monotonic upsert, posted_seq through both group-commit paths, mention rows, and the migration's
backfill of posted_seq."""
from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from webapp import accounts
from webapp.chat import changes, ops, reads, service
from webapp.extensions import db
from webapp.models import Message

ROOM = "general"


def person(name: str) -> service.Member:
    user = accounts.find_user(name) or accounts.create_user(name, "long enough password")
    member = service.connect(None, f"sid-{name}", user=user)
    ops.OPS["join"](member, {"room": ROOM}, _Conn(member.sid))
    return member


class _Conn:
    def __init__(self, sid: str) -> None:
        self.sid = sid

    def subscribe(self, room: str) -> None:
        pass

    def unsubscribe(self, room: str) -> None:
        pass


def test_marks_counts_and_mentions(db_app):
    upgrade()
    db_app.config["RATE_LIMIT_READ"] = db_app.config["RATE_LIMIT_MESSAGE"] = "1000 per minute"
    alice, bob = person("alice"), person("bob")
    plain = [ops.post(alice, {"room": ROOM, "text": f"m{i}"})[0]["message"] for i in range(3)]
    loud = ops.post(alice, {"room": ROOM, "text": "@bob look"})[0]["message"]
    assert loud["mentions"] == ["bob"] and loud["seq"] == plain[-1]["seq"] + 1
    posted = dict(db.session.execute(select(Message.id, Message.posted_seq)).all())
    assert [posted[m["id"]] for m in (*plain, loud)] == [m["seq"] for m in (*plain, loud)]
    changes.edit(alice, {"room": ROOM, "id": plain[0]["id"], "text": "m0 again"})
    first = reads.mark(bob, {"room": ROOM, "id": plain[0]["id"]})
    assert first.moved and first.ack["last_read"] == plain[0]["seq"]
    assert (first.ack["unread"], first.ack["mentions"]) == (3, 1)
    back = reads.mark(bob, {"room": ROOM, "seq": 0})
    assert not back.moved and back.ack["last_read"] == plain[0]["seq"]
    done = reads.mark(bob, {"room": ROOM, "id": loud["id"]})
    assert done.moved and (done.ack["unread"], done.ack["mentions"]) == (0, 0)


def test_the_migration_gives_existing_messages_their_seq_as_posted_seq(db_app):
    upgrade(revision="0008")
    db.session.execute(text("INSERT INTO messages (room_id, author, text, created_at, seq) "
                            "VALUES (1, 'old', 'before 0009', CURRENT_TIMESTAMP, 7)"))
    db.session.commit()
    upgrade()
    assert db.session.execute(text("SELECT posted_seq FROM messages")).scalar() == 7
    db.session.commit()  # PostgreSQL: no open transaction to hold the table the downgrade alters
    downgrade(revision="0008")
    upgrade()
