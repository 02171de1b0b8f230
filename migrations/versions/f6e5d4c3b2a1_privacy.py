"""privacy: data-subject requests (access, restriction, erasure), restrictions of a victim's
identity and the erasures done (UU 27/2022)

Revision ID: f6e5d4c3b2a1
Revises: a1b2c3d4e5f6
Create Date: 2026-11-23 06:18:31.517902

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6e5d4c3b2a1'
down_revision = 'a1b2c3d4e5f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_subject_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('akses', 'pembatasan', 'penghapusan', name='data_request_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('requester', sa.String(length=500), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('deadline_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('dipenuhi', 'ditolak', name='data_request_outcome', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.CheckConstraint('(decided_at IS NULL) = (outcome IS NULL)', name=op.f('ck_data_subject_requests_decided_iff_outcome')),
    sa.CheckConstraint('outcome IS NULL OR reason IS NOT NULL', name=op.f('ck_data_subject_requests_decided_with_reason')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_data_subject_requests_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_data_subject_requests_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadlines.id'], name=op.f('fk_data_subject_requests_deadline_id_deadlines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_data_subject_requests_decided_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_data_subject_requests_person_id_persons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_data_subject_requests_recorded_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_data_subject_requests_victim_id_victims'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_subject_requests'))
    )
    with op.batch_alter_table('data_subject_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_subject_requests_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_subject_requests_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_subject_requests_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_subject_requests_victim_id'), ['victim_id'], unique=False)

    op.create_table('victim_erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.Enum('permintaan', 'retensi', name='erasure_basis', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['erased_by_id'], ['users.id'], name=op.f('fk_victim_erasures_erased_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['data_subject_requests.id'], name=op.f('fk_victim_erasures_request_id_data_subject_requests'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_victim_erasures_victim_id_victims'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_erasures')),
    sa.UniqueConstraint('victim_id', name=op.f('uq_victim_erasures_victim_id'))
    )
    op.create_table('victim_restrictions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('restricted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('restricted_by_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', sa.String(length=1000), nullable=True),
    sa.CheckConstraint('(lifted_at IS NULL) = (lifted_by_id IS NULL AND lift_reason IS NULL)', name=op.f('ck_victim_restrictions_lifted_with_reason')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_victim_restrictions_lifted_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['request_id'], ['data_subject_requests.id'], name=op.f('fk_victim_restrictions_request_id_data_subject_requests'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['restricted_by_id'], ['users.id'], name=op.f('fk_victim_restrictions_restricted_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_victim_restrictions_victim_id_victims'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victim_restrictions'))
    )
    with op.batch_alter_table('victim_restrictions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victim_restrictions_victim_id'), ['victim_id'], unique=False)
        batch_op.create_index('uq_victim_restrictions_one_active', ['victim_id'], unique=True, postgresql_where=sa.text('lifted_at IS NULL'), sqlite_where=sa.text('lifted_at IS NULL'))



def downgrade():
    with op.batch_alter_table('victim_restrictions', schema=None) as batch_op:
        batch_op.drop_index('uq_victim_restrictions_one_active', postgresql_where=sa.text('lifted_at IS NULL'), sqlite_where=sa.text('lifted_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_victim_restrictions_victim_id'))

    op.drop_table('victim_restrictions')
    op.drop_table('victim_erasures')
    with op.batch_alter_table('data_subject_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_subject_requests_victim_id'))
        batch_op.drop_index(batch_op.f('ix_data_subject_requests_person_id'))
        batch_op.drop_index(batch_op.f('ix_data_subject_requests_case_id'))
        batch_op.drop_index(batch_op.f('ix_data_subject_requests_agency_id'))

    op.drop_table('data_subject_requests')
