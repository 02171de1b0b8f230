"""Vocabularies of the domain specification (domain.md). Values are stored; never rename one."""

from __future__ import annotations

import enum


class RegionLevel(enum.StrEnum):
    PROVINSI = "provinsi"
    KABKOTA = "kabkota"
    KECAMATAN = "kecamatan"
    DESA = "desa"

    @property
    def depth(self) -> int:
        return list(RegionLevel).index(self)

    @property
    def parent_level(self) -> RegionLevel | None:
        return None if self is RegionLevel.PROVINSI else list(RegionLevel)[self.depth - 1]


class AgencyType(enum.StrEnum):
    UPTD_PPA = "uptd_ppa"
    DINAS_PPA = "dinas_ppa"
    DINAS_SOSIAL = "dinas_sosial"
    RUMAH_AMAN = "rumah_aman"
    FASKES = "faskes"
    KEPOLISIAN = "kepolisian"
    KEJAKSAAN = "kejaksaan"
    PENGADILAN = "pengadilan"
    BANTUAN_HUKUM = "bantuan_hukum"
    LPSK = "lpsk"
    DISNAKER = "disnaker"
    IMIGRASI = "imigrasi"
    BP2MI = "bp2mi"
    PERWAKILAN_RI = "perwakilan_ri"
    DUKCAPIL = "dukcapil"
    KEMENAG = "kemenag"
    LEMBAGA_MASYARAKAT = "lembaga_masyarakat"
    LAINNYA = "lainnya"


class ServiceType(enum.StrEnum):
    PENGADUAN = "pengaduan"
    PENJANGKAUAN = "penjangkauan"
    KEDARURATAN = "kedaruratan"
    PENAMPUNGAN_SEMENTARA = "penampungan_sementara"
    REHABILITASI_KESEHATAN = "rehabilitasi_kesehatan"
    REHABILITASI_SOSIAL = "rehabilitasi_sosial"
    BANTUAN_HUKUM = "bantuan_hukum"
    PENEGAKAN_HUKUM = "penegakan_hukum"
    MEDIASI = "mediasi"
    PENDAMPINGAN = "pendampingan"
    PEMULANGAN = "pemulangan"
    REINTEGRASI_SOSIAL = "reintegrasi_sosial"
    PENDAMPINGAN_ROHANI = "pendampingan_rohani"
    PEMBERDAYAAN_EKONOMI = "pemberdayaan_ekonomi"
    DOKUMEN_KEPENDUDUKAN = "dokumen_kependudukan"


class SubTaskForceKey(enum.StrEnum):
    PENCEGAHAN_PARTISIPASI_ANAK = "pencegahan_partisipasi_anak"
    REHABILITASI_KESEHATAN = "rehabilitasi_kesehatan"
    REHSOS_PEMULANGAN_REINTEGRASI = "rehsos_pemulangan_reintegrasi"
    PENGEMBANGAN_NORMA_HUKUM = "pengembangan_norma_hukum"
    PENEGAKAN_HUKUM = "penegakan_hukum"
    KOORDINASI_KERJA_SAMA = "koordinasi_kerja_sama"


# domain.md §3: the Sub GT that reviews each service type (None: no Sub GT review).
SERVICE_SUBTASKFORCE: dict[ServiceType, SubTaskForceKey | None] = {
    ServiceType.PENGADUAN: None,
    ServiceType.PENJANGKAUAN: None,
    ServiceType.KEDARURATAN: None,
    ServiceType.PENAMPUNGAN_SEMENTARA: SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI,
    ServiceType.REHABILITASI_KESEHATAN: SubTaskForceKey.REHABILITASI_KESEHATAN,
    ServiceType.REHABILITASI_SOSIAL: SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI,
    ServiceType.BANTUAN_HUKUM: SubTaskForceKey.PENEGAKAN_HUKUM,
    ServiceType.PENEGAKAN_HUKUM: SubTaskForceKey.PENEGAKAN_HUKUM,
    ServiceType.MEDIASI: None,
    ServiceType.PENDAMPINGAN: None,
    ServiceType.PEMULANGAN: SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI,
    ServiceType.REINTEGRASI_SOSIAL: SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI,
    ServiceType.PENDAMPINGAN_ROHANI: None,
    ServiceType.PEMBERDAYAAN_EKONOMI: SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI,
    ServiceType.DOKUMEN_KEPENDUDUKAN: None,
}


# domain.md §6.4: the SIMFONI age bands, as (label, lowest age, highest age or None)
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-5", 0, 5),
    ("6-12", 6, 12),
    ("13-17", 13, 17),
    ("18-24", 18, 24),
    ("25-44", 25, 44),
    ("45-59", 45, 59),
    ("60+", 60, None),
)
UNKNOWN_AGE = "?"


def age_band(age: int | None) -> str:
    """The SIMFONI age band of an age at the incident; ``?`` when it is unknown."""
    if age is None or age < 0:
        return UNKNOWN_AGE
    for name, low, high in AGE_BANDS:
        if age >= low and (high is None or age <= high):
            return name
    return UNKNOWN_AGE


class Sex(enum.StrEnum):
    L = "L"
    P = "P"


class Role(enum.StrEnum):
    PETUGAS_PENGADUAN = "petugas_pengaduan"
    MANAJER_KASUS = "manajer_kasus"
    SUPERVISOR = "supervisor"
    PETUGAS_LAYANAN = "petugas_layanan"
    KOORDINATOR_SUBGT = "koordinator_subgt"
    ANALIS_DATA = "analis_data"
    PIMPINAN = "pimpinan"
    ADMIN = "admin"

    @property
    def scoped_to_subtaskforce(self) -> bool:
        return self is Role.KOORDINATOR_SUBGT


# --- the case record (domain.md §2) ------------------------------------------------------------


class Channel(enum.StrEnum):
    DATANG_LANGSUNG = "datang_langsung"
    TELEPON = "telepon"
    WHATSAPP = "whatsapp"
    SURAT_EMAIL = "surat_email"
    HOTLINE_SAPA129 = "hotline_sapa129"
    PIHAK_KETIGA = "pihak_ketiga"
    PENJANGKAUAN = "penjangkauan"
    RUJUKAN_MASUK = "rujukan_masuk"
    PELIMPAHAN_MASUK = "pelimpahan_masuk"
    MEDIA = "media"


class IncidentPlace(enum.StrEnum):
    RUMAH_TANGGA = "rumah_tangga"
    TEMPAT_KERJA = "tempat_kerja"
    SEKOLAH = "sekolah"
    FASILITAS_UMUM = "fasilitas_umum"
    LEMBAGA_PENDIDIKAN_KILAT = "lembaga_pendidikan_kilat"
    DARING = "daring"
    LAINNYA = "lainnya"


class Ranah(enum.StrEnum):
    DOMESTIK = "domestik"
    PUBLIK = "publik"
    KETENAGAKERJAAN = "ketenagakerjaan"
    DARING = "daring"


class CaseType(enum.StrEnum):
    KTP = "ktp"
    KTA = "kta"
    AMPK = "ampk"
    TPPO = "tppo"
    TPKS = "tpks"


class Risk(enum.StrEnum):
    TINGGI = "tinggi"
    SEDANG = "sedang"
    RENDAH = "rendah"


class Kewenangan(enum.StrEnum):
    KABKOTA = "kabkota"
    PROVINSI = "provinsi"
    PUSAT = "pusat"


class IncidentDatePrecision(enum.StrEnum):
    HARI = "hari"  # exact date
    BULAN = "bulan"  # month and year known
    TAHUN = "tahun"  # year known


class ViolenceType(enum.StrEnum):
    FISIK = "fisik"
    PSIKIS = "psikis"
    SEKSUAL = "seksual"
    EKSPLOITASI = "eksploitasi"
    TRAFFICKING = "trafficking"
    PENELANTARAN = "penelantaran"
    LAINNYA = "lainnya"


class AmpkCategory(enum.StrEnum):
    """UU 35/2014 Pasal 59(2) a-o."""

    SITUASI_DARURAT = "situasi_darurat"
    BERHADAPAN_DENGAN_HUKUM = "berhadapan_dengan_hukum"
    MINORITAS_TERISOLASI = "minoritas_terisolasi"
    EKSPLOITASI_EKONOMI_SEKSUAL = "eksploitasi_ekonomi_seksual"
    NAPZA = "napza"
    PORNOGRAFI = "pornografi"
    HIV_AIDS = "hiv_aids"
    PENCULIKAN_PERDAGANGAN = "penculikan_perdagangan"
    KEKERASAN_FISIK_PSIKIS = "kekerasan_fisik_psikis"
    KEJAHATAN_SEKSUAL = "kejahatan_seksual"
    TERORISME = "terorisme"
    DISABILITAS = "disabilitas"
    PERLAKUAN_SALAH_PENELANTARAN = "perlakuan_salah_penelantaran"
    PERILAKU_SOSIAL_MENYIMPANG = "perilaku_sosial_menyimpang"
    STIGMATISASI = "stigmatisasi"


class TppoProses(enum.StrEnum):
    PEREKRUTAN = "perekrutan"
    PENGANGKUTAN = "pengangkutan"
    PENAMPUNGAN = "penampungan"
    PENGIRIMAN = "pengiriman"
    PEMINDAHAN = "pemindahan"
    PENERIMAAN = "penerimaan"


class TppoCara(enum.StrEnum):
    ANCAMAN_KEKERASAN = "ancaman_kekerasan"
    PENCULIKAN = "penculikan"
    PENYEKAPAN = "penyekapan"
    PEMALSUAN = "pemalsuan"
    PENIPUAN = "penipuan"
    PENYALAHGUNAAN_KEKUASAAN = "penyalahgunaan_kekuasaan"
    JERATAN_UTANG = "jeratan_utang"
    MEMBERI_BAYARAN = "memberi_bayaran"


class TppoTujuan(enum.StrEnum):
    SEKSUAL = "seksual"
    KERJA_PAKSA = "kerja_paksa"
    PERBUDAKAN = "perbudakan"
    PENGAMBILAN_ORGAN = "pengambilan_organ"
    LAINNYA = "lainnya"


class Relationship(enum.StrEnum):
    ORANG_TUA = "orang_tua"
    KELUARGA = "keluarga"
    SUAMI_ISTRI = "suami_istri"
    PACAR_TEMAN = "pacar_teman"
    TETANGGA = "tetangga"
    GURU = "guru"
    MAJIKAN = "majikan"
    REKAN_KERJA = "rekan_kerja"
    ORANG_TIDAK_DIKENAL = "orang_tidak_dikenal"
    AGEN_PENYALUR = "agen_penyalur"
    LAINNYA = "lainnya"


class Nationality(enum.StrEnum):
    WNI = "WNI"
    WNA = "WNA"


class Education(enum.StrEnum):
    BELUM_SEKOLAH = "belum_sekolah"
    TIDAK_SEKOLAH = "tidak_sekolah"
    SD = "sd"
    SMP = "smp"
    SMA = "sma"
    DIPLOMA = "diploma"
    SARJANA = "sarjana"
    PASCASARJANA = "pascasarjana"


class MaritalStatus(enum.StrEnum):
    BELUM_KAWIN = "belum_kawin"
    KAWIN = "kawin"
    CERAI_HIDUP = "cerai_hidup"
    CERAI_MATI = "cerai_mati"


class Religion(enum.StrEnum):
    ISLAM = "islam"
    KRISTEN = "kristen"
    KATOLIK = "katolik"
    HINDU = "hindu"
    BUDDHA = "buddha"
    KHONGHUCU = "khonghucu"
    KEPERCAYAAN = "kepercayaan"


class ReporterKind(enum.StrEnum):
    KORBAN = "korban"  # the victim reports herself
    PIHAK_KETIGA = "pihak_ketiga"
    ANONIM = "anonim"


class ConsentDecision(enum.StrEnum):
    SETUJU = "setuju"
    MENOLAK = "menolak"


class ConsentGiver(enum.StrEnum):
    KORBAN = "korban"
    WALI = "wali"


from workflows.states import CaseState as CaseState  # noqa: E402  (re-exported)
from workflows.states import TrackState as TrackState  # noqa: E402  (re-exported)

TRACK_ENDED = frozenset(
    {
        TrackState.SELESAI,
        TrackState.DITOLAK_KORBAN,
        TrackState.TIDAK_TERSEDIA,
        TrackState.DIBATALKAN,
    }
)
CASE_CLOSED = frozenset({CaseState.TERMINASI, CaseState.DILIMPAHKAN, CaseState.DITUTUP})


class VerificationStatus(enum.StrEnum):
    BELUM_DIVERIFIKASI = "belum_diverifikasi"
    TERVERIFIKASI = "terverifikasi"


class AssessmentArea(enum.StrEnum):
    """The areas of the biopsikososial assessment (physical … spiritual needs and risks)."""

    FISIK = "fisik"
    PSIKOLOGIS = "psikologis"
    SOSIAL = "sosial"
    EKONOMI = "ekonomi"
    PENDIDIKAN = "pendidikan"
    HUKUM = "hukum"
    SPIRITUAL = "spiritual"


class NeedLevel(enum.StrEnum):
    """How pressing the needs and risks found in one assessment area are."""

    TIDAK_ADA = "tidak_ada"
    RENDAH = "rendah"
    SEDANG = "sedang"
    TINGGI = "tinggi"


class TransferState(enum.StrEnum):
    """A request to hand a case over to another agency (pelimpahan)."""

    MENUNGGU = "menunggu"
    DITERIMA = "diterima"
    DITOLAK = "ditolak"
    DIBATALKAN = "dibatalkan"


from workflows.states import ReferralState as ReferralState  # noqa: E402  (re-exported)

REFERRAL_OPEN = frozenset({ReferralState.DIKIRIM, ReferralState.DITERIMA, ReferralState.BERJALAN})
REFERRAL_ENDED = frozenset({ReferralState.DITOLAK, ReferralState.SELESAI, ReferralState.DITARIK})


class ReferralSection(enum.StrEnum):
    """What of the case the receiving agency may see: chosen by the sender, nothing else."""

    IDENTITAS = "identitas"  # identity and contact of the victim (and guardians)
    KEJADIAN = "kejadian"  # incident summary
    ASESMEN = "asesmen"  # assessment findings relevant to the service
    LAMPIRAN = "lampiran"  # individual attachments, chosen one by one


CONSENT_PURPOSES_FIXED = (
    "layanan",
    "pelaporan_statistik",
    "dokumentasi",
    "tindakan_medis",
)


def is_valid_consent_purpose(purpose: str, agency_codes: frozenset[str] | None = None) -> bool:
    """``layanan``, ``layanan:<service type>``, ``rujukan:<agency code>``, ``pelaporan_statistik``,
    ``dokumentasi`` or ``tindakan_medis``."""
    if purpose in CONSENT_PURPOSES_FIXED:
        return True
    kind, _, rest = purpose.partition(":")
    if kind == "layanan":
        return rest in {s.value for s in ServiceType}
    if kind == "rujukan":
        return bool(rest) and (agency_codes is None or rest in agency_codes)
    return False
