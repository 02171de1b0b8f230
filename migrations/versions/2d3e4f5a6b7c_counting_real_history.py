"""Counting real history: when a track entered the plan, the first registration of a case's
people (followed back through transfers), and a guardian's consent without a name (legacy data)

Revision ID: 2d3e4f5a6b7c
Revises: 1c2d3e4f5a6b
Create Date: 2026-12-07 08:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '2d3e4f5a6b7c'
down_revision = '1c2d3e4f5a6b'
branch_labels = None
depends_on = None

# transfers are followed back at most this many times (a chain of transfers is short)
CHAIN_STEPS = 20


def upgrade():
    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_at', sa.DateTime(timezone=True), nullable=True))
    # a track planned in the application: when it was created; an imported one: from the
    # record's own times (the assessment, else the registration; earlier if it started
    # earlier), never the time of the import
    op.execute("UPDATE service_tracks SET planned_at = created_at")
    op.execute(
        """
        UPDATE service_tracks SET planned_at = (
            SELECT CASE
                WHEN service_tracks.started_at IS NOT NULL
                     AND service_tracks.started_at < COALESCE(c.assessment_completed_at, c.received_at)
                THEN service_tracks.started_at
                ELSE COALESCE(c.assessment_completed_at, c.received_at)
            END
            FROM cases c WHERE c.id = service_tracks.case_id)
        WHERE EXISTS (
            SELECT 1 FROM case_transitions t
            WHERE t.track_id = service_tracks.id AND t.kind = 'import')
        """
    )
    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.alter_column('planned_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_received_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_agency_id', sa.Integer(), nullable=True))
    op.execute("UPDATE cases SET first_received_at = received_at, first_agency_id = agency_id")
    for _ in range(CHAIN_STEPS):
        op.execute(
            """
            UPDATE cases SET
                first_received_at = (SELECT o.first_received_at FROM cases o
                                     WHERE o.id = cases.transferred_from_id),
                first_agency_id = (SELECT o.first_agency_id FROM cases o
                                   WHERE o.id = cases.transferred_from_id)
            WHERE transferred_from_id IS NOT NULL
            """
        )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('first_received_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('first_agency_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_cases_first_agency_id_agencies'), 'agencies', ['first_agency_id'], ['id'],
            ondelete='RESTRICT',
        )
        batch_op.create_index(batch_op.f('ix_cases_first_received_at'), ['first_received_at'], unique=False)

    # interfaces.md §3: a guardian's consent without a name is kept (and flagged for data
    # quality), not refused
    with op.batch_alter_table('consent_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consent_entries_guardian_named'), type_='check')


def downgrade():
    with op.batch_alter_table('consent_entries', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'guardian_named', "given_by = 'korban' OR given_by_name IS NOT NULL"
        )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_first_received_at'))
        batch_op.drop_constraint(batch_op.f('fk_cases_first_agency_id_agencies'), type_='foreignkey')
        batch_op.drop_column('first_agency_id')
        batch_op.drop_column('first_received_at')
    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.drop_column('planned_at')
