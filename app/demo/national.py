"""The reference data of a generated national history (``flask demo generate``): the 38
provinces with their Kemendagri codes, 514 kabupaten/kota and about 7,000 kecamatan, population
by sex and age band, about 8,000 agencies with the services they provide, the GT P2TPPO of every
region with its Sub GTs, and accounts for a realistic subset of the agencies.

Province codes and names are the real ones (public reference data); kabupaten/kota and kecamatan
names are made up from syllables, so nothing here describes a real place below the province.
Everything is drawn from the ``random.Random`` the caller passes: one seed, one country.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass, field

from app.core.enums import AgencyType as T
from app.core.enums import ServiceType as S
from app.core.enums import SubTaskForceKey as K

# code, name, number of kabupaten/kota, population in thousands (rounded, recent years)
PROVINCES: list[tuple[str, str, int, int]] = [
    ("11", "Aceh", 23, 5_550),
    ("12", "Sumatera Utara", 33, 15_590),
    ("13", "Sumatera Barat", 19, 5_760),
    ("14", "Riau", 12, 6_730),
    ("15", "Jambi", 11, 3_720),
    ("16", "Sumatera Selatan", 17, 8_840),
    ("17", "Bengkulu", 10, 2_090),
    ("18", "Lampung", 15, 9_310),
    ("19", "Kepulauan Bangka Belitung", 7, 1_530),
    ("21", "Kepulauan Riau", 7, 2_180),
    ("31", "DKI Jakarta", 6, 10_680),
    ("32", "Jawa Barat", 27, 49_940),
    ("33", "Jawa Tengah", 35, 37_540),
    ("34", "DI Yogyakarta", 5, 3_740),
    ("35", "Jawa Timur", 38, 41_410),
    ("36", "Banten", 8, 12_430),
    ("51", "Bali", 9, 4_430),
    ("52", "Nusa Tenggara Barat", 10, 5_650),
    ("53", "Nusa Tenggara Timur", 22, 5_570),
    ("61", "Kalimantan Barat", 14, 5_620),
    ("62", "Kalimantan Tengah", 14, 2_770),
    ("63", "Kalimantan Selatan", 13, 4_170),
    ("64", "Kalimantan Timur", 10, 3_910),
    ("65", "Kalimantan Utara", 5, 730),
    ("71", "Sulawesi Utara", 15, 2_660),
    ("72", "Sulawesi Tengah", 13, 3_090),
    ("73", "Sulawesi Selatan", 24, 9_360),
    ("74", "Sulawesi Tenggara", 17, 2_750),
    ("75", "Gorontalo", 6, 1_200),
    ("76", "Sulawesi Barat", 6, 1_460),
    ("81", "Maluku", 11, 1_880),
    ("82", "Maluku Utara", 10, 1_320),
    ("91", "Papua", 9, 1_060),
    ("92", "Papua Barat", 7, 560),
    ("93", "Papua Selatan", 4, 530),
    ("94", "Papua Tengah", 8, 1_450),
    ("95", "Papua Pegunungan", 8, 1_450),
    ("96", "Papua Barat Daya", 6, 600),
]

SYLLABLES = [
    "su", "ka", "ma", "ju", "ci", "ba", "nda", "ra", "wa", "ngi", "lo", "ta", "pa", "sa", "ri",
    "mu", "ke", "do", "ga", "la", "ti", "no", "be", "ro", "si", "ha", "mbo", "ja", "ya", "wi",
]  # fmt: skip
PREFIXES = ["Sukamaju", "Tanjung", "Sungai", "Bukit", "Pulau", "Teluk", "Muara", "Gunung"]

# Population age bands (as the population import takes them): from, to (None: open-ended).
AGE_BANDS: list[tuple[int, int | None]] = [
    (0, 4), (5, 9), (10, 14), (15, 17), (18, 24), (25, 29), (30, 34), (35, 39), (40, 44),
    (45, 49), (50, 54), (55, 59), (60, 64), (65, 69), (70, 74), (75, None),
]  # fmt: skip
# Share of each band in the population (sums to 1).
AGE_SHARES = [
    0.085, 0.085, 0.083, 0.05, 0.11, 0.08, 0.078, 0.075, 0.07, 0.065, 0.058, 0.05, 0.04,
    0.03, 0.02, 0.021,
]  # fmt: skip

# The services each type of agency provides.
SERVICES: dict[T, list[S]] = {
    T.UPTD_PPA: [
        S.PENGADUAN, S.PENJANGKAUAN, S.KEDARURATAN, S.PENAMPUNGAN_SEMENTARA,
        S.REHABILITASI_SOSIAL, S.PENDAMPINGAN, S.MEDIASI, S.BANTUAN_HUKUM,
    ],
    T.DINAS_PPA: [S.PENGADUAN, S.PENJANGKAUAN, S.PENDAMPINGAN, S.MEDIASI, S.PEMBERDAYAAN_EKONOMI],
    T.DINAS_SOSIAL: [
        S.REHABILITASI_SOSIAL, S.PEMULANGAN, S.REINTEGRASI_SOSIAL, S.PEMBERDAYAAN_EKONOMI,
    ],
    T.RUMAH_AMAN: [S.PENAMPUNGAN_SEMENTARA, S.REHABILITASI_SOSIAL],
    T.FASKES: [S.REHABILITASI_KESEHATAN],
    T.KEPOLISIAN: [S.PENEGAKAN_HUKUM],
    T.KEJAKSAAN: [S.PENEGAKAN_HUKUM],
    T.PENGADILAN: [S.PENEGAKAN_HUKUM],
    T.BANTUAN_HUKUM: [S.BANTUAN_HUKUM, S.PENDAMPINGAN],
    T.LPSK: [S.REHABILITASI_KESEHATAN, S.REHABILITASI_SOSIAL, S.BANTUAN_HUKUM],
    T.DISNAKER: [S.PEMBERDAYAAN_EKONOMI],
    T.IMIGRASI: [S.PEMULANGAN],
    T.BP2MI: [S.PEMULANGAN, S.REINTEGRASI_SOSIAL],
    T.PERWAKILAN_RI: [S.PEMULANGAN, S.KEDARURATAN],
    T.DUKCAPIL: [S.DOKUMEN_KEPENDUDUKAN],
    T.KEMENAG: [S.PENDAMPINGAN_ROHANI],
    T.LEMBAGA_MASYARAKAT: [S.PENJANGKAUAN, S.PENDAMPINGAN, S.REHABILITASI_SOSIAL],
    T.LAINNYA: [S.PENJANGKAUAN],
}  # fmt: skip

# The agencies of every kabupaten/kota: code prefix, name prefix, type, share of kab/kota with one.
KABKOTA_AGENCIES: list[tuple[str, str, T, float]] = [
    ("UPTDPPA", "UPTD PPA", T.UPTD_PPA, 0.85),
    ("DP3A", "Dinas PPPA", T.DINAS_PPA, 1.0),
    ("DINSOS", "Dinas Sosial", T.DINAS_SOSIAL, 1.0),
    ("RSUD", "RSUD", T.FASKES, 1.0),
    ("POLRES", "Unit PPA Polres", T.KEPOLISIAN, 1.0),
    ("KEJARI", "Kejaksaan Negeri", T.KEJAKSAAN, 1.0),
    ("PN", "Pengadilan Negeri", T.PENGADILAN, 1.0),
    ("DUKCAPIL", "Dinas Dukcapil", T.DUKCAPIL, 1.0),
    ("DISNAKER", "Dinas Tenaga Kerja", T.DISNAKER, 1.0),
    ("LBH", "LBH Perempuan dan Anak", T.BANTUAN_HUKUM, 0.7),
    ("RPTC", "Rumah Aman", T.RUMAH_AMAN, 0.5),
    ("YPA", "Yayasan Peduli Perempuan dan Anak", T.LEMBAGA_MASYARAKAT, 0.5),
    ("IMIGRASI", "Kantor Imigrasi", T.IMIGRASI, 0.2),
    ("FORUMANAK", "Forum Anak", T.LAINNYA, 0.2),
]
# ... of every province
PROVINCE_AGENCIES: list[tuple[str, str, T, float]] = [
    ("UPTDPPA", "UPTD PPA Provinsi", T.UPTD_PPA, 1.0),
    ("DP3A", "Dinas PPPA Provinsi", T.DINAS_PPA, 1.0),
    ("DINSOS", "Dinas Sosial Provinsi", T.DINAS_SOSIAL, 1.0),
    ("RSUP", "RSUD Provinsi", T.FASKES, 1.0),
    ("POLDA", "Unit PPA Polda", T.KEPOLISIAN, 1.0),
    ("BP3MI", "UPT BP3MI", T.BP2MI, 1.0),
    ("LPSK", "LPSK Perwakilan", T.LPSK, 0.3),
]
# ... of every kecamatan: puskesmas and KUA
KECAMATAN_AGENCIES: list[tuple[str, str, T, float]] = [
    ("PKM", "Puskesmas", T.FASKES, 0.2),
    ("KUA", "KUA Kecamatan", T.KEMENAG, 0.06),
]
# Representations abroad (in the DKI Jakarta region, which receives their returns).
ABROAD: list[tuple[str, str, str]] = [
    ("KBRI-KUL", "KBRI Kuala Lumpur", "Malaysia"),
    ("KJRI-JED", "KJRI Jeddah", "Arab Saudi"),
    ("KBRI-PNH", "KBRI Phnom Penh", "Kamboja"),
    ("KDEI-TPE", "KDEI Taipei", "Taiwan"),
    ("KBRI-SGP", "KBRI Singapura", "Singapura"),
    ("KBRI-HKG", "KJRI Hong Kong", "Hong Kong"),
]

# The agency types that are members of each Sub GT.
SUBGT_MEMBERS: dict[K, set[T]] = {
    K.PENCEGAHAN_PARTISIPASI_ANAK: {T.DINAS_PPA, T.LAINNYA, T.LEMBAGA_MASYARAKAT},
    K.REHABILITASI_KESEHATAN: {T.FASKES},
    K.REHSOS_PEMULANGAN_REINTEGRASI: {T.DINAS_SOSIAL, T.RUMAH_AMAN, T.UPTD_PPA, T.BP2MI},
    K.PENGEMBANGAN_NORMA_HUKUM: {T.DINAS_PPA, T.BANTUAN_HUKUM},
    K.PENEGAKAN_HUKUM: {T.KEPOLISIAN, T.KEJAKSAAN, T.PENGADILAN, T.BANTUAN_HUKUM},
    K.KOORDINASI_KERJA_SAMA: {T.DINAS_PPA, T.DISNAKER, T.IMIGRASI},
}


@dataclass
class Region:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    population: int = 0


@dataclass
class Agency:
    id: int
    code: str
    name: str
    type: T
    region_id: int
    services: list[S]


@dataclass
class KabKota:
    """A kabupaten/kota with what its cases need: its kecamatan, the agencies of its area by the
    service they provide (its own, its kecamatan's, its province's) and the agency that owns its
    cases."""

    region: Region
    province: Region
    kecamatan: list[Region] = field(default_factory=list)
    providers: dict[S, list[int]] = field(default_factory=dict)
    owner_id: int = 0  # the UPTD PPA, else the dinas PPPA


@dataclass
class Country:
    regions: list[Region] = field(default_factory=list)
    agencies: list[Agency] = field(default_factory=list)
    kabkota: list[KabKota] = field(default_factory=list)
    province_owner: dict[int, int] = field(default_factory=dict)  # province id -> its UPTD PPA
    abroad: dict[str, int] = field(default_factory=dict)  # destination country -> agency id
    by_id: dict[int, Agency] = field(default_factory=dict)


def _place_name(rng: random.Random) -> str:
    name = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice([2, 3, 3, 4])))
    if rng.random() < 0.15:
        return f"{rng.choice(PREFIXES)} {name.capitalize()}"
    return name.capitalize()


def build_country(rng: random.Random, *, first_region_id: int, first_agency_id: int) -> Country:
    """Regions and agencies, with ids assigned from the given firsts (the tables are empty)."""
    country = Country()
    region_id = first_region_id - 1
    agency_id = first_agency_id - 1
    used_names: set[str] = set()

    def region(code: str, name: str, level: str, parent: int | None) -> Region:
        nonlocal region_id
        region_id += 1
        r = Region(region_id, code, name, level, parent)
        country.regions.append(r)
        return r

    def agency(code: str, name: str, type_: T, region_id_: int) -> Agency:
        nonlocal agency_id
        agency_id += 1
        a = Agency(agency_id, code, name, type_, region_id_, SERVICES[type_])
        country.agencies.append(a)
        country.by_id[a.id] = a
        return a

    def unique_name(prefix: str) -> str:
        for _ in range(100):
            name = f"{prefix}{_place_name(rng)}"
            if name not in used_names:
                used_names.add(name)
                return name.removeprefix(prefix)
        raise AssertionError("ran out of place names")

    for code, name, count, thousands in PROVINCES:
        province = region(code, name, "provinsi", None)
        province.population = thousands * 1000
        province_agencies: list[Agency] = []
        for prefix, label, type_, share in PROVINCE_AGENCIES:
            if share >= 1 or rng.random() < share:
                province_agencies.append(
                    agency(f"{prefix}-{code}", f"{label} {name}", type_, province.id)
                )
        country.province_owner[province.id] = province_agencies[0].id
        # kab/kota sizes: lognormal shares of the province's population
        weights = [rng.lognormvariate(0, 0.7) for _ in range(count)]
        total = sum(weights)
        kota = max(1, count // 5) if count > 1 else 0
        for i in range(count):
            is_kota = i >= count - kota
            number = 71 + (i - (count - kota)) if is_kota else i + 1
            kcode = f"{code}.{number:02d}"
            place = unique_name("k:")
            kab = region(
                kcode, f"{'Kota' if is_kota else 'Kabupaten'} {place}", "kabkota", province.id
            )
            kab.population = int(province.population * weights[i] / total)
            entry = KabKota(kab, province)
            country.kabkota.append(entry)
            n_kec = max(3, min(40, int(rng.gauss(14, 6))))
            flat = kcode.replace(".", "")
            own: list[Agency] = []
            for prefix, label, type_, share in KABKOTA_AGENCIES:
                if (
                    share >= 1
                    or rng.random() < share
                    or (type_ is T.UPTD_PPA and weights[i] == max(weights))
                ):
                    own.append(agency(f"{prefix}-{flat}", f"{label} {kab.name}", type_, kab.id))
            for k in range(1, n_kec + 1):
                kec = region(f"{kcode}.{k:02d}", unique_name("c:"), "kecamatan", kab.id)
                entry.kecamatan.append(kec)
                for prefix, label, type_, share in KECAMATAN_AGENCIES:
                    if rng.random() < share:
                        own.append(
                            agency(f"{prefix}-{flat}{k:02d}", f"{label} {kec.name}", type_, kec.id)
                        )
            owners = [a for a in own if a.type is T.UPTD_PPA] or [
                a for a in own if a.type is T.DINAS_PPA
            ]
            entry.owner_id = owners[0].id
            for a in own + province_agencies:
                for service in a.services:
                    entry.providers.setdefault(service, []).append(a.id)
    jakarta = next(r for r in country.regions if r.code == "31")
    for code, name, destination in ABROAD:
        country.abroad[destination] = agency(code, name, T.PERWAKILAN_RI, jakarta.id).id
    return country


def population_rows(
    country: Country, rng: random.Random, years: list[int]
) -> list[tuple[int, int, str, int, int | None, int]]:
    """(region id, year, sex, age from, age to, count) for every kabupaten/kota: the rollup adds
    them up the region tree."""
    rows = []
    for entry in country.kabkota:
        base = entry.region.population
        for y, year in enumerate(years):
            total = base * (1 + 0.011 * (y - len(years) + 1))
            for sex, share in (("L", 0.505), ("P", 0.495)):
                for (age_from, age_to), band in zip(AGE_BANDS, AGE_SHARES, strict=True):
                    count = int(total * share * band * rng.uniform(0.97, 1.03))
                    rows.append((entry.region.id, year, sex, age_from, age_to, count))
    return rows


class Zipf:
    """Draws an index 0..n-1 with weight 1/(rank+1)^s, ``s`` chosen so that the first takes
    ``top`` of all draws."""

    def __init__(self, n: int, top: float) -> None:
        low, high = 0.0, 3.0
        for _ in range(60):
            s = (low + high) / 2
            weights = [1 / (k + 1) ** s for k in range(n)]
            if weights[0] / sum(weights) > top:
                high = s
            else:
                low = s
        self.exponent = (low + high) / 2
        weights = [1 / (k + 1) ** self.exponent for k in range(n)]
        self.cumulative: list[float] = []
        running = 0.0
        for w in weights:
            running += w
            self.cumulative.append(running)

    def draw(self, rng: random.Random) -> int:
        return bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])


def utc(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=dt.UTC)
