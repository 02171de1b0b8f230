"""Job heartbeats (a stalled job is shown as such) and the runs of the periodic work

Revision ID: 1c2d3e4f5a6b
Revises: 967a6a0574fb
Create Date: 2026-12-07 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '1c2d3e4f5a6b'
down_revision = '967a6a0574fb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))

    # one row per periodic job and due time: the primary key makes a run happen once, whichever
    # server thread or process claims it first
    op.create_table(
        'scheduled_runs',
        sa.Column('job', sa.String(length=60), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('message', sa.String(length=500), nullable=True),
        sa.Column('runner', sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('berjalan', 'selesai', 'gagal')", name=op.f('ck_scheduled_runs_outcome_known')
        ),
        sa.PrimaryKeyConstraint('job', 'due_at', name=op.f('pk_scheduled_runs')),
    )


def downgrade():
    op.drop_table('scheduled_runs')
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
