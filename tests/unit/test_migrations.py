"""The committed migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from webapp.extensions import db, migrate


def test_upgrade_builds_the_schema_and_autogenerate_finds_no_difference(app):
    # the `app` fixture has already run `upgrade()` on an empty database
    with app.app_context():
        assert {"rooms", "messages", "alembic_version"} <= set(inspect(db.engine).get_table_names())
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=migrate.alembic_ctx_kwargs)
            assert compare_metadata(context, db.metadata) == []


def autoincrement_tables() -> dict[str, bool]:
    """Each table the models declare ``sqlite_autoincrement``: whether the database has it."""
    with db.engine.connect() as connection:
        return {
            table.name: "AUTOINCREMENT" in connection.scalar(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
                {"name": table.name},
            ).upper()
            for table in db.metadata.sorted_tables
            if table.dialect_options["sqlite"]["autoincrement"]
        }


def test_tables_declared_autoincrement_have_it_on_sqlite(app):
    # Autogenerate does not compare it: 0002 rebuilt messages without it, unnoticed until 0003.
    with app.app_context():
        assert autoincrement_tables() == {"messages": True}


def test_downgrading_to_0002_and_back_keeps_messages_and_their_ids(app):
    with app.app_context():
        with db.engine.begin() as connection:
            for words in ("one", "two", "three"):
                connection.execute(text(
                    "INSERT INTO messages (room_id, author, text, created_at)"
                    " VALUES (1, 'bob', :words, CURRENT_TIMESTAMP)"
                ), {"words": words})
            connection.execute(text("DELETE FROM messages WHERE id = 3"))
        downgrade(revision="0002")
        upgrade()
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT id, text FROM messages ORDER BY id")).all() == [
                (1, "one"), (2, "two"),
            ]
            new_id = connection.scalar(text(
                "INSERT INTO messages (room_id, author, text, created_at)"
                " VALUES (1, 'bob', 'four', CURRENT_TIMESTAMP) RETURNING id"
            ))
        assert new_id == 4
        assert autoincrement_tables() == {"messages": True}


def test_0006_numbers_existing_messages_and_knows_their_authors(app):
    """What was posted before the change log: numbered 1, 2, ... per room in id order (each
    room's seq its last), and an account's messages tied to the account so its owner can edit."""
    with app.app_context():
        downgrade(revision="0005")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO users (name, name_key, password_hash, is_admin, created_at, "
                "session_secret) VALUES ('Alice', 'alice', 'x', false, CURRENT_TIMESTAMP, 's')"))
            connection.execute(text("INSERT INTO rooms (name, kind, created_at) "
                                    "VALUES ('other', 'public', CURRENT_TIMESTAMP)"))
            for room, author, guest in ((1, "Alice", False), (2, "bob", True), (1, "bob", True),
                                        (2, "Alice", False), (1, "Alice", False)):
                connection.execute(text(
                    "INSERT INTO messages (room_id, author, guest, text, created_at) "
                    "VALUES (:room, :author, :guest, 'old', CURRENT_TIMESTAMP)"),
                    {"room": room, "author": author, "guest": guest})
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT room_id, seq, user_id FROM messages ORDER BY id")).all()
            seqs = dict(connection.execute(text("SELECT id, seq FROM rooms")).all())
    assert rows == [(1, 1, 1), (2, 1, None), (1, 2, None), (2, 2, 1), (1, 3, 1)]
    assert seqs == {1: 3, 2: 2}
