"""Read state per user and room, mentions, read receipts (issue 18).

Reserved in the chain so that work on separate branches keeps one head; filled in by its feature.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 05:20:00

"""

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
