"""Notification settings, push subscriptions, e-mail digests and the durable outbox (issue 18).

Reserved in the chain so that work on separate branches keeps one head; filled in by its feature.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 05:20:00

"""

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
