"""Your data: retention settings per room (issue 20).

Reserved in the chain so that work on separate branches keeps one head; filled in by its feature.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:20:00

"""

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
