"""indicators: versioned definitions, computed values (numerator and denominator kept exact),
period closes, revisions after a close, yearly targets, report jobs; who verified a case and when

Revision ID: 3b0e9210954c
Revises: bf6a041552fc
Create Date: 2026-11-23 05:29:13.496498

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b0e9210954c'
down_revision = 'bf6a041552fc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('indicator_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name_id', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('numerator', sa.String(length=300), nullable=False),
    sa.Column('denominator', sa.String(length=300), nullable=True),
    sa.Column('scale', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('group', sa.String(length=40), nullable=False),
    sa.Column('rounding', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=60), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('headline', sa.Boolean(), nullable=False),
    sa.CheckConstraint("direction IN ('higher', 'lower', 'none')", name=op.f('ck_indicator_definitions_direction_known')),
    sa.CheckConstraint('scale > 0', name=op.f('ck_indicator_definitions_scale_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_definitions')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_indicator_definitions_code_version'))
    )
    with op.batch_alter_table('indicator_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_definitions_code'), ['code'], unique=False)

    op.create_table('indicator_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=20, scale=4), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_indicator_targets_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_indicator_targets_set_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_targets')),
    sa.UniqueConstraint('code', 'region_id', 'year', name=op.f('uq_indicator_targets_code_region_id_year'))
    )
    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('breakdown', sa.String(length=80), nullable=False),
    sa.Column('numerator', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('denominator', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['indicator_definitions.id'], name=op.f('fk_indicator_values_definition_id_indicator_definitions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_indicator_values_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values')),
    sa.UniqueConstraint('definition_id', 'region_id', 'period', 'breakdown', name=op.f('uq_indicator_values_definition_id_region_id_period_breakdown'), postgresql_nulls_not_distinct=True)
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_values_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index('ix_indicator_values_region_period', ['region_id', 'period'], unique=False)

    op.create_table('period_closes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_period_closes_closed_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_period_closes_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_closes')),
    sa.UniqueConstraint('region_id', 'period', name=op.f('uq_period_closes_region_id_period'), postgresql_nulls_not_distinct=True)
    )
    op.create_table('report_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.Column('stored_name', sa.String(length=80), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("format IN ('xlsx', 'pdf')", name=op.f('ck_report_jobs_format_known')),
    sa.CheckConstraint("state IN ('antre', 'berjalan', 'selesai', 'gagal')", name=op.f('ck_report_jobs_state_known')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_report_jobs_progress_percent')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_report_jobs_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_report_jobs_requested_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_jobs'))
    )
    op.create_table('indicator_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_id', sa.Integer(), nullable=False),
    sa.Column('numerator', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('denominator', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('reason_null', sa.String(length=300), nullable=True),
    sa.Column('why', sa.String(length=1000), nullable=False),
    sa.Column('revised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revised_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['revised_by_id'], ['users.id'], name=op.f('fk_indicator_revisions_revised_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['value_id'], ['indicator_values.id'], name=op.f('fk_indicator_revisions_value_id_indicator_values'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_revisions'))
    )
    with op.batch_alter_table('indicator_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_revisions_value_id'), ['value_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cases_verified_by_id_users'), 'users', ['verified_by_id'], ['id'], ondelete='RESTRICT')



def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_verified_by_id_users'), type_='foreignkey')
        batch_op.drop_column('verified_by_id')
        batch_op.drop_column('verified_at')

    with op.batch_alter_table('indicator_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_revisions_value_id'))

    op.drop_table('indicator_revisions')
    op.drop_table('report_jobs')
    op.drop_table('period_closes')
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_values_region_period')
        batch_op.drop_index(batch_op.f('ix_indicator_values_definition_id'))

    op.drop_table('indicator_values')
    op.drop_table('indicator_targets')
    with op.batch_alter_table('indicator_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_definitions_code'))

    op.drop_table('indicator_definitions')
