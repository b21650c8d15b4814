"""SQLite's search index written in batches behind the messages (webapp/chat/search_index.py).

The trigger that indexed every message in its own insert goes; ``messages_search_mark`` holds
the highest message id indexed (all of them, at this migration). Edits and deletions change the
index only for indexed messages. PostgreSQL: nothing changes (its trigram index is PostgreSQL's).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 13:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

INDEXED = "old.id <= (SELECT id FROM messages_search_mark)"
DELETE = ("INSERT INTO messages_search(messages_search, rowid, search_text) "
          "VALUES ('delete', old.id, old.search_text); ")
INSERT = "INSERT INTO messages_search(rowid, search_text) VALUES (new.id, new.search_text); "


def _triggers(when: str) -> None:
    op.execute("DROP TRIGGER messages_search_delete")
    op.execute("DROP TRIGGER messages_search_update")
    op.execute(f"CREATE TRIGGER messages_search_delete AFTER DELETE ON messages {when}"
               f"BEGIN {DELETE}END")
    op.execute(f"CREATE TRIGGER messages_search_update AFTER UPDATE OF search_text ON messages "
               f"{when}BEGIN {DELETE}{INSERT}END")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE messages_search_mark (id INTEGER NOT NULL)")
    op.execute("INSERT INTO messages_search_mark (id) SELECT coalesce(max(id), 0) FROM messages")
    op.execute("DROP TRIGGER messages_search_insert")
    _triggers(f"WHEN {INDEXED} ")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("INSERT INTO messages_search (rowid, search_text) SELECT id, search_text "
               "FROM messages WHERE id > (SELECT id FROM messages_search_mark)")
    _triggers("")
    op.execute("CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN "
               f"{INSERT}END")
    op.execute("DROP TABLE messages_search_mark")
