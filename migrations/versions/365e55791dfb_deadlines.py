"""deadlines: agency overrides of the service standards (deadline_rules) and deadline rows

Revision ID: 365e55791dfb
Revises: d1d4a8c47339
Create Date: 2026-11-23 04:19:56.815082

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '365e55791dfb'
down_revision = 'd1d4a8c47339'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deadline_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Enum('first_response_tinggi', 'first_response_sedang', 'first_response_rendah', 'police_report_tpks', 'shelter_decision', 'referral_response', 'tppo_service_start', 'restitution_paid', 'data_subject_restriction', 'breach_notice', name='deadline_rule_code', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('limit', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('"limit" > 0', name=op.f('ck_deadline_rules_limit_positive')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_deadline_rules_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_deadline_rules_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_rules')),
    sa.UniqueConstraint('agency_id', 'code', name=op.f('uq_deadline_rules_agency_id_code'))
    )
    with op.batch_alter_table('deadline_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_rules_agency_id'), ['agency_id'], unique=False)

    op.create_table('deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.Enum('first_response_tinggi', 'first_response_sedang', 'first_response_rendah', 'police_report_tpks', 'shelter_decision', 'referral_response', 'tppo_service_start', 'restitution_paid', 'data_subject_restriction', 'breach_notice', name='deadline_code', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responsible_user_id', sa.Integer(), nullable=True),
    sa.Column('responsible_agency_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('missed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('escalated_at IS NULL OR missed_at IS NOT NULL', name=op.f('ck_deadlines_escalated_if_missed')),
    sa.CheckConstraint('met_at IS NULL OR completed_at IS NOT NULL', name=op.f('ck_deadlines_met_only_when_completed')),
    sa.CheckConstraint('met_at IS NULL OR missed_at IS NULL', name=op.f('ck_deadlines_not_met_and_missed')),
    sa.CheckConstraint('notified_at IS NULL OR missed_at IS NOT NULL', name=op.f('ck_deadlines_notified_if_missed')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_deadlines_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['responsible_agency_id'], ['agencies.id'], name=op.f('fk_deadlines_responsible_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['responsible_user_id'], ['users.id'], name=op.f('fk_deadlines_responsible_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['track_id'], ['service_tracks.id'], name=op.f('fk_deadlines_track_id_service_tracks'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadlines'))
    )
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadlines_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_deadlines_open_due', ['completed_at', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadlines_responsible_agency_id'), ['responsible_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadlines_responsible_user_id'), ['responsible_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadlines_track_id'), ['track_id'], unique=False)



def downgrade():
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadlines_track_id'))
        batch_op.drop_index(batch_op.f('ix_deadlines_responsible_user_id'))
        batch_op.drop_index(batch_op.f('ix_deadlines_responsible_agency_id'))
        batch_op.drop_index('ix_deadlines_open_due')
        batch_op.drop_index(batch_op.f('ix_deadlines_case_id'))

    op.drop_table('deadlines')
    with op.batch_alter_table('deadline_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_rules_agency_id'))

    op.drop_table('deadline_rules')
