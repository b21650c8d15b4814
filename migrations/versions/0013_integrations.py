"""Integrations: outgoing and incoming webhooks, slash commands (issue 20).

Reserved in the chain so that work on separate branches keeps one head; filled in by its feature.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 05:20:00

"""

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
