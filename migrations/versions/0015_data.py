"""Your data: retention settings per room (issue 20).

Reserved in the chain so that work on separate branches keeps one head; filled in by its feature.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('rooms', sa.Column('retention_days', sa.Integer(), nullable=True))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+, PostgreSQL), not a batch rebuild: on
    # SQLite, rebuilding ``rooms`` drops the old table, which deletes its messages by cascade
    # (see 0006).
    op.drop_column('rooms', 'retention_days')
