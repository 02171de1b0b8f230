"""foundation: regions, agencies, task forces, population, users, audit

Revision ID: 82baa55de7d5
Revises: 
Create Date: 2026-11-23 02:39:41.162536

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '82baa55de7d5'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('regions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=13), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.Enum('provinsi', 'kabkota', 'kecamatan', 'desa', name='region_level', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(level = 'provinsi' AND length(code) = 2) OR (level = 'kabkota' AND length(code) = 5) OR (level = 'kecamatan' AND length(code) = 8) OR (level = 'desa' AND length(code) = 13)", name=op.f('ck_regions_code_length_matches_level')),
    sa.CheckConstraint("(level = 'provinsi') = (parent_id IS NULL)", name=op.f('ck_regions_parent_unless_provinsi')),
    sa.ForeignKeyConstraint(['parent_id'], ['regions.id'], name=op.f('fk_regions_parent_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('code', name=op.f('uq_regions_code'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_parent_id'), ['parent_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('session_generation', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("locale IS NULL OR locale IN ('id', 'en')", name=op.f('ck_users_locale_known')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lowercase')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.Enum('uptd_ppa', 'dinas_ppa', 'dinas_sosial', 'rumah_aman', 'faskes', 'kepolisian', 'kejaksaan', 'pengadilan', 'bantuan_hukum', 'lpsk', 'disnaker', 'imigrasi', 'bp2mi', 'perwakilan_ri', 'dukcapil', 'kemenag', 'lembaga_masyarakat', 'lainnya', name='agency_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_agencies_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code'))
    )
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agencies_region_id'), ['region_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=60), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('remote_addr', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_object', ['object_type', 'object_id'], unique=False)

    op.create_table('population',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sex', sa.Enum('L', 'P', name='population_sex', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('age_from', sa.Integer(), nullable=False),
    sa.Column('age_to', sa.Integer(), nullable=True),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('age_from >= 0 AND age_from <= 150', name=op.f('ck_population_age_from_range')),
    sa.CheckConstraint('age_to IS NULL OR age_to >= age_from', name=op.f('ck_population_age_to_after_from')),
    sa.CheckConstraint('count >= 0', name=op.f('ck_population_count_not_negative')),
    sa.CheckConstraint('year BETWEEN 1900 AND 2200', name=op.f('ck_population_year_range')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_population_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population')),
    sa.UniqueConstraint('region_id', 'year', 'sex', 'age_from', name=op.f('uq_population_region_id_year_sex_age_from'))
    )
    with op.batch_alter_table('population', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_region_id'), ['region_id'], unique=False)

    op.create_table('task_forces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_task_forces_region_id_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_forces')),
    sa.UniqueConstraint('region_id', name=op.f('uq_task_forces_region_id'))
    )
    op.create_table('agency_services',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('service_type', sa.Enum('pengaduan', 'penjangkauan', 'kedaruratan', 'penampungan_sementara', 'rehabilitasi_kesehatan', 'rehabilitasi_sosial', 'bantuan_hukum', 'penegakan_hukum', 'mediasi', 'pendampingan', 'pemulangan', 'reintegrasi_sosial', 'pendampingan_rohani', 'pemberdayaan_ekonomi', 'dokumen_kependudukan', name='service_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_services_agency_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agency_id', 'service_type', name=op.f('pk_agency_services'))
    )
    op.create_table('sub_task_forces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_force_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.Enum('pencegahan_partisipasi_anak', 'rehabilitasi_kesehatan', 'rehsos_pemulangan_reintegrasi', 'pengembangan_norma_hukum', 'penegakan_hukum', 'koordinasi_kerja_sama', name='sub_task_force_key', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['task_force_id'], ['task_forces.id'], name=op.f('fk_sub_task_forces_task_force_id_task_forces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sub_task_forces')),
    sa.UniqueConstraint('task_force_id', 'key', name=op.f('uq_sub_task_forces_task_force_id_key'))
    )
    with op.batch_alter_table('sub_task_forces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sub_task_forces_task_force_id'), ['task_force_id'], unique=False)

    op.create_table('role_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('petugas_pengaduan', 'manajer_kasus', 'supervisor', 'petugas_layanan', 'koordinator_subgt', 'analis_data', 'pimpinan', 'admin', name='role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('sub_task_force_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(role = 'koordinator_subgt' AND sub_task_force_id IS NOT NULL AND agency_id IS NULL) OR (role <> 'koordinator_subgt' AND agency_id IS NOT NULL AND sub_task_force_id IS NULL)", name=op.f('ck_role_grants_scope_matches_role')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_role_grants_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_role_grants_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sub_task_force_id'], ['sub_task_forces.id'], name=op.f('fk_role_grants_sub_task_force_id_sub_task_forces'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_role_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grants')),
    sa.UniqueConstraint('user_id', 'role', 'agency_id', name=op.f('uq_role_grants_user_id_role_agency_id')),
    sa.UniqueConstraint('user_id', 'role', 'sub_task_force_id', name=op.f('uq_role_grants_user_id_role_sub_task_force_id'))
    )
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grants_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_role_grants_sub_task_force_id'), ['sub_task_force_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_role_grants_user_id'), ['user_id'], unique=False)

    op.create_table('sub_task_force_members',
    sa.Column('sub_task_force_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_sub_task_force_members_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sub_task_force_id'], ['sub_task_forces.id'], name=op.f('fk_sub_task_force_members_sub_task_force_id_sub_task_forces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sub_task_force_id', 'agency_id', name=op.f('pk_sub_task_force_members'))
    )
    with op.batch_alter_table('sub_task_force_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sub_task_force_members_agency_id'), ['agency_id'], unique=False)



def downgrade():
    with op.batch_alter_table('sub_task_force_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sub_task_force_members_agency_id'))

    op.drop_table('sub_task_force_members')
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_role_grants_sub_task_force_id'))
        batch_op.drop_index(batch_op.f('ix_role_grants_agency_id'))

    op.drop_table('role_grants')
    with op.batch_alter_table('sub_task_forces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sub_task_forces_task_force_id'))

    op.drop_table('sub_task_forces')
    op.drop_table('agency_services')
    op.drop_table('task_forces')
    with op.batch_alter_table('population', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_region_id'))

    op.drop_table('population')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_object')
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))

    op.drop_table('audit_entries')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agencies_region_id'))

    op.drop_table('agencies')
    op.drop_table('users')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_parent_id'))

    op.drop_table('regions')
