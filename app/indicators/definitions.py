"""The indicator definitions of domain.md §6.1-§6.4, version 1, as data.

``sync_definitions()`` writes any (code, version) not in ``indicator_definitions`` yet and
refuses to change a released one (a change is a new version with its own ``valid_from``). The
computation each definition uses is named by ``method`` (see ``compute.py``):

- ``komprehensif`` — victims of the group registered in the period who received comprehensive
  services by the period's end ÷ victims of the group registered in the period x 100 (§6.1);
- ``rasio`` — victims of the group ÷ the group's population x scale (§6.2);
- ``cakupan`` — victims whose track of the service is ``selesai`` by the period's end ÷ all
  victims (or, ``planned``, victims for whom the service was planned) x 100 (§6.3);
- ``count`` / ``breakdown`` — counts of victims, whole or by category (§6.4);
- ``respons_pertama`` — first responses within the deadline ÷ first-response deadlines x 100;
- ``rujukan`` — referrals sent / accepted / declined / overdue; median hours to acceptance.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.core.enums import ServiceType
from app.extensions import db
from app.indicators.models import IndicatorDefinition

VALID_FROM = dt.date(2020, 1, 1)

SERVICE_NAMES: dict[ServiceType, tuple[str, str]] = {
    ServiceType.PENGADUAN: ("pengaduan", "complaint handling"),
    ServiceType.PENJANGKAUAN: ("penjangkauan", "outreach"),
    ServiceType.KEDARURATAN: ("kedaruratan", "emergency response"),
    ServiceType.PENAMPUNGAN_SEMENTARA: ("penampungan sementara", "temporary shelter"),
    ServiceType.REHABILITASI_KESEHATAN: ("rehabilitasi kesehatan", "health rehabilitation"),
    ServiceType.REHABILITASI_SOSIAL: ("rehabilitasi sosial", "social rehabilitation"),
    ServiceType.BANTUAN_HUKUM: ("bantuan hukum", "legal aid"),
    ServiceType.PENEGAKAN_HUKUM: ("penegakan hukum", "law enforcement"),
    ServiceType.MEDIASI: ("mediasi", "mediation"),
    ServiceType.PENDAMPINGAN: ("pendampingan", "accompaniment"),
    ServiceType.PEMULANGAN: ("pemulangan", "repatriation"),
    ServiceType.REINTEGRASI_SOSIAL: ("reintegrasi sosial", "social reintegration"),
    ServiceType.PENDAMPINGAN_ROHANI: ("pendampingan rohani", "spiritual guidance"),
    ServiceType.PEMBERDAYAAN_EKONOMI: ("pemberdayaan ekonomi", "economic empowerment"),
    ServiceType.DOKUMEN_KEPENDUDUKAN: ("dokumen kependudukan", "identity documents"),
}


def _d(
    code: str,
    name_id: str,
    name_en: str,
    *,
    method: str,
    numerator: str,
    denominator: str | None,
    scale: int,
    unit: str,
    direction: str,
    group: str,
    headline: bool = False,
    rounding: int | None = None,
    **params: Any,
) -> dict[str, Any]:
    return {
        "code": code,
        "version": 1,
        "name_id": name_id,
        "name_en": name_en,
        "method": method,
        "numerator": numerator,
        "denominator": denominator,
        "scale": scale,
        "unit": unit,
        "direction": direction,
        "group": group,
        # counts are whole numbers; percentages and rates have 2 decimals (half-up)
        "rounding": rounding
        if rounding is not None
        else (0 if scale == 1 and not denominator else 2),
        "valid_from": VALID_FROM,
        "headline": headline,
        "params": params,
    }


DIMENSION_NAMES: tuple[tuple[str, str, str], ...] = (
    ("jenis_kekerasan", "jenis kekerasan", "type of violence"),
    ("tempat_kejadian", "tempat kejadian", "place of the incident"),
    ("kelompok_umur", "kelompok umur", "age band"),
    ("jenis_kelamin", "jenis kelamin", "sex"),
    ("disabilitas", "disabilitas", "disability"),
    ("hubungan_pelaku", "hubungan dengan pelaku", "relationship to the perpetrator"),
    ("jenis_kasus", "jenis kasus", "case type"),
)
REFERRAL_MEASURES: tuple[tuple[str, str, str, str], ...] = (
    ("terkirim", "terkirim", "sent", "none"),
    ("diterima", "diterima", "accepted", "none"),
    ("ditolak", "ditolak", "declined", "lower"),
    ("terlambat", "terlambat dijawab", "answered late", "lower"),
)

WOMEN_VICTIMS = "korban perempuan (≥ 18 tahun saat kejadian) yang terdaftar pada periode"
CHILD_VICTIMS = "korban anak (< 18 tahun saat kejadian) yang terdaftar pada periode"
ALL_VICTIMS = "semua korban yang terdaftar pada periode"

DEFAULTS: list[dict[str, Any]] = [
    # §6.1
    _d(
        "pct_perempuan_layanan_komprehensif",
        "Persentase perempuan korban kekerasan yang mendapatkan layanan komprehensif",
        "Share of women victims of violence who received comprehensive services",
        method="komprehensif",
        numerator=WOMEN_VICTIMS + " yang mendapat layanan komprehensif per akhir periode",
        denominator=WOMEN_VICTIMS,
        scale=100,
        unit="%",
        direction="higher",
        group="perempuan",
        headline=True,
    ),
    _d(
        "pct_anak_layanan_komprehensif",
        "Persentase anak korban kekerasan yang mendapatkan layanan komprehensif",
        "Share of child victims of violence who received comprehensive services",
        method="komprehensif",
        numerator=CHILD_VICTIMS + " yang mendapat layanan komprehensif per akhir periode",
        denominator=CHILD_VICTIMS,
        scale=100,
        unit="%",
        direction="higher",
        group="anak",
        headline=True,
    ),
    # §6.2
    _d(
        "rasio_kekerasan_perempuan",
        "Rasio kekerasan terhadap perempuan per 100.000 penduduk perempuan",
        "Violence against women per 100,000 women",
        method="rasio",
        numerator=WOMEN_VICTIMS + " (termasuk TPPO)",
        denominator="penduduk perempuan (semua umur) pada tahun periode",
        scale=100_000,
        unit="per 100.000",
        direction="lower",
        group="perempuan",
        headline=True,
        population=["perempuan"],
    ),
    _d(
        "rasio_kekerasan_anak",
        "Rasio kekerasan terhadap anak per 100.000 penduduk anak",
        "Violence against children per 100,000 children",
        method="rasio",
        numerator=CHILD_VICTIMS,
        denominator="penduduk anak (0-17 tahun, laki-laki dan perempuan) pada tahun periode",
        scale=100_000,
        unit="per 100.000",
        direction="lower",
        group="anak",
        headline=True,
        population=["anak"],
    ),
    _d(
        "rasio_kekerasan_perempuan_anak",
        "Rasio kekerasan terhadap perempuan dan anak per 10.000 penduduk",
        "Violence against women and children per 10,000 (women + children)",
        method="rasio",
        numerator="korban perempuan + korban anak yang terdaftar pada periode",
        denominator="penduduk perempuan + penduduk anak pada tahun periode",
        scale=10_000,
        unit="per 10.000",
        direction="lower",
        group="perempuan_anak",
        headline=True,
        population=["perempuan", "anak"],
    ),
    # §6.4
    _d(
        "jumlah_korban",
        "Jumlah korban",
        "Number of victims",
        method="count",
        numerator=ALL_VICTIMS,
        denominator=None,
        scale=1,
        unit="orang",
        direction="none",
        group="semua",
        headline=True,
    ),
    _d(
        "jumlah_korban_perempuan",
        "Jumlah korban perempuan",
        "Number of women victims",
        method="count",
        numerator=WOMEN_VICTIMS,
        denominator=None,
        scale=1,
        unit="orang",
        direction="none",
        group="perempuan",
    ),
    _d(
        "jumlah_korban_anak",
        "Jumlah korban anak",
        "Number of child victims",
        method="count",
        numerator=CHILD_VICTIMS,
        denominator=None,
        scale=1,
        unit="orang",
        direction="none",
        group="anak",
    ),
    _d(
        "jumlah_korban_menolak_statistik",
        "Jumlah korban yang menolak datanya dipakai untuk statistik",
        "Number of victims who refused the use of their data for statistics",
        method="count",
        numerator=ALL_VICTIMS + " yang menolak pelaporan statistik (tidak dihitung di angka lain)",
        denominator=None,
        scale=1,
        unit="orang",
        direction="none",
        group="semua",
        refused_statistics=True,
    ),
    _d(
        "jumlah_korban_tppo",
        "Jumlah korban TPPO",
        "Number of trafficking (TPPO) victims",
        method="count",
        numerator=ALL_VICTIMS + " dalam kasus TPPO",
        denominator=None,
        scale=1,
        unit="orang",
        direction="none",
        group="semua",
        case_type="tppo",
    ),
    *[
        _d(
            f"korban_menurut_{dimension}",
            f"Korban menurut {name_id}",
            f"Victims by {name_en}",
            method="breakdown",
            numerator=ALL_VICTIMS + f", menurut {name_id}",
            denominator=None,
            scale=1,
            unit="orang",
            direction="none",
            group="semua",
            dimension=dimension,
        )
        for dimension, name_id, name_en in DIMENSION_NAMES
    ],
    _d(
        "pct_respons_pertama_tepat_waktu",
        "Persentase respons pertama tepat waktu",
        "Share of first responses within the deadline",
        method="respons_pertama",
        numerator="kasus terdaftar pada periode yang respons pertamanya tepat waktu",
        denominator="kasus terdaftar pada periode dengan tenggat respons pertama",
        scale=100,
        unit="%",
        direction="higher",
        group="semua",
    ),
    *[
        _d(
            f"rujukan_{what}",
            f"Rujukan {name_id}",
            f"Referrals {name_en}",
            method="rujukan",
            numerator=f"rujukan yang dikirim pada periode ke lembaga di wilayah, {name_id}",
            denominator=None,
            scale=1,
            unit="rujukan",
            direction=direction,
            group="semua",
            measure=what,
        )
        for what, name_id, name_en, direction in REFERRAL_MEASURES
    ],
    _d(
        "median_jam_rujukan_diterima",
        "Median jam sampai rujukan diterima",
        "Median hours until a referral is accepted",
        method="rujukan",
        numerator="median jam dari pengiriman sampai diterima (rujukan terkirim pada periode)",
        denominator=None,
        scale=1,
        unit="jam",
        direction="lower",
        group="semua",
        measure="median_jam",
    ),
    # §6.3
    *[
        _d(
            f"cakupan_{service.value}",
            f"Cakupan layanan {names[0]}",
            f"Coverage of {names[1]}",
            method="cakupan",
            numerator=ALL_VICTIMS + f" yang layanan {names[0]}-nya selesai per akhir periode",
            denominator=ALL_VICTIMS,
            scale=100,
            unit="%",
            direction="higher",
            group="semua",
            service=service.value,
        )
        for service, names in SERVICE_NAMES.items()
    ],
    *[
        _d(
            f"cakupan_{service.value}_direncanakan",
            f"Cakupan layanan {names[0]} (dari yang direncanakan)",
            f"Coverage of {names[1]} (of those planned)",
            method="cakupan",
            numerator=ALL_VICTIMS + f" yang layanan {names[0]}-nya selesai per akhir periode",
            denominator=ALL_VICTIMS + f" yang direncanakan mendapat layanan {names[0]}",
            scale=100,
            unit="%",
            direction="higher",
            group="semua",
            service=service.value,
            planned=True,
        )
        for service, names in SERVICE_NAMES.items()
    ],
]

# The numerators and denominators in English, for the English pages (the definitions store them
# in Bahasa Indonesia, as the report shows them): each Indonesian phrase and its English, applied
# longest first; ``describe_en`` falls back to the stored text for one it does not know.
_PHRASES_EN: list[tuple[str, str]] = [
    (WOMEN_VICTIMS, "women victims (18 or older at the incident) registered in the period"),
    (CHILD_VICTIMS, "child victims (under 18 at the incident) registered in the period"),
    (ALL_VICTIMS, "all victims registered in the period"),
    (
        "korban perempuan + korban anak yang terdaftar pada periode",
        "women victims + child victims registered in the period",
    ),
    (
        " yang mendapat layanan komprehensif per akhir periode",
        " who received comprehensive services by the end of the period",
    ),
    (" (termasuk TPPO)", " (trafficking included)"),
    (
        "penduduk perempuan (semua umur) pada tahun periode",
        "female population (all ages) in the year of the period",
    ),
    (
        "penduduk anak (0-17 tahun, laki-laki dan perempuan) pada tahun periode",
        "child population (0-17 years, boys and girls) in the year of the period",
    ),
    (
        "penduduk perempuan + penduduk anak pada tahun periode",
        "female population + child population in the year of the period",
    ),
    (
        " yang menolak pelaporan statistik (tidak dihitung di angka lain)",
        " who refused statistical reporting (not counted in other figures)",
    ),
    (" dalam kasus TPPO", " in trafficking (TPPO) cases"),
    (
        "kasus terdaftar pada periode yang respons pertamanya tepat waktu",
        "cases registered in the period whose first response was on time",
    ),
    (
        "kasus terdaftar pada periode dengan tenggat respons pertama",
        "cases registered in the period with a first-response deadline",
    ),
    (
        "median jam dari pengiriman sampai diterima (rujukan terkirim pada periode)",
        "median hours from sending to acceptance (referrals sent in the period)",
    ),
    *[(f", menurut {name_id}", f", by {name_en}") for _dim, name_id, name_en in DIMENSION_NAMES],
    *[
        (
            f"rujukan yang dikirim pada periode ke lembaga di wilayah, {name_id}",
            f"referrals sent in the period to agencies in the region, {name_en}",
        )
        for _what, name_id, name_en, _direction in REFERRAL_MEASURES
    ],
    *[
        (
            f" yang layanan {names[0]}-nya selesai per akhir periode",
            f" whose {names[1]} service was completed by the end of the period",
        )
        for names in SERVICE_NAMES.values()
    ],
    *[
        (
            f" yang direncanakan mendapat layanan {names[0]}",
            f" for whom the {names[1]} service was planned",
        )
        for names in SERVICE_NAMES.values()
    ],
]
_PHRASES_EN.sort(key=lambda pair: len(pair[0]), reverse=True)


def _english(text: str) -> str:
    for indonesian, english in _PHRASES_EN:
        text = text.replace(indonesian, english)
    return text


DESCRIPTIONS_EN: dict[str, str] = {
    text: _english(text)
    for spec in DEFAULTS
    for text in (spec["numerator"], spec["denominator"])
    if text is not None
}


def describe_en(text: str) -> str:
    """A stored numerator or denominator in English (the stored text when it is not one of
    these definitions')."""
    return DESCRIPTIONS_EN.get(text, text)


FIELDS = (
    "name_id",
    "name_en",
    "method",
    "numerator",
    "denominator",
    "scale",
    "unit",
    "direction",
    "group",
    "rounding",
    "valid_from",
    "headline",
    "params",
)


class DefinitionChanged(RuntimeError):
    """A released definition differs from the code: make a new version instead."""


def sync_definitions() -> int:
    """Insert the definitions not stored yet; the number inserted. Nothing here commits."""
    stored = {(d.code, d.version): d for d in db.session.scalars(select(IndicatorDefinition))}
    added = 0
    for spec in DEFAULTS:
        existing = stored.get((spec["code"], spec["version"]))
        if existing is None:
            db.session.add(IndicatorDefinition(**spec))
            added += 1
            continue
        changed = [f for f in FIELDS if getattr(existing, f) != spec[f]]
        if changed:
            raise DefinitionChanged(
                f"{spec['code']} v{spec['version']} is released and differs in "
                f"{', '.join(changed)}: add version {spec['version'] + 1} instead"
            )
    db.session.flush()
    return added


def current_definitions(on: dt.date) -> list[IndicatorDefinition]:
    """The version of each indicator that applies on ``on``: the latest whose ``valid_from`` is
    on or before it; before the first version's ``valid_from`` the first version (domain.md §6:
    the first version of a definition applies to every period back to the oldest record, so a
    region that migrates its records gets its 2016 figures back)."""
    applies: dict[str, IndicatorDefinition] = {}
    for d in db.session.scalars(
        select(IndicatorDefinition).order_by(IndicatorDefinition.code, IndicatorDefinition.version)
    ):
        if d.code not in applies or d.valid_from <= on:
            applies[d.code] = d
    return list(applies.values())
