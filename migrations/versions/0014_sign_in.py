"""Sign-in: two-factor authentication, recovery codes, password reset, single sign-on identities (issue 20).

Tables two_factor, recovery_codes and oidc_identities; and users.email / users.email_key, which
migration 0010 (notifications) adds too: created here only if absent, so either branch may be
merged first. SQLite: the columns are added in place and email_key's uniqueness is a unique
index, never a rebuild of ``users`` (dropping the old table would cascade, see 0004).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 05:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    _add_user_email()
    op.create_table(
        'two_factor',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.BigInteger(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_two_factor_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_two_factor')),
    )
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'])
    op.create_table(
        'oidc_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_oidc_identities_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_identities')),
        sa.UniqueConstraint('issuer', 'subject', name='uq_oidc_identities_issuer'),
    )
    op.create_index(op.f('ix_oidc_identities_user_id'), 'oidc_identities', ['user_id'])


def _add_user_email():
    """users.email and users.email_key, unless migration 0010 made them already."""
    if 'email' in {column['name'] for column in sa.inspect(op.get_bind()).get_columns('users')}:
        return
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.add_column('users', sa.Column('email', sa.String(length=254), nullable=True))
        op.add_column('users', sa.Column('email_key', sa.String(length=254), nullable=True))
        op.create_unique_constraint('uq_users_email_key', 'users', ['email_key'])
        return
    # SQLite adds no UNIQUE column in place, so ``users`` is rebuilt: with foreign keys off,
    # or dropping the old table would delete every row that references a user (ON DELETE
    # CASCADE). The pragma is ignored inside a transaction, so the one open is committed first.
    _commit(bind)
    bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    try:
        with op.batch_alter_table('users') as batch:
            batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
            batch.add_column(sa.Column('email_key', sa.String(length=254), nullable=True))
            batch.create_unique_constraint('uq_users_email_key', ['email_key'])
        _commit(bind)
    finally:
        bind.exec_driver_sql('PRAGMA foreign_keys=ON')


def _commit(bind):
    if bind.connection.driver_connection.in_transaction:
        bind.exec_driver_sql('COMMIT')


def downgrade():
    op.drop_index(op.f('ix_oidc_identities_user_id'), table_name='oidc_identities')
    op.drop_table('oidc_identities')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_table('two_factor')
    # users.email stays: migration 0010 (notifications) owns it once both are merged, and
    # upgrading again finds it in place.
