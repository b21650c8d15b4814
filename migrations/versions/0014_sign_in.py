"""Sign-in: two-factor authentication, recovery codes, password reset, single sign-on identities (issue 20).

Reserved in the chain so that work on separate branches keeps one head; filled in by its feature.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 05:20:00

"""

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
