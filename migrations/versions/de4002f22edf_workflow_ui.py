"""workflow ui: biopsikososial assessments with their findings per area, case transfers
(pelimpahan), the case a transferred case came from, cancelled deadlines, notification keys

Revision ID: de4002f22edf
Revises: 365e55791dfb
Create Date: 2026-11-23 04:49:22.270011

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'de4002f22edf'
down_revision = '365e55791dfb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_agency_id', sa.Integer(), nullable=False),
    sa.Column('to_agency_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('menunggu', 'diterima', 'ditolak', 'dibatalkan', name='transfer_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(length=1000), nullable=True),
    sa.Column('new_case_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(state = 'menunggu') = (decided_at IS NULL)", name=op.f('ck_case_transfers_decided_unless_waiting')),
    sa.CheckConstraint("state <> 'diterima' OR new_case_id IS NOT NULL", name=op.f('ck_case_transfers_accepted_case')),
    sa.CheckConstraint('from_agency_id <> to_agency_id', name=op.f('ck_case_transfers_to_another_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_transfers_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_case_transfers_decided_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['from_agency_id'], ['agencies.id'], name=op.f('fk_case_transfers_from_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['new_case_id'], ['cases.id'], name=op.f('fk_case_transfers_new_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_case_transfers_requested_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_agency_id'], ['agencies.id'], name=op.f('fk_case_transfers_to_agency_id_agencies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transfers'))
    )
    with op.batch_alter_table('case_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_transfers_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_transfers_to_agency_id'), ['to_agency_id'], unique=False)
        batch_op.create_index('uq_case_transfers_one_open', ['case_id'], unique=True, postgresql_where=sa.text("state = 'menunggu'"), sqlite_where=sa.text("state = 'menunggu'"))

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('(completed_at IS NULL) = (completed_by_id IS NULL)', name=op.f('ck_assessments_completed_by_whom')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_assessments_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_assessments_completed_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_assessments_updated_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_assessments_victim_id_victims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('victim_id', name=op.f('uq_assessments_victim_id'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_case_id'), ['case_id'], unique=False)

    op.create_table('assessment_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.Enum('fisik', 'psikologis', 'sosial', 'ekonomi', 'pendidikan', 'hukum', 'spiritual', name='assessment_area', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('level', sa.Enum('tidak_ada', 'rendah', 'sedang', 'tinggi', name='need_level', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('needs', sa.Text(), nullable=True),
    sa.Column('risks', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_findings_assessment_id_assessments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_findings')),
    sa.UniqueConstraint('assessment_id', 'area', name=op.f('uq_assessment_findings_assessment_id_area'))
    )
    with op.batch_alter_table('assessment_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_findings_assessment_id'), ['assessment_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transferred_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cases_transferred_from_id_cases'), 'cases', ['transferred_from_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_deadlines_cancelled_or_completed'),
            'cancelled_at IS NULL OR completed_at IS NULL',
        )

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key', sa.String(length=80), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_user_id_key'), ['user_id', 'key'])



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notifications_user_id_key'), type_='unique')
        batch_op.drop_column('key')

    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_deadlines_cancelled_or_completed'), type_='check')
        batch_op.drop_column('cancelled_at')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_transferred_from_id_cases'), type_='foreignkey')
        batch_op.drop_column('transferred_from_id')

    with op.batch_alter_table('assessment_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_findings_assessment_id'))

    op.drop_table('assessment_findings')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_case_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('case_transfers', schema=None) as batch_op:
        batch_op.drop_index('uq_case_transfers_one_open', postgresql_where=sa.text("state = 'menunggu'"), sqlite_where=sa.text("state = 'menunggu'"))
        batch_op.drop_index(batch_op.f('ix_case_transfers_to_agency_id'))
        batch_op.drop_index(batch_op.f('ix_case_transfers_case_id'))

    op.drop_table('case_transfers')
