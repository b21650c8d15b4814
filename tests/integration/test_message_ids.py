"""Message ids only grow: the id of a deleted message is never handed out again, on either database.

Clients catch up with ``history after=<the last id they saw>``. Were the id of a deleted newest
message handed out again, a client that saw the deleted one would never see the new one.
The messages go through the real paths: ``post_message`` (the group commit's text SQL) and the
admin's ``delete_message`` (a tombstone now, whose id stays taken all the more). The PostgreSQL cases get a database of their own.
"""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from webapp import accounts
from webapp.chat import changes, service
from webapp.extensions import db, migrate
from webapp.models import Message

ROOM = "general"

def people() -> tuple[service.Member, service.Member]:
    """A guest who posts in ``general`` and an admin who deletes."""
    alice = service.connect({"name": "alice"}, "sid-alice")
    service.join(alice, {"room": ROOM})
    root = accounts.create_user("root", "long enough password", admin=True)
    return alice, service.connect(None, "sid-root", user=root)


def post(member: service.Member, words: str) -> int:
    message, new = service.post_message(member, {"room": ROOM, "text": words})
    assert new
    return message["id"]


def catch_up(member: service.Member, after: int) -> list[int]:
    return [m["id"] for m in service.history(member, {"room": ROOM, "after": after})]


def delete_newest_then_post_again(alice, admin, handed_out: list[int], deletions: int) -> None:
    """Delete the newest ``deletions`` messages, post, and check the new id as a client would."""
    for _ in range(deletions):
        newest = select(func.max(Message.id)).where(Message.deleted_at.is_(None))
        changes.delete_message(admin, {"id": db.session.scalar(newest)})
    last_seen = max(handed_out)  # a client saw it before it was deleted
    new_id = post(alice, "after a delete")
    assert new_id > last_seen, f"id {new_id} handed out again (had gone up to {last_seen})"
    assert catch_up(alice, after=last_seen) == [new_id]
    handed_out.append(new_id)


def test_the_id_of_a_deleted_newest_message_is_never_handed_out_again(db_app):
    upgrade()
    alice, admin = people()
    handed_out = [post(alice, f"hello {i}") for i in range(3)]
    delete_newest_then_post_again(alice, admin, handed_out, deletions=1)
    delete_newest_then_post_again(alice, admin, handed_out, deletions=2)
    assert handed_out == sorted(handed_out)


def test_upgrading_from_0002_keeps_every_message_and_stops_the_reuse(db_app):
    upgrade(revision="0002")
    with db.engine.begin() as conn:  # messages as 0002's code stored them, one deleted since
        for i in range(1, 6):
            conn.execute(text(
                "INSERT INTO messages (room_id, author, guest, text, client_id, created_at)"
                " VALUES (1, :author, :guest, :text, :client_id, CURRENT_TIMESTAMP)"
            ), {"author": "bob" if i % 2 else "carol", "guest": i % 2 == 1,
                "text": f"before {i}", "client_id": f"c{i}"})
        conn.execute(text("DELETE FROM messages WHERE id = 3"))
    before = stored_rows()
    assert [row[0] for row in before] == [1, 2, 4, 5]

    upgrade()

    assert stored_rows() == before
    with db.engine.connect() as conn:
        # Indexes, the unique (author, client_id) and the foreign key are those the models declare.
        context = MigrationContext.configure(conn, opts=migrate.alembic_ctx_kwargs)
        assert compare_metadata(context, db.metadata) == []
    # A client's retry of a stored (author, client_id) still finds the stored message.
    retry, new = service.store_message(ROOM, "bob", "before 1", "c1", guest=True)
    assert (retry["id"], new) == (1, False)
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO messages (room_id, author, guest, text, client_id, created_at)"
                          " VALUES (1, 'bob', true, 'dup', 'c1', CURRENT_TIMESTAMP)"))

    alice, admin = people()
    handed_out = [1, 2, 3, 4, 5]
    delete_newest_then_post_again(alice, admin, handed_out, deletions=1)  # one from before
    delete_newest_then_post_again(alice, admin, handed_out, deletions=1)  # one from after


def stored_rows() -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT id, room_id, author, guest, text, client_id, created_at FROM messages ORDER BY id"
        ))]
