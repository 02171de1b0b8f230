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
