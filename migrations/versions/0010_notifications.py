"""Notification settings, push subscriptions, e-mail digests and the durable outbox (issue 18).

Adds users.email (nullable, stored lower-cased, unique), per-room settings (notify_settings),
account preferences (notify_accounts), browser push subscriptions, the outbox (notifications)
and its one-row watermark (notify_cursor). All start empty.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 05:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notify_cursor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notify_cursor'))
    )
    op.create_table('notify_accounts',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('push', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('email_digest', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('digest_minutes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notify_accounts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notify_accounts'))
    )
    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=1024), nullable=False),
    sa.Column('p256dh', sa.String(length=128), nullable=False),
    sa.Column('auth', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_push_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_user_id'), ['user_id'], unique=False)

    op.create_table('notify_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), server_default='mentions', nullable=False),
    sa.Column('muted_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_notify_settings_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notify_settings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'room_id', name=op.f('pk_notify_settings'))
    )
    with op.batch_alter_table('notify_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notify_settings_room_id'), ['room_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_notifications_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_notifications_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('message_id', 'user_id', 'target', name='uq_notifications_message')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_notifications_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_user_id'), ['user_id'], unique=False)

    # The outbox starts at the newest message: nobody is notified of the history before it.
    op.execute("INSERT INTO notify_cursor (id, message_id) SELECT 1, COALESCE(MAX(id), 0) "
               "FROM messages")
    # A unique index rather than a unique constraint: SQLite adds neither a UNIQUE column nor a
    # constraint in place, and rebuilding ``users`` (batch mode) with foreign keys on would delete
    # every row that references a user (ON DELETE CASCADE): tokens, memberships, files.
    op.add_column('users', sa.Column('email', sa.String(length=254), nullable=True))
    op.create_index(op.f('ix_users_email'), 'users', ['email'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_users_email'), table_name='users')
    op.drop_column('users', 'email')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_user_id'))
        batch_op.drop_index('ix_notifications_status_due_at')
        batch_op.drop_index(batch_op.f('ix_notifications_message_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('notify_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notify_settings_room_id'))

    op.drop_table('notify_settings')
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_user_id'))

    op.drop_table('push_subscriptions')
    op.drop_table('notify_accounts')
    op.drop_table('notify_cursor')
