"""case list indexes: an agency's cases by (received_at, id) for keyset pages, and the cases
an agency took over by transfer (partial: only those rows)

Revision ID: c4a5e1d0b7f2
Revises: 7030c4a575f9
Create Date: 2026-12-07 19:40:00.000000

The query plans that justify each index are in docs/scaling.md ("Indexes and their query plans
— case list and board").
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a5e1d0b7f2'
down_revision = '7030c4a575f9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(
            'ix_cases_agency_received_at_id', ['agency_id', 'received_at', 'id'], unique=False
        )
        batch_op.create_index(
            'ix_cases_agency_transferred_from',
            ['agency_id', 'transferred_from_id'],
            unique=False,
            postgresql_where=sa.text('transferred_from_id IS NOT NULL'),
            sqlite_where=sa.text('transferred_from_id IS NOT NULL'),
        )


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_agency_transferred_from')
        batch_op.drop_index('ix_cases_agency_received_at_id')
