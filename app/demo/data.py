"""The demo kabupaten/kota: regions with Kemendagri-format codes, agencies of every type, the
GT P2TPPO with its Sub GTs and memberships, one user per role, and population by sex and age.

The organisations are modelled on a real city so the data looks familiar; the people are invented.
"""

from __future__ import annotations

from app.core.enums import AgencyType as T
from app.core.enums import Role as R
from app.core.enums import ServiceType as S
from app.core.enums import SubTaskForceKey as K

# Printed by `make run`; demo accounts exist only in demo databases.
DEMO_PASSWORD = "pelangi-sore-di-bukit-7"  # noqa: S105

PROVINCE = ("32", "Jawa Barat")
KABKOTA = ("32.73", "Kota Bandung")

# kecamatan code suffix, name, desa/kelurahan names
KECAMATAN = [
    ("01", "Sukasari", ["Sarijadi", "Sukarasa", "Gegerkalong", "Isola"]),
    ("02", "Coblong", ["Cipaganti", "Lebak Siliwangi", "Dago", "Sekeloa"]),
    ("03", "Andir", ["Campaka", "Maleber", "Garuda", "Dungus Cariang"]),
    ("04", "Cicendo", ["Arjuna", "Pasirkaliki", "Pamoyanan", "Husen Sastranegara"]),
    ("05", "Bandung Kidul", ["Batununggal", "Kujangsari", "Mengger", "Wates"]),
    ("06", "Kiaracondong", ["Babakan Sari", "Kebon Jayanti", "Sukapura", "Cicaheum"]),
]

# code, name, type, region code, services
AGENCIES: list[tuple[str, str, T, str, list[S]]] = [
    (
        "UPTDPPA-3273",
        "UPTD PPA Kota Bandung",
        T.UPTD_PPA,
        "32.73",
        [
            S.PENGADUAN,
            S.PENJANGKAUAN,
            S.KEDARURATAN,
            S.PENAMPUNGAN_SEMENTARA,
            S.REHABILITASI_SOSIAL,
            S.PENDAMPINGAN,
            S.MEDIASI,
            S.BANTUAN_HUKUM,
        ],
    ),
    (
        "UPTDPPA-32",
        "UPTD PPA Provinsi Jawa Barat",
        T.UPTD_PPA,
        "32",
        [S.PENGADUAN, S.PENJANGKAUAN, S.KEDARURATAN, S.REHABILITASI_SOSIAL, S.PENDAMPINGAN],
    ),
    (
        "DP3A-3273",
        "Dinas Pemberdayaan Perempuan dan Perlindungan Anak Kota Bandung",
        T.DINAS_PPA,
        "32.73",
        [S.PENGADUAN, S.PEMBERDAYAAN_EKONOMI],
    ),
    (
        "DINSOS-3273",
        "Dinas Sosial Kota Bandung",
        T.DINAS_SOSIAL,
        "32.73",
        [S.REHABILITASI_SOSIAL, S.PEMULANGAN, S.REINTEGRASI_SOSIAL, S.PEMBERDAYAAN_EKONOMI],
    ),
    (
        "RPTC-3273",
        "Rumah Perlindungan Trauma Center Kota Bandung",
        T.RUMAH_AMAN,
        "32.73",
        [S.PENAMPUNGAN_SEMENTARA, S.REHABILITASI_SOSIAL],
    ),
    ("RSUD-3273", "RSUD Kota Bandung", T.FASKES, "32.73", [S.REHABILITASI_KESEHATAN]),
    ("PKM-327302", "Puskesmas Coblong", T.FASKES, "32.73.02", [S.REHABILITASI_KESEHATAN]),
    ("POLRES-3273", "Unit PPA Polrestabes Bandung", T.KEPOLISIAN, "32.73", [S.PENEGAKAN_HUKUM]),
    ("KEJARI-3273", "Kejaksaan Negeri Kota Bandung", T.KEJAKSAAN, "32.73", [S.PENEGAKAN_HUKUM]),
    ("PN-3273", "Pengadilan Negeri Bandung", T.PENGADILAN, "32.73", [S.PENEGAKAN_HUKUM]),
    (
        "LBH-3273",
        "LBH Perempuan dan Anak Bandung",
        T.BANTUAN_HUKUM,
        "32.73",
        [S.BANTUAN_HUKUM, S.PENDAMPINGAN],
    ),
    (
        "LPSK-32",
        "LPSK Perwakilan Jawa Barat",
        T.LPSK,
        "32",
        [S.REHABILITASI_KESEHATAN, S.REHABILITASI_SOSIAL, S.BANTUAN_HUKUM],
    ),
    (
        "DISNAKER-3273",
        "Dinas Tenaga Kerja Kota Bandung",
        T.DISNAKER,
        "32.73",
        [S.PEMBERDAYAAN_EKONOMI],
    ),
    ("IMIGRASI-3273", "Kantor Imigrasi Kelas I Bandung", T.IMIGRASI, "32.73", [S.PEMULANGAN]),
    ("BP3MI-32", "UPT BP3MI Jawa Barat", T.BP2MI, "32", [S.PEMULANGAN, S.REINTEGRASI_SOSIAL]),
    ("KBRI-KUL", "KBRI Kuala Lumpur", T.PERWAKILAN_RI, "32", [S.PEMULANGAN, S.KEDARURATAN]),
    (
        "DUKCAPIL-3273",
        "Dinas Kependudukan dan Pencatatan Sipil Kota Bandung",
        T.DUKCAPIL,
        "32.73",
        [S.DOKUMEN_KEPENDUDUKAN],
    ),
    ("KUA-327302", "KUA Kecamatan Coblong", T.KEMENAG, "32.73.02", [S.PENDAMPINGAN_ROHANI]),
    (
        "YSP-3273",
        "Yayasan Sahabat Perempuan Bandung",
        T.LEMBAGA_MASYARAKAT,
        "32.73",
        [S.PENJANGKAUAN, S.PENDAMPINGAN, S.REHABILITASI_SOSIAL],
    ),
    ("FORUMANAK-3273", "Forum Anak Kota Bandung", T.LAINNYA, "32.73", [S.PENJANGKAUAN]),
]

# Sub GT memberships of the city's GT P2TPPO
MEMBERSHIPS: dict[K, list[str]] = {
    K.PENCEGAHAN_PARTISIPASI_ANAK: ["DP3A-3273", "DISNAKER-3273", "FORUMANAK-3273"],
    K.REHABILITASI_KESEHATAN: ["RSUD-3273", "PKM-327302", "LPSK-32"],
    K.REHSOS_PEMULANGAN_REINTEGRASI: [
        "DINSOS-3273",
        "RPTC-3273",
        "UPTDPPA-3273",
        "BP3MI-32",
        "YSP-3273",
        "KBRI-KUL",
    ],
    K.PENGEMBANGAN_NORMA_HUKUM: ["DP3A-3273", "LBH-3273"],
    K.PENEGAKAN_HUKUM: ["POLRES-3273", "KEJARI-3273", "PN-3273", "LBH-3273", "IMIGRASI-3273"],
    K.KOORDINASI_KERJA_SAMA: ["DP3A-3273", "UPTDPPA-3273", "BP3MI-32", "DUKCAPIL-3273"],
}

# email, name, role, agency code or Sub GT key (of the city's GT). Every partner agency that
# receives referrals in the demo (app/demo/day.py PARTNERS) has an account that answers them.
USERS: list[tuple[str, str, R, str]] = [
    ("admin@simpul.demo", "Admin Sistem", R.ADMIN, "DP3A-3273"),
    ("pengaduan@simpul.demo", "Rina Pengaduan", R.PETUGAS_PENGADUAN, "UPTDPPA-3273"),
    ("manajer@simpul.demo", "Dewi Manajer Kasus", R.MANAJER_KASUS, "UPTDPPA-3273"),
    ("supervisor@simpul.demo", "Budi Supervisor", R.SUPERVISOR, "UPTDPPA-3273"),
    ("rsud@simpul.demo", "dr. Sari Layanan RSUD", R.PETUGAS_LAYANAN, "RSUD-3273"),
    ("polisi@simpul.demo", "Aipda Yanti Unit PPA", R.PETUGAS_LAYANAN, "POLRES-3273"),
    ("puskesmas@simpul.demo", "Bidan Ratih Puskesmas Coblong", R.PETUGAS_LAYANAN, "PKM-327302"),
    ("lbh@simpul.demo", "Rahmat Advokat LBH", R.PETUGAS_LAYANAN, "LBH-3273"),
    ("dinsos@simpul.demo", "Mira Pekerja Sosial Dinsos", R.PETUGAS_LAYANAN, "DINSOS-3273"),
    ("rptc@simpul.demo", "Sekar Pengelola RPTC", R.PETUGAS_LAYANAN, "RPTC-3273"),
    ("provinsi@simpul.demo", "Teguh Supervisor UPTD PPA Provinsi", R.SUPERVISOR, "UPTDPPA-32"),
    (
        "koordinator@simpul.demo",
        "Hendra Koordinator Sub GT",
        R.KOORDINATOR_SUBGT,
        K.REHSOS_PEMULANGAN_REINTEGRASI.value,
    ),
    (
        "kesehatan@simpul.demo",
        "Nur Koordinator Sub GT Kesehatan",
        R.KOORDINATOR_SUBGT,
        K.REHABILITASI_KESEHATAN.value,
    ),
    # at the UPTD PPA, whose cases the data-quality queue checks; the same kab/kota as the dinas,
    # so the dashboards reach the same regions (see app/demo/__init__.py)
    ("analis@simpul.demo", "Tuti Analis Data", R.ANALIS_DATA, "UPTDPPA-3273"),
    ("pimpinan@simpul.demo", "Kepala Dinas PPPA", R.PIMPINAN, "DP3A-3273"),
]

# Age bands that keep 0-17 (anak) separable from 18+; None = open-ended.
AGE_BANDS: list[tuple[int, int | None]] = [
    (0, 4),
    (5, 9),
    (10, 14),
    (15, 17),
    (18, 24),
    (25, 29),
    (30, 34),
    (35, 39),
    (40, 44),
    (45, 49),
    (50, 54),
    (55, 59),
    (60, 64),
    (65, 69),
    (70, 74),
    (75, None),
]
# Share of the population in each band (sums to 1), roughly an Indonesian urban pyramid.
AGE_SHARES = [
    0.075,
    0.078,
    0.080,
    0.050,
    0.115,
    0.080,
    0.078,
    0.076,
    0.072,
    0.066,
    0.060,
    0.052,
    0.043,
    0.033,
    0.022,
    0.020,
]
POPULATION_YEARS = (2024, 2025, 2026)
# kecamatan suffix -> residents in the first year
KECAMATAN_RESIDENTS = {
    "01": 81_000,
    "02": 127_000,
    "03": 96_000,
    "04": 98_000,
    "05": 62_000,
    "06": 131_000,
}
YEARLY_GROWTH = 0.008
FEMALE_SHARE = 0.497
