"""outbox: a task marks its row completed itself (sent is not done); rows sent and never
completed are sent again, counted in deliveries, and given up (failed_at) after too many

Revision ID: b9e9ac429298
Revises: 66d1f4092c27
Create Date: 2026-12-08 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b9e9ac429298'
down_revision = '66d1f4092c27'
branch_labels = None
depends_on = None

UNFINISHED = 'sent_at IS NOT NULL AND completed_at IS NULL AND failed_at IS NULL'


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deliveries', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
    # Rows sent before this revision were counted as delivered; nothing can tell now whether
    # their task ran, so they stay counted as completed (and are not all sent again at once).
    op.execute('UPDATE outbox SET completed_at = sent_at, deliveries = 1 WHERE sent_at IS NOT NULL')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('deliveries', server_default=None)
        batch_op.create_index('ix_outbox_unfinished', ['sent_at'], unique=False, postgresql_where=sa.text(UNFINISHED), sqlite_where=sa.text(UNFINISHED))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unfinished', postgresql_where=sa.text(UNFINISHED), sqlite_where=sa.text(UNFINISHED))
        batch_op.drop_column('failed_at')
        batch_op.drop_column('completed_at')
        batch_op.drop_column('deliveries')
