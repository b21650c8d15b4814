"""Read state per user and room, mentions, read receipts (issue 18).

``messages.posted_seq``: the seq a message was posted with (``seq`` moves with every later
change); existing rows take their current ``seq``, the closest value still known (an edited
message counts as posted at its latest change). ``room_reads``: how far each user has read each
room. ``mentions``: who a message mentions. ``users.send_receipts``: the receipts setting.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 05:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('room_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('last_read_seq', BigId, server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_room_reads_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_room_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'room_id', name=op.f('pk_room_reads'))
    )
    with op.batch_alter_table('room_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_reads_room_id'), ['room_id'], unique=False)

    op.create_table('mentions',
    sa.Column('message_id', BigId, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('posted_seq', BigId, nullable=False),
    sa.Column('via', sa.String(length=8), server_default='name', nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_mentions_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_mentions_room_id_rooms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mentions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'user_id', name=op.f('pk_mentions'))
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index('ix_mentions_user_id_message_id', ['user_id', 'message_id'], unique=False)
        batch_op.create_index('ix_mentions_user_id_room_id_posted_seq', ['user_id', 'room_id', 'posted_seq'], unique=False)

    # Plain ADD COLUMN on both databases (no table copy: SQLite's search triggers stay).
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('posted_seq', BigId, server_default='0', nullable=False))
        batch_op.add_column(sa.Column('mentions_all', sa.String(length=8), nullable=True))
    op.execute("UPDATE messages SET posted_seq = seq")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_room_id_posted_seq', ['room_id', 'posted_seq'], unique=False)

    # Plain ADD COLUMN here too: batch mode would rebuild ``users`` on SQLite, and dropping the
    # old table with foreign keys on deletes every row that references a user (ON DELETE
    # CASCADE): tokens, memberships, files (tests/integration/test_upgrade_keeps_accounts.py).
    op.add_column('users', sa.Column('send_receipts', sa.Boolean(), server_default=sa.true(),
                                     nullable=False))


def downgrade():
    op.drop_column('users', 'send_receipts')  # in place, as above

    op.drop_index('ix_messages_room_id_posted_seq', table_name='messages')
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch's table copy: a copy of messages
    # would lose SQLite's search triggers (migration 0007).
    op.execute("ALTER TABLE messages DROP COLUMN mentions_all")
    op.execute("ALTER TABLE messages DROP COLUMN posted_seq")

    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_user_id_room_id_posted_seq')
        batch_op.drop_index('ix_mentions_user_id_message_id')

    op.drop_table('mentions')
    with op.batch_alter_table('room_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_reads_room_id'))

    op.drop_table('room_reads')
