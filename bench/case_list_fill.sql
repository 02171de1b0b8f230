-- A large synthetic table of cases for the case-list benchmark (bench/case_list.py) and the query
-- plans in docs/scaling.md. Written with INSERT ... SELECT generate_series into an empty database
-- migrated with `flask db upgrade`; no audit trail, no identities (names are random blind-index
-- values). Sizes: :cases cases over :agencies agencies (sizes skewed: the biggest holds ~2 %),
-- received over five years, one victim each, service tracks for a third of them, and a Sub GT
-- (health) of the 60 biggest agencies with its coordinator (koordinator@bench.invalid).
--
--   psql -v cases=1000000 -v agencies=8000 -f bench/case_list_fill.sql DATABASE
\set ON_ERROR_STOP on
SET synchronous_commit = off;

INSERT INTO regions (code, name, level, parent_id, created_at, updated_at, version)
SELECT lpad(p::text, 2, '0'), 'Provinsi ' || p, 'provinsi', NULL, now(), now(), 1
FROM generate_series(11, 48) p;

INSERT INTO regions (code, name, level, parent_id, created_at, updated_at, version)
SELECT r.code || lpad(k::text, 3, '0'), 'Kab/Kota ' || r.code || k, 'kabkota', r.id, now(), now(), 1
FROM regions r, generate_series(1, 14) k
WHERE r.level = 'provinsi';

INSERT INTO agencies (code, name, type, region_id, active, created_at, updated_at, version)
SELECT 'L' || a, 'Lembaga ' || a, 'uptd_ppa',
       (SELECT id FROM regions WHERE level = 'kabkota' ORDER BY id OFFSET (a % 532) LIMIT 1),
       true, now(), now(), 1
FROM generate_series(1, :agencies) a;

-- per agency: a supervisor (odd ids) and a case manager (even ids)
INSERT INTO users (email, name, password_hash, active, session_generation, created_at, updated_at,
                   password_changed_at, version, failed_logins)
SELECT 'u' || n || '@bench.invalid', 'Pengguna ' || n, '!', true, 0, now(), now(), now(), 1, 0
FROM generate_series(1, 2 * :agencies) n;

INSERT INTO role_grants (user_id, role, agency_id, created_at)
SELECT u.id, CASE WHEN u.id % 2 = 1 THEN 'supervisor' ELSE 'manajer_kasus' END,
       (u.id + 1) / 2, now()
FROM users u;

CREATE TEMP TABLE gen AS
SELECT n,
       1 + floor(:agencies * power(random(), 2.2))::int AS agency_id,
       now() - random() * interval '1826 days' AS received_at,
       random() AS r1, random() AS r2, random() AS r3
FROM generate_series(1, :cases) n;

INSERT INTO cases (id, reference, agency_id, state, workflow_key, workflow_version, received_at,
                   channel, registered_by_id, case_manager_id, reporter_kind, risk, kewenangan,
                   verification, closed_at, created_at, updated_at, version, first_received_at,
                   first_agency_id)
SELECT n,
       'L' || agency_id || '-' || extract(year FROM received_at)::int || '-'
         || lpad((row_number() OVER (PARTITION BY agency_id, extract(year FROM received_at)
                                     ORDER BY received_at))::text, 5, '0'),
       agency_id,
       CASE WHEN received_at < now() - interval '180 days' AND r1 < 0.9 THEN 'ditutup'
            WHEN r1 < 0.05 THEN 'diterima' WHEN r1 < 0.15 THEN 'asesmen'
            WHEN r1 < 0.5 THEN 'intervensi' ELSE 'pemantauan' END,
       'ktpa', 1, received_at, 'datang_langsung', 2 * agency_id - 1,
       CASE WHEN r2 < 0.85 THEN 2 * agency_id END,
       'korban',
       CASE WHEN r3 < 0.2 THEN 'tinggi' WHEN r3 < 0.6 THEN 'sedang' ELSE 'rendah' END,
       'kabkota', 'belum_diverifikasi',
       CASE WHEN received_at < now() - interval '180 days' AND r1 < 0.9
            THEN received_at + interval '60 days' END,
       received_at, received_at, 1, received_at, agency_id
FROM gen;
SELECT setval('cases_id_seq', (SELECT max(id) FROM cases));

-- one case in a hundred was taken over from a case of another agency (pelimpahan)
UPDATE cases c SET transferred_from_id = c.id - 997
WHERE c.id % 100 = 0 AND c.id > 997;

INSERT INTO case_types (case_id, type)
SELECT id, (ARRAY['ktp', 'kta', 'tpks', 'tppo', 'ampk'])[1 + (id * 7) % 5] FROM cases;
INSERT INTO case_types (case_id, type)
SELECT id, 'tpks' FROM cases WHERE id % 9 = 0 AND (id * 7) % 5 <> 2;

INSERT INTO victims (id, case_id, position, name_index, sex, age_at_incident, is_child, disability,
                     nationality, tppo_proses, tppo_cara, tppo_tujuan)
SELECT id, id, 1, 'v1:' || md5('korban ' || id), CASE WHEN id % 4 = 0 THEN 'L' ELSE 'P' END,
       (id * 13) % 60, (id * 13) % 60 < 18, false, 'WNI', '[]', '[]', '[]'
FROM cases;
SELECT setval('victims_id_seq', (SELECT max(id) FROM victims));

INSERT INTO victim_violence_types (victim_id, type)
SELECT id, (ARRAY['fisik', 'psikis', 'seksual', 'penelantaran', 'eksploitasi'])[1 + (id * 11) % 5]
FROM victims;

-- first-response deadlines of the complaints still registered (some overdue)
INSERT INTO deadlines (code, case_id, started_at, due_at, responsible_agency_id, created_at,
                       completed_at)
SELECT 'first_response_' || risk, id, received_at, received_at + interval '24 hours', agency_id,
       received_at, CASE WHEN id % 3 = 0 THEN received_at + interval '2 hours' END
FROM cases WHERE state = 'diterima';

-- a third of the cases have a service track; half of them with another agency as provider
INSERT INTO service_tracks (case_id, victim_id, service_type, provider_id, state, target_date,
                            started_at, ended_at, created_at, updated_at, version,
                            workflow_version, planned_at)
SELECT id, id,
       (ARRAY['rehabilitasi_kesehatan', 'rehabilitasi_sosial', 'bantuan_hukum',
              'penegakan_hukum', 'penampungan_sementara'])[1 + (id * 3) % 5],
       CASE WHEN id % 2 = 0 THEN 1 + (agency_id * 31) % :agencies END,
       CASE WHEN state = 'ditutup' THEN 'selesai' WHEN id % 4 = 1 THEN 'dirujuk'
            ELSE 'berjalan' END,
       (received_at + interval '30 days')::date,
       received_at, CASE WHEN state = 'ditutup' THEN received_at + interval '50 days' END,
       received_at, received_at, 1, 1, received_at
FROM cases WHERE id % 3 = 0;

-- a Sub GT for health whose members are the 60 biggest agencies, and its coordinator
INSERT INTO task_forces (region_id, name, created_at)
SELECT min(id), 'Gugus Tugas Uji', now() FROM regions WHERE level = 'kabkota';
INSERT INTO sub_task_forces (task_force_id, key)
SELECT id, 'rehabilitasi_kesehatan' FROM task_forces WHERE name = 'Gugus Tugas Uji';
INSERT INTO sub_task_force_members (sub_task_force_id, agency_id)
SELECT s.id, a FROM sub_task_forces s, generate_series(1, 60) a
WHERE s.key = 'rehabilitasi_kesehatan';
INSERT INTO users (email, name, password_hash, active, session_generation, created_at, updated_at,
                   password_changed_at, version, failed_logins)
VALUES ('koordinator@bench.invalid', 'Koordinator Sub GT', '!', true, 0, now(), now(), now(), 1, 0);
INSERT INTO role_grants (user_id, role, sub_task_force_id, created_at)
SELECT u.id, 'koordinator_subgt', s.id, now()
FROM users u, sub_task_forces s
WHERE u.email = 'koordinator@bench.invalid' AND s.key = 'rehabilitasi_kesehatan';

ANALYZE;
