"""A session secret per user: logging out, a password change or deactivation ends every login.

Every login (the session cookie and the remember-me cookie) carries its user's secret; a new
secret refuses them all (webapp/accounts.py, "Logins"). Each existing user gets a random one.
Sessions made before the upgrade carry none, so everybody logs in once more afterwards.

SQLite: the column is added in place (ALTER TABLE ... ADD COLUMN, which needs a constant default
for NOT NULL), never by rebuilding ``users``: with foreign keys on, dropping the old table would
cascade to ``api_tokens`` and ``room_members``. The downgrade drops the column in place too.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 09:30:12.604118

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'users',
        sa.Column('session_secret', sa.String(length=32), server_default='', nullable=False),
    )
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_secret', sa.String))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(
            users.update().where(users.c.id == user_id)
            .values(session_secret=secrets.token_urlsafe(16))
        )


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite 3.35+ drops a column in place; batch mode would rebuild (and cascade, above).
        op.execute('ALTER TABLE users DROP COLUMN session_secret')
    else:
        op.drop_column('users', 'session_secret')
