"""open service tracks of a provider by service type, for the Sub GT board (partial: only the
tracks that have not ended)

Revision ID: b7d2e9f4a1c3
Revises: c4f1a2b3d5e6
Create Date: 2026-12-07 22:35:00.000000

The query plans that justify the index are in docs/scaling.md ("Indexes and their query plans
— case list and board").
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e9f4a1c3'
down_revision = 'c4f1a2b3d5e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.create_index(
            'ix_service_tracks_provider_open',
            ['provider_id', 'service_type'],
            unique=False,
            postgresql_where=sa.text('ended_at IS NULL'),
            sqlite_where=sa.text('ended_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.drop_index('ix_service_tracks_provider_open')
