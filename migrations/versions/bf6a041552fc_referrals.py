"""referrals: referrals between agencies with their shared attachments and append-only events,
Sub GT coordination notes, the track workflow version pinned per track, e-mailed notifications

Revision ID: bf6a041552fc
Revises: de4002f22edf
Create Date: 2026-11-23 05:06:00.225529

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bf6a041552fc'
down_revision = 'de4002f22edf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coordination_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sub_task_force_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.String(length=2000), nullable=False),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_coordination_notes_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sub_task_force_id'], ['sub_task_forces.id'], name=op.f('fk_coordination_notes_sub_task_force_id_sub_task_forces'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['track_id'], ['service_tracks.id'], name=op.f('fk_coordination_notes_track_id_service_tracks'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordination_notes'))
    )
    with op.batch_alter_table('coordination_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coordination_notes_sub_task_force_id'), ['sub_task_force_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coordination_notes_track_id'), ['track_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('from_agency_id', sa.Integer(), nullable=False),
    sa.Column('to_agency_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draf', 'dikirim', 'diterima', 'ditolak', 'berjalan', 'selesai', 'ditarik', name='referral_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('message', sa.String(length=2000), nullable=True),
    sa.Column('share_identity', sa.Boolean(), nullable=False),
    sa.Column('share_incident', sa.Boolean(), nullable=False),
    sa.Column('share_assessment', sa.Boolean(), nullable=False),
    sa.Column('consent_entry_id', sa.Integer(), nullable=True),
    sa.Column('override_reason', sa.String(length=1000), nullable=True),
    sa.Column('override_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.String(length=1000), nullable=True),
    sa.Column('outcome', sa.String(length=1000), nullable=True),
    sa.Column('withdraw_reason', sa.String(length=1000), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("consent_entry_id IS NOT NULL OR override_reason IS NOT NULL OR state = 'draf'", name=op.f('ck_referrals_consent_or_override')),
    sa.CheckConstraint("state <> 'ditarik' OR withdraw_reason IS NOT NULL", name=op.f('ck_referrals_withdrawn_with_reason')),
    sa.CheckConstraint("state <> 'ditolak' OR decline_reason IS NOT NULL", name=op.f('ck_referrals_declined_with_reason')),
    sa.CheckConstraint("state <> 'selesai' OR outcome IS NOT NULL", name=op.f('ck_referrals_completed_with_outcome')),
    sa.CheckConstraint("state = 'draf' OR sent_at IS NOT NULL", name=op.f('ck_referrals_sent_unless_draft')),
    sa.CheckConstraint('from_agency_id <> to_agency_id', name=op.f('ck_referrals_to_another_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_referrals_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['consent_entry_id'], ['consent_entries.id'], name=op.f('fk_referrals_consent_entry_id_consent_entries'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_referrals_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['from_agency_id'], ['agencies.id'], name=op.f('fk_referrals_from_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['override_by_id'], ['users.id'], name=op.f('fk_referrals_override_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_agency_id'], ['agencies.id'], name=op.f('fk_referrals_to_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['track_id'], ['service_tracks.id'], name=op.f('fk_referrals_track_id_service_tracks'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_referrals_to_agency_state', ['to_agency_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_track_id'), ['track_id'], unique=False)
        batch_op.create_index('uq_referrals_one_open_per_track', ['track_id'], unique=True, postgresql_where=sa.text("state IN ('draf', 'dikirim', 'diterima', 'berjalan')"), sqlite_where=sa.text("state IN ('draf', 'dikirim', 'diterima', 'berjalan')"))

    op.create_table('referral_attachments',
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_referral_attachments_attachment_id_attachments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_attachments_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('referral_id', 'attachment_id', name=op.f('pk_referral_attachments'))
    )
    op.create_table('referral_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('text', sa.String(length=2000), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_referral_events_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_referral_events_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_events_referral_id_referrals'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_events'))
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_events_referral_id'), ['referral_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workflow_version', sa.Integer(), server_default='1', nullable=False))



def downgrade():
    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.drop_column('workflow_version')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('emailed_at')

    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_events_referral_id'))

    op.drop_table('referral_events')
    op.drop_table('referral_attachments')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('uq_referrals_one_open_per_track', postgresql_where=sa.text("state IN ('draf', 'dikirim', 'diterima', 'berjalan')"), sqlite_where=sa.text("state IN ('draf', 'dikirim', 'diterima', 'berjalan')"))
        batch_op.drop_index(batch_op.f('ix_referrals_track_id'))
        batch_op.drop_index('ix_referrals_to_agency_state')
        batch_op.drop_index(batch_op.f('ix_referrals_case_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('coordination_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coordination_notes_track_id'))
        batch_op.drop_index(batch_op.f('ix_coordination_notes_sub_task_force_id'))

    op.drop_table('coordination_notes')
