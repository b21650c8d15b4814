"""Profiles: display name, avatar, status (issue 18): five nullable columns on ``users``.

Every existing account starts without a profile (all None); nothing else changes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 05:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('avatar', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('status_text', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('status_emoji', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('status_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+), never batch mode's rebuild of ``users``: dropping the old
    # table with foreign keys on deletes every row that references a user (ON DELETE CASCADE).
    for column in ('status_expires_at', 'status_emoji', 'status_text', 'avatar', 'display_name'):
        op.drop_column('users', column)
