"""Running it for a team: registration invitations, the audit log, two-factor authentication (issue 20).

Reserved in the chain so that work on separate branches keeps one head; filled in by its feature.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 05:20:00

"""

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
