"""People-facing names of the vocabularies, translatable. ``label(value)`` for templates."""

from __future__ import annotations

import enum
from typing import Any

from app.core.enums import AgencyType, RegionLevel, Role, ServiceType, Sex, SubTaskForceKey
from app.core.i18n import lazy_gettext as _l

_FLAT: list[tuple[enum.StrEnum, Any]] = [
    (RegionLevel.PROVINSI, _l("Province")),
    (RegionLevel.KABKOTA, _l("Regency/City")),
    (RegionLevel.KECAMATAN, _l("District (kecamatan)")),
    (RegionLevel.DESA, _l("Village (desa/kelurahan)")),
    (AgencyType.UPTD_PPA, _l("UPTD PPA")),
    (AgencyType.DINAS_PPA, _l("Dinas PPPA")),
    (AgencyType.DINAS_SOSIAL, _l("Social affairs office (Dinas Sosial)")),
    (AgencyType.RUMAH_AMAN, _l("Safe house / shelter")),
    (AgencyType.FASKES, _l("Health facility")),
    (AgencyType.KEPOLISIAN, _l("Police (Unit PPA)")),
    (AgencyType.KEJAKSAAN, _l("Prosecutor's office")),
    (AgencyType.PENGADILAN, _l("Court")),
    (AgencyType.BANTUAN_HUKUM, _l("Legal aid")),
    (AgencyType.LPSK, _l("LPSK (witness and victim protection)")),
    (AgencyType.DISNAKER, _l("Manpower office (Disnaker)")),
    (AgencyType.IMIGRASI, _l("Immigration")),
    (AgencyType.BP2MI, _l("BP2MI / UPT BP3MI")),
    (AgencyType.PERWAKILAN_RI, _l("Indonesian mission abroad")),
    (AgencyType.DUKCAPIL, _l("Civil registry (Dukcapil)")),
    (AgencyType.KEMENAG, _l("Religious affairs (Kemenag, KUA)")),
    (AgencyType.LEMBAGA_MASYARAKAT, _l("Community organisation")),
    (AgencyType.LAINNYA, _l("Other")),
    (ServiceType.PENGADUAN, _l("Complaint handling")),
    (ServiceType.PENJANGKAUAN, _l("Outreach")),
    (ServiceType.KEDARURATAN, _l("Emergency response")),
    (ServiceType.PENAMPUNGAN_SEMENTARA, _l("Temporary shelter")),
    (ServiceType.REHABILITASI_KESEHATAN, _l("Health rehabilitation")),
    (ServiceType.REHABILITASI_SOSIAL, _l("Social rehabilitation")),
    (ServiceType.BANTUAN_HUKUM, _l("Legal aid")),
    (ServiceType.PENEGAKAN_HUKUM, _l("Law enforcement")),
    (ServiceType.MEDIASI, _l("Mediation")),
    (ServiceType.PENDAMPINGAN, _l("Accompaniment")),
    (ServiceType.PEMULANGAN, _l("Repatriation")),
    (ServiceType.REINTEGRASI_SOSIAL, _l("Social reintegration")),
    (ServiceType.PENDAMPINGAN_ROHANI, _l("Spiritual guidance")),
    (ServiceType.PEMBERDAYAAN_EKONOMI, _l("Economic empowerment")),
    (ServiceType.DOKUMEN_KEPENDUDUKAN, _l("Identity documents")),
    (SubTaskForceKey.PENCEGAHAN_PARTISIPASI_ANAK, _l("Prevention and child participation")),
    (SubTaskForceKey.REHABILITASI_KESEHATAN, _l("Health rehabilitation")),
    (
        SubTaskForceKey.REHSOS_PEMULANGAN_REINTEGRASI,
        _l("Social rehabilitation, repatriation and reintegration"),
    ),
    (SubTaskForceKey.PENGEMBANGAN_NORMA_HUKUM, _l("Development of legal norms")),
    (SubTaskForceKey.PENEGAKAN_HUKUM, _l("Law enforcement")),
    (SubTaskForceKey.KOORDINASI_KERJA_SAMA, _l("Coordination and cooperation")),
    (Sex.L, _l("Male")),
    (Sex.P, _l("Female")),
    (Role.PETUGAS_PENGADUAN, _l("Intake officer")),
    (Role.MANAJER_KASUS, _l("Case manager")),
    (Role.SUPERVISOR, _l("Supervisor")),
    (Role.PETUGAS_LAYANAN, _l("Service provider staff")),
    (Role.KOORDINATOR_SUBGT, _l("Sub GT coordinator")),
    (Role.ANALIS_DATA, _l("Data analyst")),
    (Role.PIMPINAN, _l("Leadership")),
    (Role.ADMIN, _l("Administrator")),
]


# Keyed by vocabulary, then value: the same string (``bantuan_hukum``) names an agency type and
# a service type, and StrEnum members hash like their strings.
LABELS: dict[type[enum.StrEnum], dict[str, Any]] = {}
for _member, _text in _FLAT:
    LABELS.setdefault(type(_member), {})[_member.value] = _text


def label(value: Any, vocabulary: type[enum.StrEnum] | None = None) -> str:
    """The translated name of a vocabulary value; the raw value when it has none."""
    vocab = vocabulary or (type(value) if isinstance(value, enum.StrEnum) else None)
    if vocab is None:
        return str(value)
    found = LABELS.get(vocab, {}).get(str(value))
    return str(found) if found is not None else str(value)


def choices(enum_cls: type[enum.StrEnum]) -> list[tuple[str, Any]]:
    """(value, label) pairs for a select field, in declaration order."""
    names = LABELS.get(enum_cls, {})
    return [(member.value, names.get(member.value, member.value)) for member in enum_cls]
