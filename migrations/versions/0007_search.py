"""Full-text search: messages.search_text (the text folded) and its trigram index.

SQLite: an FTS5 table ``messages_search`` with the ``trigram`` tokenizer over
``messages.search_text`` (external content: the text is not stored twice more), kept in step by
triggers on ``messages`` -- so a post, an edit and a deletion change the index in their own
transaction. PostgreSQL: the ``pg_trgm`` extension and a GIN index ``messages_search_trgm``.
Both answer ``search_text LIKE '%term%'`` from the index (webapp/chat/search.py).

Existing messages get their folded text here (the folding is copied, not imported: a
migration must do tomorrow what it did today).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 02:10:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BATCH = 5000


def _fold(text: str) -> str:
    """webapp/chat/folding.py's fold as of this migration."""
    if text.isascii():
        return " ".join(text.lower().split())

    def char(c: str) -> str:
        if c.isspace():
            return " "
        return "".join(d for d in unicodedata.normalize("NFKD", c)
                       if not unicodedata.combining(d)).casefold()

    return " ".join("".join(char(c) for c in text).split())


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))

    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT id, text FROM messages WHERE id > :last AND deleted_at IS NULL "
            "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            break
        bind.execute(sa.text("UPDATE messages SET search_text = :folded WHERE id = :id"),
                     [{"id": row.id, "folded": _fold(row.text)} for row in rows])
        last = rows[-1].id

    if bind.dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE messages_search USING fts5(search_text, "
                   "content='messages', content_rowid='id', tokenize='trigram', "
                   "detail='none')")
        op.execute("INSERT INTO messages_search(messages_search) VALUES ('rebuild')")
        op.execute("CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN "
                   "INSERT INTO messages_search(rowid, search_text) "
                   "VALUES (new.id, new.search_text); END")
        op.execute("CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN "
                   "INSERT INTO messages_search(messages_search, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); END")
        op.execute("CREATE TRIGGER messages_search_update AFTER UPDATE OF search_text "
                   "ON messages BEGIN "
                   "INSERT INTO messages_search(messages_search, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); "
                   "INSERT INTO messages_search(rowid, search_text) "
                   "VALUES (new.id, new.search_text); END")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX messages_search_trgm ON messages "
                   "USING gin (search_text gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER messages_search_{trigger}")
        op.execute("DROP TABLE messages_search")
    else:
        op.execute("DROP INDEX messages_search_trgm")
    # Plain ALTER TABLE (see 0006's downgrade): a batch rebuild would lose AUTOINCREMENT.
    op.drop_column('messages', 'search_text')
