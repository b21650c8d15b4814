"""This round's migrations (0009-0015) on SQLite and PostgreSQL: an instance upgraded from the
last release (0008) keeps every account and what refers to it. On SQLite a migration that
rebuilt ``users`` (batch mode, e.g. to add a unique column) would drop the old table, and with
foreign keys on that deletes every token, membership and file of every user (ON DELETE CASCADE).
Messages and what hangs on them (reactions) likewise. Then the new tables' rules hold: one account per e-mail address and per single sign-on identity.
"""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db, migrate
from webapp.models import OidcIdentity, User


def add_user_with_a_token_and_a_room() -> None:
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (name, name_key, password_hash, is_admin, created_at, session_secret)"
            " VALUES ('bob', 'bob', 'x', false, CURRENT_TIMESTAMP, 's')"))
        conn.execute(text(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)"
            " VALUES (1, 'bot', 'h', 'pt_', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO rooms (name, kind, owner_id, created_at, seq, compacted_seq)"
            " VALUES ('design', 'private', 1, CURRENT_TIMESTAMP, 0, 0)"))
        conn.execute(text(
            "INSERT INTO room_members (room_id, user_id, added_at) VALUES (1, 1, CURRENT_TIMESTAMP)"))
        room = conn.scalar(text("SELECT id FROM rooms WHERE name = 'design'"))
        conn.execute(text(
            "INSERT INTO messages (room_id, author, guest, user_id, text, search_text, created_at,"
            " seq, last_change, reply_count) VALUES (:room, 'bob', false, 1, 'hello there',"
            " 'hello there', CURRENT_TIMESTAMP, 1, 'message', 0)"), {"room": room})
        conn.execute(text(
            "INSERT INTO reactions (message_id, user_key, emoji, user_name, created_at)"
            " SELECT id, 'user:1', 'x', 'bob', CURRENT_TIMESTAMP FROM messages"))


def counts() -> tuple:
    with db.engine.connect() as conn:
        return tuple(conn.scalar(text(f"SELECT count(*) FROM {table}"))
                     for table in ("users", "api_tokens", "rooms WHERE name = 'design'",
                                   "room_members", "messages", "reactions"))


def no_difference() -> bool:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=migrate.alembic_ctx_kwargs)
        return compare_metadata(context, db.metadata) == []


def test_upgrading_from_the_last_release_keeps_accounts_tokens_and_memberships(db_app):
    upgrade(revision="0008")
    add_user_with_a_token_and_a_room()
    upgrade()
    assert counts() == (1, 1, 1, 1, 1, 1)
    assert no_difference()
    downgrade(revision="0008")
    assert counts() == (1, 1, 1, 1, 1, 1)
    upgrade()
    assert counts() == (1, 1, 1, 1, 1, 1)
    assert no_difference()


def test_one_account_per_address_and_per_identity(db_app):
    upgrade()
    db.session.add_all([
        User(name="a", name_key="a", password_hash="x", email="a@x.org"),
        User(name="b", name_key="b", password_hash="x", email="a@x.org"),
    ])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(User(name="a", name_key="a", password_hash="x"))
    db.session.commit()
    db.session.add_all([OidcIdentity(issuer="https://idp", subject="1", user_id=1),
                        OidcIdentity(issuer="https://idp", subject="1", user_id=1)])
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
