"""Integrations: outgoing and incoming webhooks, slash commands (issue 20).

Tables webhooks, webhook_deliveries, incoming_webhooks, slash_commands; rooms.topic (/topic) and
messages.meta (/me, and the bot mark of what integrations post).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 05:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Columns added by plain ALTER TABLE (SQLite adds a nullable column in place): a batch
    # rebuild of messages would drop its search triggers (0007).
    op.add_column('messages', sa.Column('meta', sa.Text(), nullable=True))
    op.add_column('rooms', sa.Column('topic', sa.String(length=250), nullable=True))
    op.create_table('webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('trigger', sa.String(length=64), nullable=True),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('cursor', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_status', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('last_delivery_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_webhooks_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_webhooks_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    op.create_index(op.f('ix_webhooks_room_id'), 'webhooks', ['room_id'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('webhook_id', 'message_id', name='uq_webhook_deliveries_message')
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['done_at', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_webhook_deliveries_message_id'), 'webhook_deliveries', ['message_id'], unique=False)
    op.create_table('incoming_webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_incoming_webhooks_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_incoming_webhooks_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_webhooks')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_incoming_webhooks_token_hash'))
    )
    op.create_index(op.f('ix_incoming_webhooks_room_id'), 'incoming_webhooks', ['room_id'], unique=False)
    op.create_table('slash_commands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_slash_commands_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_slash_commands_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slash_commands')),
    sa.UniqueConstraint('room_id', 'name', name='uq_slash_commands_room_name')
    )
    op.create_index(op.f('ix_slash_commands_room_id'), 'slash_commands', ['room_id'], unique=False)


def downgrade():
    op.drop_table('slash_commands')
    op.drop_table('incoming_webhooks')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): no batch rebuild of messages (see upgrade).
    op.execute('ALTER TABLE rooms DROP COLUMN topic')
    op.execute('ALTER TABLE messages DROP COLUMN meta')
