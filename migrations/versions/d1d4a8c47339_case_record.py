"""case record: cases, victims, perpetrators, consent ledger, notes, attachments, service tracks, transitions, notifications

Revision ID: d1d4a8c47339
Revises: 82baa55de7d5
Create Date: 2026-11-23 03:13:33.880144

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1d4a8c47339'
down_revision = '82baa55de7d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_counters',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_case_counters_agency_id_agencies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('agency_id', 'year', name=op.f('pk_case_counters'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=True),
    sa.Column('state', sa.Enum('draft', 'diterima', 'identifikasi', 'kedaruratan', 'asesmen', 'rencana_intervensi', 'intervensi', 'pemantauan', 'terminasi', 'dilimpahkan', 'ditutup', name='case_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('workflow_key', sa.String(length=20), nullable=False),
    sa.Column('workflow_version', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.Enum('datang_langsung', 'telepon', 'whatsapp', 'surat_email', 'hotline_sapa129', 'pihak_ketiga', 'penjangkauan', 'rujukan_masuk', 'pelimpahan_masuk', 'media', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('case_manager_id', sa.Integer(), nullable=True),
    sa.Column('reporter_kind', sa.Enum('korban', 'pihak_ketiga', 'anonim', name='reporter_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reporter_name', sa.String(length=200), nullable=True),
    sa.Column('reporter_phone', sa.String(length=40), nullable=True),
    sa.Column('reporter_relation', sa.String(length=100), nullable=True),
    sa.Column('incident_date', sa.Date(), nullable=True),
    sa.Column('incident_date_precision', sa.Enum('hari', 'bulan', 'tahun', name='incident_date_precision', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('incident_region_id', sa.Integer(), nullable=True),
    sa.Column('incident_place', sa.Enum('rumah_tangga', 'tempat_kerja', 'sekolah', 'fasilitas_umum', 'lembaga_pendidikan_kilat', 'daring', 'lainnya', name='incident_place', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('ranah', sa.Enum('domestik', 'publik', 'ketenagakerjaan', 'daring', name='ranah', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('kronologi', sa.Text(), nullable=True),
    sa.Column('risk', sa.Enum('tinggi', 'sedang', 'rendah', name='risk', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('kewenangan', sa.Enum('kabkota', 'provinsi', 'pusat', name='kewenangan', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('verification', sa.Enum('belum_diverifikasi', 'terverifikasi', name='verification_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assessment_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_reason', sa.String(length=500), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(state = 'draft') = (reference IS NULL)", name=op.f('ck_cases_reference_unless_draft')),
    sa.CheckConstraint("state = 'draft' OR risk IS NOT NULL", name=op.f('ck_cases_risk_unless_draft')),
    sa.CheckConstraint("(state IN ('terminasi', 'ditutup', 'dilimpahkan')) = (closed_at IS NOT NULL)", name=op.f('ck_cases_closed_iff_closed_at')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_cases_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['case_manager_id'], ['users.id'], name=op.f('fk_cases_case_manager_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['cases.id'], name=op.f('fk_cases_duplicate_of_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['incident_region_id'], ['regions.id'], name=op.f('fk_cases_incident_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_cases_registered_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('agency_id', 'external_id', name=op.f('uq_cases_agency_id_external_id')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_cases_agency_state', ['agency_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_case_manager_id'), ['case_manager_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_incident_region_id'), ['incident_region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_registered_by_id'), ['registered_by_id'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name_dob_index', sa.String(length=64), nullable=True),
    sa.Column('nik_index', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_persons_agency_id_agencies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_name_dob_index'), ['name_dob_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_nik_index'), ['nik_index'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_attachments_uploaded_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)

    op.create_table('case_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_notes_author_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['corrects_id'], ['case_notes.id'], name=op.f('fk_case_notes_corrects_id_case_notes'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notes_case_id'), ['case_id'], unique=False)

    op.create_table('case_types',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('ktp', 'kta', 'ampk', 'tppo', 'tpks', name='case_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_types_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'type', name=op.f('pk_case_types'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notifications_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('perpetrators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('sex', sa.Enum('L', 'P', name='perpetrator_sex', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.CheckConstraint('age IS NULL OR (age >= 0 AND age <= 120)', name=op.f('ck_perpetrators_age_range')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_perpetrators_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_perpetrators')),
    sa.UniqueConstraint('case_id', 'position', name=op.f('uq_perpetrators_case_id_position'))
    )
    with op.batch_alter_table('perpetrators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_perpetrators_case_id'), ['case_id'], unique=False)

    op.create_table('victims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('name_index', sa.String(length=64), nullable=True),
    sa.Column('nik', sa.String(length=16), nullable=True),
    sa.Column('nik_index', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.Enum('L', 'P', name='victim_sex', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('age_at_incident', sa.Integer(), nullable=True),
    sa.Column('is_child', sa.Boolean(), nullable=False),
    sa.Column('disability', sa.Boolean(), nullable=False),
    sa.Column('disability_kind', sa.String(length=200), nullable=True),
    sa.Column('pregnant', sa.Boolean(), nullable=True),
    sa.Column('education', sa.Enum('belum_sekolah', 'tidak_sekolah', 'sd', 'smp', 'sma', 'diploma', 'sarjana', 'pascasarjana', name='education', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('occupation', sa.String(length=100), nullable=True),
    sa.Column('marital_status', sa.Enum('belum_kawin', 'kawin', 'cerai_hidup', 'cerai_mati', name='marital_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('religion', sa.Enum('islam', 'kristen', 'katolik', 'hindu', 'buddha', 'khonghucu', 'kepercayaan', name='religion', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('nationality', sa.Enum('WNI', 'WNA', name='nationality', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('domicile_region_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('has_nik', sa.Boolean(), nullable=True),
    sa.Column('has_akta', sa.Boolean(), nullable=True),
    sa.Column('has_kia', sa.Boolean(), nullable=True),
    sa.Column('tppo_proses', sa.JSON(), nullable=False),
    sa.Column('tppo_cara', sa.JSON(), nullable=False),
    sa.Column('tppo_tujuan', sa.JSON(), nullable=False),
    sa.Column('tppo_cross_border', sa.Boolean(), nullable=True),
    sa.Column('tppo_destination_country', sa.String(length=100), nullable=True),
    sa.Column('tppo_recruiter', sa.String(length=200), nullable=True),
    sa.Column('tppo_documents', sa.String(length=500), nullable=True),
    sa.CheckConstraint('age_at_incident IS NULL OR (age_at_incident >= 0 AND age_at_incident <= 120)', name=op.f('ck_victims_age_range')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_victims_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['domicile_region_id'], ['regions.id'], name=op.f('fk_victims_domicile_region_id_regions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_victims_person_id_persons'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_victims')),
    sa.UniqueConstraint('case_id', 'position', name=op.f('uq_victims_case_id_position'))
    )
    with op.batch_alter_table('victims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_victims_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_victims_name_index'), ['name_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_victims_nik_index'), ['nik_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_victims_person_id'), ['person_id'], unique=False)

    op.create_table('witnesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_witnesses_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_witnesses'))
    )
    with op.batch_alter_table('witnesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_witnesses_case_id'), ['case_id'], unique=False)

    op.create_table('guardians',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('relation', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('perpetrator_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['perpetrator_id'], ['perpetrators.id'], name=op.f('fk_guardians_perpetrator_id_perpetrators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_guardians_victim_id_victims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardians'))
    )
    with op.batch_alter_table('guardians', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guardians_victim_id'), ['victim_id'], unique=False)

    op.create_table('perpetrator_relations',
    sa.Column('perpetrator_id', sa.Integer(), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('relationship', sa.Enum('orang_tua', 'keluarga', 'suami_istri', 'pacar_teman', 'tetangga', 'guru', 'majikan', 'rekan_kerja', 'orang_tidak_dikenal', 'agen_penyalur', 'lainnya', name='relationship', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['perpetrator_id'], ['perpetrators.id'], name=op.f('fk_perpetrator_relations_perpetrator_id_perpetrators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_perpetrator_relations_victim_id_victims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('perpetrator_id', 'victim_id', name=op.f('pk_perpetrator_relations'))
    )
    with op.batch_alter_table('perpetrator_relations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_perpetrator_relations_victim_id'), ['victim_id'], unique=False)

    op.create_table('service_tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('service_type', sa.Enum('pengaduan', 'penjangkauan', 'kedaruratan', 'penampungan_sementara', 'rehabilitasi_kesehatan', 'rehabilitasi_sosial', 'bantuan_hukum', 'penegakan_hukum', 'mediasi', 'pendampingan', 'pemulangan', 'reintegrasi_sosial', 'pendampingan_rohani', 'pemberdayaan_ekonomi', 'dokumen_kependudukan', name='track_service_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('direncanakan', 'dirujuk', 'diterima_penyedia', 'berjalan', 'selesai', 'ditolak_korban', 'tidak_tersedia', 'dibatalkan', name='track_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(state IN ('selesai', 'ditolak_korban', 'tidak_tersedia', 'dibatalkan')) = (ended_at IS NOT NULL)", name=op.f('ck_service_tracks_ended_iff_ended_at')),
    sa.CheckConstraint('started_at IS NULL OR ended_at IS NULL OR ended_at >= started_at', name=op.f('ck_service_tracks_ends_after_start')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_service_tracks_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['agencies.id'], name=op.f('fk_service_tracks_provider_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_service_tracks_victim_id_victims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_tracks')),
    sa.UniqueConstraint('victim_id', 'service_type', name=op.f('uq_service_tracks_victim_id_service_type'))
    )
    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_tracks_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_tracks_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_tracks_victim_id'), ['victim_id'], unique=False)

    op.create_table('victim_ampk_categories',
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('situasi_darurat', 'berhadapan_dengan_hukum', 'minoritas_terisolasi', 'eksploitasi_ekonomi_seksual', 'napza', 'pornografi', 'hiv_aids', 'penculikan_perdagangan', 'kekerasan_fisik_psikis', 'kejahatan_seksual', 'terorisme', 'disabilitas', 'perlakuan_salah_penelantaran', 'perilaku_sosial_menyimpang', 'stigmatisasi', name='ampk_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_victim_ampk_categories_victim_id_victims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('victim_id', 'category', name=op.f('pk_victim_ampk_categories'))
    )
    op.create_table('victim_violence_types',
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('fisik', 'psikis', 'seksual', 'eksploitasi', 'trafficking', 'penelantaran', 'lainnya', name='violence_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_victim_violence_types_victim_id_victims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('victim_id', 'type', name=op.f('pk_victim_violence_types'))
    )
    op.create_table('case_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('from_state', sa.String(length=40), nullable=True),
    sa.Column('to_state', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.CheckConstraint("kind IN ('workflow', 'import')", name=op.f('ck_case_transitions_kind_known')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_transitions_actor_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_transitions_case_id_cases'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['track_id'], ['service_tracks.id'], name=op.f('fk_case_transitions_track_id_service_tracks'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transitions'))
    )
    with op.batch_alter_table('case_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_transitions_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_transitions_track_id'), ['track_id'], unique=False)

    op.create_table('consent_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('victim_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=80), nullable=False),
    sa.Column('decision', sa.Enum('setuju', 'menolak', name='consent_decision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('given_by', sa.Enum('korban', 'wali', name='consent_giver', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('given_by_name', sa.String(length=200), nullable=True),
    sa.Column('guardian_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('withdraws_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("given_by = 'korban' OR given_by_name IS NOT NULL", name=op.f('ck_consent_entries_guardian_named')),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardians.id'], name=op.f('fk_consent_entries_guardian_id_guardians'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consent_entries_recorded_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['victim_id'], ['victims.id'], name=op.f('fk_consent_entries_victim_id_victims'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['withdraws_id'], ['consent_entries.id'], name=op.f('fk_consent_entries_withdraws_id_consent_entries'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_entries'))
    )
    with op.batch_alter_table('consent_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_entries_victim_id'), ['victim_id'], unique=False)



def downgrade():
    with op.batch_alter_table('consent_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_entries_victim_id'))

    op.drop_table('consent_entries')
    with op.batch_alter_table('case_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_transitions_track_id'))
        batch_op.drop_index(batch_op.f('ix_case_transitions_case_id'))

    op.drop_table('case_transitions')
    op.drop_table('victim_violence_types')
    op.drop_table('victim_ampk_categories')
    with op.batch_alter_table('service_tracks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_tracks_victim_id'))
        batch_op.drop_index(batch_op.f('ix_service_tracks_provider_id'))
        batch_op.drop_index(batch_op.f('ix_service_tracks_case_id'))

    op.drop_table('service_tracks')
    with op.batch_alter_table('perpetrator_relations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_perpetrator_relations_victim_id'))

    op.drop_table('perpetrator_relations')
    with op.batch_alter_table('guardians', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guardians_victim_id'))

    op.drop_table('guardians')
    with op.batch_alter_table('witnesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_witnesses_case_id'))

    op.drop_table('witnesses')
    with op.batch_alter_table('victims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_victims_person_id'))
        batch_op.drop_index(batch_op.f('ix_victims_nik_index'))
        batch_op.drop_index(batch_op.f('ix_victims_name_index'))
        batch_op.drop_index(batch_op.f('ix_victims_case_id'))

    op.drop_table('victims')
    with op.batch_alter_table('perpetrators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_perpetrators_case_id'))

    op.drop_table('perpetrators')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
    op.drop_table('case_types')
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_case_id'))

    op.drop_table('case_notes')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_nik_index'))
        batch_op.drop_index(batch_op.f('ix_persons_name_dob_index'))
        batch_op.drop_index(batch_op.f('ix_persons_agency_id'))

    op.drop_table('persons')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_registered_by_id'))
        batch_op.drop_index(batch_op.f('ix_cases_received_at'))
        batch_op.drop_index(batch_op.f('ix_cases_incident_region_id'))
        batch_op.drop_index(batch_op.f('ix_cases_case_manager_id'))
        batch_op.drop_index('ix_cases_agency_state')
        batch_op.drop_index(batch_op.f('ix_cases_agency_id'))

    op.drop_table('cases')
    op.drop_table('case_counters')
