"""Message ids are never reused on SQLite: ``messages`` gets its AUTOINCREMENT back.

0002 rebuilt ``messages`` to add a column (SQLite cannot alter a table in place) from a
reflection of the table, and reflection does not see AUTOINCREMENT. Since then SQLite has handed
out max(id) + 1: after the newest message is deleted the next one takes its id, and a client that
saw the deleted one skips the new one when it catches up with ``after=``.

This rebuilds the table once more with AUTOINCREMENT, copying every row with its id; the index on
(room_id, id), the unique (author, client_id) and the foreign key are recreated as they were.
From then on SQLite remembers the highest id ever handed out (``sqlite_sequence``), which starts
at the current max(id). What cannot be known: the ids of newest messages deleted after the last
message stored before the upgrade. The first message stored after the upgrade takes the lowest of
those ids once more; no id is reused after that.

PostgreSQL: nothing to do, its sequence never goes back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:12:41.318270

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    table_sql = bind.scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'messages'")
    )
    # Already there (made by create_all(), or downgraded from here and back): spare the copy.
    if 'AUTOINCREMENT' not in table_sql.upper():
        with op.batch_alter_table('messages', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}):
            pass
    # Copying the rows with their ids has moved the sequence up to max(id) already; say so
    # rather than rely on it, and never move it down (after a downgrade and upgrade again).
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'messages', 0"
        " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'messages')"
    )
    op.execute(
        "UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(id), 0) FROM messages))"
        " WHERE name = 'messages'"
    )


def downgrade():
    # Nothing to undo: 0002's code runs the same with AUTOINCREMENT, and taking it away would
    # only bring back the reuse of ids (and copy the whole table to do it).
    pass
