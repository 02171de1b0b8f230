"""Proved end to end (domain.md §6): a history written by hand as JSON Lines (interfaces.md §3),
imported with ``flask cases import``; regions, agencies and population loaded with their CSV
imports; values computed with ``flask indicators rollup`` and read back with ``flask indicators
show --format json``. Every worked example of domain.md §6 is reproduced exactly, and each
counting rule at its edge.

The records are plain dicts built by the small helpers below (no factories: the point is the
import format itself). Each scenario lives in its own kabupaten/kota (or its own year) — the
transfer and the incident-region rule in provinces of their own, as they are checked at the
province level too — so they never interfere: ``test_every_scenario_in_one_file`` imports them
together and finds each figure again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.cases.models import Case
from app.core.enums import CaseState, Role
from app.extensions import db
from app.indicators.compute import NO_POPULATION, NO_VICTIMS
from app.indicators.periods import JAKARTA
from app.quality.checks import check_case

# --- the world: regions, agencies, population (the CSV imports of interfaces.md §2) ------------

PROVINSI = {
    "61": "Provinsi Uji Riwayat",  # the worked examples and the counting rules
    "62": "Provinsi Uji Pelimpahan",  # a transfer between two kabupaten/kota
    "63": "Provinsi Uji Tempat Kejadian",  # INDICATOR_REGION
}
# one kabupaten/kota per scenario
KABKOTA = {
    "61.01": "Kota Komprehensif Perempuan",  # §6.1, women
    "61.02": "Kota Komprehensif Anak",  # §6.1, children
    "61.03": "Kota Rasio",  # §6.2
    "61.04": "Kota Cakupan",  # §6.3
    "61.05": "Kota Capaian",  # §6.5
    "61.06": "Kota Ulang Tahun",  # turning 18 on the incident day
    "61.07": "Kota Pergantian Tahun",  # 31 December 23:30 / 1 January 00:10 WIB
    "61.08": "Kota Kelompok",  # adult man (TPPO), age unknown
    "61.09": "Kota Rencana",  # planned, never started
    "61.10": "Kota Penolakan",  # informed refusal
    "61.11": "Kota Wali",  # guardian's consent without a name
    "61.12": "Kota Sejarah",  # 2016
    "62.01": "Kota Asal Pelimpahan",  # transfer: where the case was first registered
    "62.02": "Kota Penerima Pelimpahan",  # transfer: the receiving agency
    "63.01": "Kota Kejadian",  # INDICATOR_REGION=incident
    "63.02": "Kota Tetangga",  # INDICATOR_REGION=incident: the neighbour
}
KECAMATAN = {
    "63.01.01": ("Kecamatan Utara", "63.01"),
    "63.01.02": ("Kecamatan Selatan", "63.01"),
    "63.02.01": ("Kecamatan Tetangga", "63.02"),
}

REGIONS_CSV = "\n".join(
    [
        "code,name,level,parent_code",
        *(f"{code},{name},provinsi," for code, name in PROVINSI.items()),
        *(f"{code},{name},kabkota,{code[:2]}" for code, name in KABKOTA.items()),
        *(f"{code},{name},kecamatan,{parent}" for code, (name, parent) in KECAMATAN.items()),
        "63.01.01.2001,Desa Sukamaju,desa,63.01.01",
    ]
)

OWN_SERVICES = "pengaduan;penjangkauan;rehabilitasi_sosial;bantuan_hukum;pendampingan"
HOSPITAL = "RSUD-61"  # the province's hospital provides rehabilitasi_kesehatan to every agency


def uptd(kabkota: str) -> str:
    """The UPTD PPA of a kabupaten/kota: ``61.03`` → ``UPTDPPA-6103``."""
    return "UPTDPPA-" + kabkota.replace(".", "")


AGENCIES_CSV = "\n".join(
    [
        "code,name,type,region_code,services",
        *(
            f"{uptd(code)},UPTD PPA {name},uptd_ppa,{code},{OWN_SERVICES}"
            for code, name in KABKOTA.items()
        ),
        f"{HOSPITAL},RSUD Provinsi Uji Riwayat,faskes,61,rehabilitasi_kesehatan",
    ]
)


def population_rows(region: str, year: int, girls: int, women: int, boys: int, men: int) -> str:
    """Population by sex and age range: 0-17 and 18 or more."""
    return "\n".join(
        [
            f"{region},{year},P,0,17,{girls}",
            f"{region},{year},P,18,,{women}",
            f"{region},{year},L,0,17,{boys}",
            f"{region},{year},L,18,,{men}",
        ]
    )


POPULATION_CSV = "\n".join(
    [
        "region_code,year,sex,age_from,age_to,count",
        # §6.2: penduduk perempuan 20,000 + 40,000 = 60,000; penduduk anak 20,000 + 20,000 = 40,000
        population_rows("61.03", 2025, girls=20_000, women=40_000, boys=20_000, men=38_500),
        # §6.5: perempuan 30,000 + anak 20,000 = 50,000
        population_rows("61.05", 2025, girls=10_000, women=20_000, boys=10_000, men=21_000),
        # 2016: perempuan 15,000, anak 10,000
        population_rows("61.12", 2016, girls=5_000, women=10_000, boys=5_000, men=9_000),
    ]
)


# --- a §3 record, by hand ----------------------------------------------------------------------


def ts(day: str | dt.date, time: str = "09:00") -> str:
    """A §3 timestamp in WIB: ``ts("2025-03-14")`` → ``"2025-03-14T09:00:00+07:00"``."""
    return f"{day}T{time}:00+07:00"


def days_after(day: str, n: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=n)).isoformat()


def consent(
    at: str,
    purpose: str = "layanan",
    decision: str = "setuju",
    *,
    given_by: str = "korban",
    name: str | None = None,
) -> dict[str, Any]:
    entry = {"purpose": purpose, "decision": decision, "given_by": given_by, "at": at}
    if name is not None:
        entry["given_by_name"] = name
    return entry


@dataclass(frozen=True)
class Track:
    """A planned service of the victim: ``Track("pengaduan", "selesai")``. It starts the day
    after the registration and, when it ends, ends a week after it (or on ``ended``);
    ``planned`` is the optional ``services[].planned_at`` (a day)."""

    type: str
    status: str
    ended: str | None = None
    planned: str | None = None


STARTED = {"berjalan", "selesai"}
ENDED = {"selesai", "ditolak_korban", "tidak_tersedia", "dibatalkan"}
WITH_PROVIDER = {"dirujuk", "diterima_penyedia", "berjalan", "selesai"}


def service(agency: str, day: str, track: Track, victim: str = "v1") -> dict[str, Any]:
    row: dict[str, Any] = {"victim": victim, "type": track.type, "status": track.status}
    if track.status in WITH_PROVIDER:
        row["provider"] = HOSPITAL if track.type == "rehabilitasi_kesehatan" else agency
    if track.status in STARTED:
        row["started_at"] = ts(days_after(day, 1), "11:00")
    if track.status in ENDED:
        start = days_after(day, 1)
        if track.status in STARTED:
            row["ended_at"] = ts(track.ended or days_after(day, 8), "15:00")
        else:
            row["ended_at"] = ts(track.ended or start, "11:30")
    if track.status == "dibatalkan":
        row["end_reason"] = "Penyedia layanan menutup program."
    if track.planned:
        row["planned_at"] = ts(track.planned, "08:00")
    return row


def case(
    external_id: str,
    kabkota: str,
    day: str,
    victims: list[dict[str, Any]],
    tracks: tuple[Track, ...] = (),
    *,
    case_types: tuple[str, ...] = ("ktp",),
    time: str = "09:00",
    incident_region: str | None = None,
    incident_date: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """One §3 record of the UPTD PPA of ``kabkota``, registered on ``day`` at ``time`` WIB.

    Every victim agreed to services at the registration (``layanan``; a child's guardian for a
    child). With ``tracks`` (for the first victim, ``v1``) the assessment was completed the next
    morning and the case is in ``intervensi`` while a track is open, else ``pemantauan``; a track
    ``ditolak_korban`` comes with the victim's refusal ``layanan:<type>``, which the import
    requires. Without tracks the case is just registered (``diterima``)."""
    agency = uptd(kabkota)
    received = ts(day, time)
    for v in victims:
        if "consents" not in v:
            child = v.get("age") is not None and v["age"] < 18
            v["consents"] = [
                consent(received, given_by="wali", name=f"Wali {external_id}")
                if child
                else consent(received)
            ]
    for t in tracks:
        if t.status == "ditolak_korban":
            victims[0]["consents"].append(
                consent(ts(days_after(day, 1), "11:00"), f"layanan:{t.type}", "menolak")
            )
    record: dict[str, Any] = {
        "external_id": external_id,
        "agency": agency,
        "received_at": received,
        "channel": "datang_langsung",
        "case_types": list(case_types),
        "risk": "sedang",
        "incident": {
            "date": incident_date or day,
            "region": incident_region or kabkota,
            "place": "rumah_tangga",
        },
        "victims": victims,
        "status": status or "diterima",
    }
    if tracks:
        record["assessment_completed_at"] = ts(days_after(day, 1), "10:00")
        record["services"] = [service(agency, day, t) for t in tracks]
        open_tracks = any(t.status not in ENDED for t in tracks)
        record["status"] = status or ("intervensi" if open_tracks else "pemantauan")
    return record


def victim(sex: str, age: int | None = None, key: str = "v1", **more: Any) -> dict[str, Any]:
    v: dict[str, Any] = {"key": key, "sex": sex, "disability": False, "violence_types": ["psikis"]}
    if age is not None:
        v["age"] = age
    v.update(more)
    return v


def woman(age: int = 30, **more: Any) -> dict[str, Any]:
    return victim("P", age, **more)


def child(age: int = 11, sex: str = "P", **more: Any) -> dict[str, Any]:
    return victim(sex, age, **more)


def weekly(start: str, n: int) -> str:
    """The registration day of the ``n``-th case of a series: one a week from ``start``."""
    return days_after(start, 7 * n)


# --- the scenarios, as data --------------------------------------------------------------------

# Expectations: (period, region, code, breakdown) → (numerator, denominator, value), exactly as
# ``flask indicators show --format json`` prints them.
Expected = dict[tuple[str, str, str, str], tuple[int | None, int | None, str | None]]

DONE = (Track("pengaduan", "selesai"), Track("rehabilitasi_sosial", "selesai"))
REFUSED = (Track("pengaduan", "selesai"), Track("bantuan_hukum", "ditolak_korban"))
OPEN = (Track("pengaduan", "selesai"), Track("rehabilitasi_sosial", "berjalan"))
NOT_STARTED = (Track("pengaduan", "selesai"), Track("pendampingan", "direncanakan"))
# completed, but only after the period's end: still open on 31 December
DONE_IN_JANUARY = (
    Track("pengaduan", "selesai"),
    Track("rehabilitasi_sosial", "selesai", ended="2026-01-12"),
)


def comprehensive_series(kabkota: str, person: Any, case_type: str) -> list[dict[str, Any]]:
    """§6.1 worked example: 40 victims registered in 2025; 33 with all planned tracks selesai,
    2 with one selesai and one ditolak_korban, 5 with a track still open at the year's end."""
    plans = (
        [DONE] * 30
        + [(*DONE, Track("rehabilitasi_kesehatan", "selesai"))] * 3
        + [REFUSED] * 2
        + [OPEN] * 3
        + [NOT_STARTED, DONE_IN_JANUARY]
    )
    assert len(plans) == 40
    return [
        case(
            f"{kabkota}-{i:02d}",
            kabkota,
            weekly("2025-01-06", i),
            [person(i)],
            plan,
            case_types=(case_type,),
        )
        for i, plan in enumerate(plans)
    ]


def scenario_6_1_women() -> list[dict[str, Any]]:
    return comprehensive_series("61.01", lambda i: woman(age=20 + i), "ktp")


def scenario_6_1_children() -> list[dict[str, Any]]:
    return comprehensive_series("61.02", lambda i: child(age=1 + i % 17, sex="PL"[i % 2]), "kta")


EXPECT_6_1: Expected = {
    ("2025", "61.01", "pct_perempuan_layanan_komprehensif", ""): (35, 40, "87.50"),
    ("2025", "61.01", "pct_anak_layanan_komprehensif", ""): (0, 0, None),
    ("2025", "61.01", "jumlah_korban_perempuan", ""): (40, None, "40.00"),
    ("2025", "61.02", "pct_anak_layanan_komprehensif", ""): (35, 40, "87.50"),
    ("2025", "61.02", "pct_perempuan_layanan_komprehensif", ""): (0, 0, None),
    ("2025", "61.02", "jumlah_korban_anak", ""): (40, None, "40.00"),
}


def scenario_6_2() -> list[dict[str, Any]]:
    """12 women and 5 children (and one adult man, in neither group); a mother and her child
    are two victims of one case; one woman is a trafficking victim."""
    k = "61.03"
    mother_and_child = case(
        "rasio-ibu-anak",
        k,
        "2025-02-03",
        [woman(34), child(8, key="v2")],
        case_types=("ktp", "kta"),
    )
    trafficked = case(
        "rasio-tppo",
        k,
        "2025-02-10",
        [woman(22, violence_types=["trafficking", "eksploitasi"])],
        case_types=("tppo",),
    )
    man = case(
        "rasio-laki",
        k,
        "2025-02-17",
        [victim("L", 45, violence_types=["trafficking"])],
        case_types=("tppo",),
    )
    women = [
        case(f"rasio-p{i}", k, weekly("2025-03-03", i), [woman(19 + 3 * i)]) for i in range(10)
    ]
    children = [
        case(f"rasio-a{i}", k, weekly("2025-03-05", i), [child(4 + 3 * i)], case_types=("kta",))
        for i in range(4)
    ]
    return [mother_and_child, trafficked, man, *women, *children]


EXPECT_6_2: Expected = {
    # 12 ÷ 60,000 x 100,000
    ("2025", "61.03", "rasio_kekerasan_perempuan", ""): (12, 60_000, "20.00"),
    # 5 ÷ 40,000 x 100,000
    ("2025", "61.03", "rasio_kekerasan_anak", ""): (5, 40_000, "12.50"),
    # (12 + 5) ÷ (60,000 + 40,000) x 10,000
    ("2025", "61.03", "rasio_kekerasan_perempuan_anak", ""): (17, 100_000, "1.70"),
    ("2025", "61.03", "jumlah_korban", ""): (18, None, "18.00"),
    ("2025", "61.03", "jumlah_korban_tppo", ""): (2, None, "2.00"),
}


def scenario_6_3() -> list[dict[str, Any]]:
    """25 victims (women, children, men); 20 completed pengaduan, 9 completed
    rehabilitasi_kesehatan (planned for 15)."""
    health = Track("rehabilitasi_kesehatan", "selesai")
    plans = (
        [(Track("pengaduan", "selesai"), health)] * 9
        + [(Track("pengaduan", "selesai"), Track("rehabilitasi_kesehatan", "berjalan"))] * 4
        + [(Track("pengaduan", "selesai"), Track("rehabilitasi_kesehatan", "ditolak_korban"))] * 2
        + [(Track("pengaduan", "selesai"),)] * 5
        + [(Track("pengaduan", "berjalan"),)] * 3
        + [()] * 2  # just registered
    )
    people = [woman(31), child(12), victim("L", 40), child(7, sex="L"), woman(55)]
    return [
        case(f"cakupan-{i:02d}", "61.04", weekly("2025-01-13", i), [dict(people[i % 5])], plan)
        for i, plan in enumerate(plans)
    ]


EXPECT_6_3: Expected = {
    ("2025", "61.04", "cakupan_pengaduan", ""): (20, 25, "80.00"),
    ("2025", "61.04", "cakupan_rehabilitasi_kesehatan", ""): (9, 25, "36.00"),
    # the variant of §6.3: of the victims for whom the service was planned
    ("2025", "61.04", "cakupan_rehabilitasi_kesehatan_direncanakan", ""): (9, 15, "60.00"),
    ("2025", "61.04", "cakupan_pengaduan_direncanakan", ""): (20, 23, "86.96"),
    ("2025", "61.04", "jumlah_korban", ""): (25, None, "25.00"),
}


def scenario_6_5() -> list[dict[str, Any]]:
    """10 women and 4 children against penduduk perempuan 30,000 + anak 20,000: the rate is
    14 ÷ 50,000 x 10,000 = 2.80, the realisasi of the §6.5 example."""
    k = "61.05"
    return [
        *(case(f"capaian-p{i}", k, weekly("2025-04-07", i), [woman(25 + i)]) for i in range(10)),
        *(
            case(f"capaian-a{i}", k, weekly("2025-04-09", i), [child(6 + i)], case_types=("kta",))
            for i in range(4)
        ),
    ]


EXPECT_6_5: Expected = {
    ("2025", "61.05", "rasio_kekerasan_perempuan_anak", ""): (14, 50_000, "2.80"),
}


def scenario_turning_18() -> list[dict[str, Any]]:
    """Born 15 June 2007, the incident on 15 June 2025: she is 18 that day (perempuan); her
    friend born a day later is 17 (anak)."""
    return [
        case(
            "ultah-18",
            "61.06",
            "2025-06-16",
            [victim("P", birth_date="2007-06-15")],
            incident_date="2025-06-15",
        ),
        case(
            "ultah-17",
            "61.06",
            "2025-06-16",
            [victim("P", birth_date="2007-06-16")],
            incident_date="2025-06-15",
        ),
    ]


EXPECT_TURNING_18: Expected = {
    ("2025", "61.06", "jumlah_korban_perempuan", ""): (1, None, "1.00"),
    ("2025", "61.06", "jumlah_korban_anak", ""): (1, None, "1.00"),
    ("2025", "61.06", "korban_menurut_kelompok_umur", "18-24"): (1, None, "1.00"),
    ("2025", "61.06", "korban_menurut_kelompok_umur", "13-17"): (1, None, "1.00"),
}


def scenario_new_year() -> list[dict[str, Any]]:
    """Registered at 23:30 WIB on 31 December 2025 and at 00:10 WIB on 1 January 2026 — both on
    31 December in UTC."""
    return [
        case(
            "tahun-lama",
            "61.07",
            "2025-12-31",
            [woman(40)],
            time="23:30",
            incident_date="2025-12-31",
        ),
        case(
            "tahun-baru",
            "61.07",
            "2026-01-01",
            [woman(41), woman(42, key="v2")],
            time="00:10",
            incident_date="2025-12-31",
        ),
    ]


EXPECT_NEW_YEAR: Expected = {
    ("2025", "61.07", "jumlah_korban", ""): (1, None, "1.00"),
    ("2025-12", "61.07", "jumlah_korban", ""): (1, None, "1.00"),
    ("2025-Q4", "61.07", "jumlah_korban", ""): (1, None, "1.00"),
    ("2026", "61.07", "jumlah_korban", ""): (2, None, "2.00"),
    ("2026-01", "61.07", "jumlah_korban", ""): (2, None, "2.00"),
    ("2026-S1", "61.07", "jumlah_korban", ""): (2, None, "2.00"),
}


def scenario_groups() -> list[dict[str, Any]]:
    """An adult man trafficked for forced labour (in neither group, in the totals) and a woman
    whose age nobody knows (in neither group); a woman and a child to compare."""
    k = "61.08"
    return [
        case(
            "kelompok-tppo",
            k,
            "2025-05-05",
            [
                victim(
                    "L",
                    35,
                    violence_types=["trafficking", "eksploitasi"],
                    tppo={
                        "proses": ["perekrutan", "pengiriman"],
                        "tujuan": ["kerja_paksa"],
                        "cross_border": True,
                        "destination_country": "Malaysia",
                    },
                )
            ],
            case_types=("tppo",),
        ),
        case("kelompok-umur-tak-diketahui", k, "2025-05-12", [victim("P")]),
        case("kelompok-perempuan", k, "2025-05-19", [woman(29)]),
        case("kelompok-anak", k, "2025-05-26", [child(9, sex="L")], case_types=("kta",)),
    ]


EXPECT_GROUPS: Expected = {
    ("2025", "61.08", "jumlah_korban", ""): (4, None, "4.00"),
    ("2025", "61.08", "jumlah_korban_perempuan", ""): (1, None, "1.00"),
    ("2025", "61.08", "jumlah_korban_anak", ""): (1, None, "1.00"),
    ("2025", "61.08", "jumlah_korban_tppo", ""): (1, None, "1.00"),
    ("2025", "61.08", "korban_menurut_jenis_kelamin", "L"): (2, None, "2.00"),
    ("2025", "61.08", "korban_menurut_jenis_kelamin", "P"): (2, None, "2.00"),
    ("2025", "61.08", "korban_menurut_kelompok_umur", "tidak_diketahui"): (1, None, "1.00"),
    ("2025", "61.08", "korban_menurut_kelompok_umur", "25-44"): (2, None, "2.00"),
    ("2025", "61.08", "pct_perempuan_layanan_komprehensif", ""): (0, 1, "0.00"),
    ("2025", "61.08", "pct_anak_layanan_komprehensif", ""): (0, 1, "0.00"),
}


def scenario_planned() -> list[dict[str, Any]]:
    """Planned services never started: a track ``direncanakan`` planned within the year leaves
    the victim without comprehensive services, whether ``planned_at`` is given or defaults to
    the assessment; one planned only after the year's end does not."""
    k = "61.09"
    return [
        case(
            "rencana-tanggal",
            k,
            "2025-03-03",
            [woman(33)],
            (
                Track("pengaduan", "selesai"),
                Track("rehabilitasi_sosial", "direncanakan", planned="2025-04-01"),
            ),
        ),
        case(
            "rencana-tanpa-tanggal",
            k,
            "2025-03-10",
            [woman(34)],
            (Track("pengaduan", "selesai"), Track("pendampingan", "direncanakan")),
        ),
        case("rencana-selesai", k, "2025-03-17", [woman(35)], DONE),
        case(
            "rencana-tahun-depan",
            k,
            "2025-11-03",
            [woman(36)],
            (
                Track("pengaduan", "selesai"),
                Track("rehabilitasi_sosial", "direncanakan", planned="2026-01-15"),
            ),
        ),
        case("rencana-belum-asesmen", k, "2025-11-10", [woman(37)]),
    ]


EXPECT_PLANNED: Expected = {
    # comprehensive: rencana-selesai, and rencana-tahun-depan (as of 31 December 2025)
    ("2025", "61.09", "pct_perempuan_layanan_komprehensif", ""): (2, 5, "40.00"),
    ("2025", "61.09", "cakupan_rehabilitasi_sosial_direncanakan", ""): (1, 2, "50.00"),
}


def scenario_refusal() -> list[dict[str, Any]]:
    """An informed refusal (with the victim's ``menolak`` for ``layanan:bantuan_hukum``) is left
    out of the requirement; a track ended ``tidak_tersedia`` or ``dibatalkan`` is not."""
    k = "61.10"
    health = Track("rehabilitasi_kesehatan", "selesai")
    refused = case("tolak-bantuan-hukum", k, "2025-07-07", [woman(27)])
    refused.update(
        {
            "assessment_completed_at": "2025-07-08T10:00:00+07:00",
            "services": [
                service(uptd(k), "2025-07-07", health),
                {
                    "victim": "v1",
                    "type": "bantuan_hukum",
                    "status": "ditolak_korban",
                    "ended_at": "2025-07-09T10:00:00+07:00",
                },
            ],
            "status": "pemantauan",
        }
    )
    refused["victims"][0]["consents"].append(
        {
            "purpose": "layanan:bantuan_hukum",
            "decision": "menolak",
            "given_by": "korban",
            "at": "2025-07-09T09:45:00+07:00",
        }
    )
    return [
        refused,
        case(
            "tidak-tersedia",
            k,
            "2025-07-14",
            [woman(28)],
            (health, Track("bantuan_hukum", "tidak_tersedia")),
        ),
        case(
            "dibatalkan",
            k,
            "2025-07-21",
            [woman(29)],
            (health, Track("bantuan_hukum", "dibatalkan")),
        ),
    ]


EXPECT_REFUSAL: Expected = {
    ("2025", "61.10", "pct_perempuan_layanan_komprehensif", ""): (1, 3, "33.33"),
    ("2025", "61.10", "cakupan_bantuan_hukum", ""): (0, 3, "0.00"),
}


def refusal_without_the_ledger() -> dict[str, Any]:
    """The same refusal without the victim's ``menolak``: the import refuses the line."""
    record = scenario_refusal()[0]
    record["external_id"] = "tolak-tanpa-persetujuan"
    record["victims"][0]["consents"] = record["victims"][0]["consents"][:1]
    return record


def scenario_guardian() -> list[dict[str, Any]]:
    """Two children whose guardians agreed to services: one guardian named, one not."""
    k = "61.11"
    unnamed = case("wali-tanpa-nama", k, "2025-08-04", [child(12)], DONE, case_types=("kta",))
    unnamed["victims"][0]["consents"] = [consent(ts("2025-08-04"), given_by="wali")]
    named = case("wali-bernama", k, "2025-08-11", [child(13)], DONE, case_types=("kta",))
    return [unnamed, named]


EXPECT_GUARDIAN: Expected = {
    ("2025", "61.11", "jumlah_korban_anak", ""): (2, None, "2.00"),
    ("2025", "61.11", "pct_anak_layanan_komprehensif", ""): (2, 2, "100.00"),
}


def scenario_2016() -> list[dict[str, Any]]:
    """A region migrating its 2016 records: 3 women (2 with comprehensive services) and
    2 children."""
    k = "61.12"
    return [
        case("2016-p0", k, "2016-02-01", [woman(30)], DONE),
        case("2016-p1", k, "2016-05-02", [woman(31)], REFUSED),
        case("2016-p2", k, "2016-08-01", [woman(32)], OPEN),
        case("2016-a0", k, "2016-03-07", [child(10)], DONE, case_types=("kta",)),
        case("2016-a1", k, "2016-09-05", [child(15, sex="L")], case_types=("kta",)),
    ]


EXPECT_2016: Expected = {
    ("2016", "61.12", "pct_perempuan_layanan_komprehensif", ""): (2, 3, "66.67"),
    ("2016", "61.12", "pct_anak_layanan_komprehensif", ""): (1, 2, "50.00"),
    ("2016", "61.12", "rasio_kekerasan_perempuan", ""): (3, 15_000, "20.00"),
    ("2016", "61.12", "rasio_kekerasan_anak", ""): (2, 10_000, "20.00"),
    ("2016", "61.12", "rasio_kekerasan_perempuan_anak", ""): (5, 25_000, "2.00"),
    ("2016", "61.12", "cakupan_pengaduan", ""): (4, 5, "80.00"),
}


def scenario_incident() -> list[dict[str, Any]]:
    """Seven victims registered by the UPTD PPA of 63.01: three hurt in kecamatan 63.01.01 (one
    of them in a desa of it), two in 63.01.02, one across the border in 63.02.01, and one
    whose incident region is not known."""
    k = "63.01"
    places = ["63.01.01", "63.01.01", "63.01.01.2001", "63.01.02", "63.01.02", "63.02.01"]
    cases = [
        case(f"kejadian-{i}", k, weekly("2025-09-01", i), [woman(30 + i)], incident_region=place)
        for i, place in enumerate(places)
    ]
    unknown = case("kejadian-tak-diketahui", k, "2025-11-03", [woman(45)])
    del unknown["incident"]["region"]
    return [*cases, unknown]


def _counts(region_values: dict[str, int]) -> Expected:
    return {
        ("2025", region, "jumlah_korban", ""): (n, None, f"{n}.00")
        for region, n in region_values.items()
    }


# by the agency's jurisdiction (the default): the kecamatan have no agency of their own
EXPECT_INCIDENT_BY_AGENCY = _counts(
    {"63.01": 7, "63.01.01": 0, "63.01.02": 0, "63.02": 0, "63.02.01": 0}
)
# INDICATOR_REGION=incident
EXPECT_INCIDENT_BY_INCIDENT = _counts(
    {"63.01": 5, "63.01.01": 3, "63.01.02": 2, "63.02": 1, "63.02.01": 1, "63": 6}
)


# --- running the commands ----------------------------------------------------------------------


def cli(app: Flask, *args: str) -> str:
    """Run ``flask <args>``; it must succeed. Its output."""
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def summary(imported: int, skipped: int = 0, rejected: int = 0) -> str:
    return f"imported {imported}, skipped {skipped} (already present), rejected {rejected}"


@pytest.fixture
def world(app: Flask, tmp_path: Path, english_cli: None) -> Path:
    """Regions, agencies and population loaded through their CSV imports."""
    for name, text, command, created in (
        ("regions.csv", REGIONS_CSV, "regions", 23),
        ("agencies.csv", AGENCIES_CSV, "agencies", 17),
        ("population.csv", POPULATION_CSV, "population", 12),
    ):
        path = tmp_path / name
        path.write_text(text + "\n", encoding="utf-8")
        output = cli(app, command, "import", str(path))
        assert output.strip() == f"created {created}, updated 0, unchanged 0"
    return tmp_path


def import_cases(app: Flask, folder: Path, records: list[dict[str, Any]]) -> str:
    path = write_jsonl(folder / "cases.jsonl", records)
    output = cli(app, "cases", "import", str(path))
    assert output.strip() == summary(len(records)), output
    return output


def rollup(app: Flask, period: str, region: str) -> str:
    output = cli(app, "indicators", "rollup", "--period", period, "--region", region)
    assert output.startswith(f"period {period}: "), output
    return output


def show(app: Flask, period: str, region: str) -> dict[tuple[str, str], dict[str, Any]]:
    """``flask indicators show --format json``, by (code, breakdown)."""
    output = cli(
        app, "indicators", "show", "--period", period, "--region", region, "--format", "json"
    )
    rows = json.loads(output)
    return {(row["code"], row.get("breakdown", "")): row for row in rows}


def check(app: Flask, expected: Expected, *, roll_up: bool = True) -> None:
    """Roll up every (period, region) of ``expected`` (unless done already) and compare
    numerator, denominator and value exactly; a value that cannot be computed carries a
    reason."""
    if roll_up:
        for period, region in dict.fromkeys((p, r) for p, r, _c, _b in expected):
            rollup(app, period, region)
    shown: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {}
    actual, wanted = {}, {}
    for key, want in expected.items():
        period, region, code, breakdown = key
        if (period, region) not in shown:
            shown[(period, region)] = show(app, period, region)
        row = shown[(period, region)].get((code, breakdown))
        assert row is not None, f"{key}: no value stored"
        actual[key] = (row["numerator"], row["denominator"], row["value"])
        wanted[key] = want
        assert row["definition_version"] == 1
        if row["value"] is None:
            assert row["reason"], key
    assert actual == wanted


def case_by(external_id: str) -> Case:
    found = db.session.scalar(select(Case).where(Case.external_id == external_id))
    assert found is not None, external_id
    return found


# --- the worked examples of domain.md §6 --------------------------------------------------------


def test_6_1_comprehensive_services_women_and_children(app: Flask, world: Path) -> None:
    records = scenario_6_1_women() + scenario_6_1_children()
    path = write_jsonl(world / "komprehensif.jsonl", records)
    assert cli(app, "cases", "import", str(path)) == summary(80) + "\n"
    check(app, EXPECT_6_1)
    # no victims of the group: no value, with the reason (not a zero percentage)
    before = show(app, "2025", "61.01")
    assert before[("pct_anak_layanan_komprehensif", "")]["reason"] == NO_VICTIMS

    # the same file and the same rollup again change nothing
    assert cli(app, "cases", "import", str(path)) == summary(0, skipped=80) + "\n"
    output = rollup(app, "2025", "61.01")
    assert (
        output == f"period 2025: 1 regions, 0 values written, {len(before)} unchanged, 0 revised\n"
    )
    assert show(app, "2025", "61.01") == before


def test_6_2_rates_per_population(app: Flask, world: Path) -> None:
    import_cases(app, world, scenario_6_2())
    check(app, EXPECT_6_2)
    # the same region in a year without population figures: not computed, never zero
    rollup(app, "2024", "61.03")
    rate = show(app, "2024", "61.03")[("rasio_kekerasan_perempuan", "")]
    assert (rate["numerator"], rate["value"], rate["reason"]) == (None, None, NO_POPULATION)


def test_6_3_service_coverage(app: Flask, world: Path) -> None:
    import_cases(app, world, scenario_6_3())
    check(app, EXPECT_6_3)


def test_6_5_capaian_through_targets_import_and_show(app: Flask, world: Path) -> None:
    """The realisasi 2.80 comes out of the import and the rollup; against the target 3.20 a
    lower-is-better rate achieves (2 x 3.20 - 2.80) ÷ 3.20 x 100 = 112.50 (not the naive
    2.80 ÷ 3.20 = 87.50). A higher-is-better one (§6.1's 87.50 against 90.00) achieves
    87.50 ÷ 90.00 x 100 = 97.22."""
    import_cases(app, world, scenario_6_5() + scenario_6_1_women())
    targets = world / "targets.csv"
    targets.write_text(
        "region_code,year,code,target\n"
        "61.05,2025,rasio_kekerasan_perempuan_anak,3.20\n"
        "61.01,2025,pct_perempuan_layanan_komprehensif,90.00\n",
        encoding="utf-8",
    )
    output = cli(app, "indicators", "targets", "import", str(targets))
    assert output.strip() == "created 2, updated 0, unchanged 0"
    check(app, EXPECT_6_5)
    rows = show(app, "2025", "61.05")
    rate = rows[("rasio_kekerasan_perempuan_anak", "")]
    assert (rate["value"], rate["target"], rate["capaian"]) == ("2.80", "3.20", "112.50")
    # no target set: both null
    other = rows[("rasio_kekerasan_perempuan", "")]
    assert (other["target"], other["capaian"]) == (None, None)
    rollup(app, "2025", "61.01")
    pct = show(app, "2025", "61.01")[("pct_perempuan_layanan_komprehensif", "")]
    assert (pct["value"], pct["target"], pct["capaian"]) == ("87.50", "90.00", "97.22")


# --- the counting rules at their edges ---------------------------------------------------------


def test_a_woman_turning_18_on_the_incident_day_is_a_woman(app: Flask, world: Path) -> None:
    import_cases(app, world, scenario_turning_18())
    check(app, EXPECT_TURNING_18)


def test_the_year_a_case_belongs_to_is_its_registration_year_in_jakarta(
    app: Flask, world: Path
) -> None:
    import_cases(app, world, scenario_new_year())
    check(app, EXPECT_NEW_YEAR)


def test_an_adult_man_and_a_victim_of_unknown_age_count_only_in_the_totals(
    app: Flask, world: Path
) -> None:
    import_cases(app, world, scenario_groups())
    check(app, EXPECT_GROUPS)
    # the age nobody knows is a data-quality finding, not a reason to refuse the record
    issues = {i.code for i in check_case(case_by("kelompok-umur-tak-diketahui"))}
    assert "completeness.victim_age" in issues


def test_a_planned_service_never_started_is_not_comprehensive(app: Flask, world: Path) -> None:
    import_cases(app, world, scenario_planned())
    check(app, EXPECT_PLANNED)


def test_an_informed_refusal_is_left_out_of_the_requirement(app: Flask, world: Path) -> None:
    records = [*scenario_refusal(), refusal_without_the_ledger()]
    path = write_jsonl(world / "refusal.jsonl", records)
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "line 4: services[1].status: A service the victim declined needs the victim's refusal "
        "in the consent ledger (purpose layanan:bantuan_hukum, decision menolak).",
        summary(3, rejected=1),
    ]
    check(app, EXPECT_REFUSAL)


def test_a_guardians_consent_without_a_name_is_imported_counted_and_flagged(
    app: Flask, world: Path
) -> None:
    import_cases(app, world, scenario_guardian())
    check(app, EXPECT_GUARDIAN)
    unnamed = {i.code for i in check_case(case_by("wali-tanpa-nama"))}
    named = {i.code for i in check_case(case_by("wali-bernama"))}
    assert "completeness.guardian_name" in unnamed
    assert "completeness.guardian_name" not in named


def test_a_year_before_2020_computes_like_any_other(app: Flask, world: Path) -> None:
    import_cases(app, world, scenario_2016())
    check(app, EXPECT_2016)
    # a year without victims: values with the reason, not an empty list
    rollup(app, "2015", "61.12")
    rows = show(app, "2015", "61.12")
    assert rows, "a rolled-up year without victims still has its values"
    pct = rows[("pct_perempuan_layanan_komprehensif", "")]
    assert (pct["numerator"], pct["denominator"], pct["value"]) == (0, 0, None)
    assert pct["reason"] == NO_VICTIMS
    assert rows[("cakupan_pengaduan", "")]["reason"] == NO_VICTIMS
    assert rows[("jumlah_korban", "")]["value"] == "0.00"
    assert rows[("rasio_kekerasan_perempuan", "")]["reason"] == NO_POPULATION


def test_a_transferred_victim_counts_once_where_and_when_first_registered(
    app: Flask, world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.agencies.queries import get_agency_by_code
    from app.workflow.operations import accept_transfer, request_transfer
    from tests.factories import UserFactory

    sent: list[Any] = []
    monkeypatch.setitem(app.extensions, "simpul_dispatch", lambda *task: sent.append(task))
    import_cases(
        app,
        world,
        [
            case("pindah", "62.01", "2025-08-12", [woman(30)], status="identifikasi"),
            case("penerima-sendiri", "62.02", "2025-09-01", [woman(44)]),
        ],
    )
    origin, receiving = get_agency_by_code(uptd("62.01")), get_agency_by_code(uptd("62.02"))
    sender = UserFactory(roles=[(Role.SUPERVISOR, origin)])
    taker = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    original = case_by("pindah")
    transfer = request_transfer(
        original.id,
        receiving,
        "Korban pindah domisili ke kota penerima.",
        actor=sender,
        expected_version=original.version,
    )
    before = dt.datetime.now(dt.UTC)
    accept_transfer(transfer.id, actor=taker, expected_version=transfer.version)
    db.session.commit()

    assert original.state is CaseState.DILIMPAHKAN
    new = transfer.new_case
    assert new is not None and new.agency_id == receiving.id
    assert new.received_at >= before  # the receiving agency registers it when it accepts
    assert (new.first_received_at, new.first_agency_id) == (original.received_at, origin.id)

    rollup(app, "2025", "62")  # the province and every region under it
    check(
        app,
        {
            # counted once, in the first registration's year and region
            ("2025", "62.01", "jumlah_korban", ""): (1, None, "1.00"),
            ("2025", "62.01", "jumlah_korban_perempuan", ""): (1, None, "1.00"),
            # the receiving agency's region: only its own victim
            ("2025", "62.02", "jumlah_korban", ""): (1, None, "1.00"),
            # the province: two victims, not three
            ("2025", "62", "jumlah_korban", ""): (2, None, "2.00"),
        },
        roll_up=False,
    )
    # not again in the year the transfer was accepted
    this_year = str(new.received_at.astimezone(JAKARTA).year)
    rollup(app, this_year, "62.02")
    assert show(app, this_year, "62.02")[("jumlah_korban", "")]["numerator"] == 0


@pytest.fixture
def by_incident(app: Flask) -> Iterator[None]:
    original = app.config.get("INDICATOR_REGION", "agency")
    app.config["INDICATOR_REGION"] = "incident"
    try:
        yield
    finally:
        app.config["INDICATOR_REGION"] = original


def test_by_default_victims_count_in_the_agencys_region(app: Flask, world: Path) -> None:
    assert app.config["INDICATOR_REGION"] == "agency"
    import_cases(app, world, scenario_incident())
    rollup(app, "2025", "63")  # the province and every region under it
    check(app, EXPECT_INCIDENT_BY_AGENCY, roll_up=False)


def test_indicator_region_incident_counts_victims_in_their_incident_kecamatan(
    app: Flask, world: Path, by_incident: None
) -> None:
    import_cases(app, world, scenario_incident())
    rollup(app, "2025", "63")
    check(app, EXPECT_INCIDENT_BY_INCIDENT, roll_up=False)


# --- all of them at once --------------------------------------------------------------------------


ALL_SCENARIOS = (
    (scenario_6_1_women, EXPECT_6_1),
    (scenario_6_1_children, {}),
    (scenario_6_2, EXPECT_6_2),
    (scenario_6_3, EXPECT_6_3),
    (scenario_6_5, EXPECT_6_5),
    (scenario_turning_18, EXPECT_TURNING_18),
    (scenario_new_year, EXPECT_NEW_YEAR),
    (scenario_groups, EXPECT_GROUPS),
    (scenario_planned, EXPECT_PLANNED),
    (scenario_refusal, EXPECT_REFUSAL),
    (scenario_guardian, EXPECT_GUARDIAN),
    (scenario_2016, EXPECT_2016),
    (scenario_incident, EXPECT_INCIDENT_BY_AGENCY),
)


def test_every_scenario_in_one_file(app: Flask, world: Path) -> None:
    """Every scenario imported together: each region and year shows its own figures,
    untouched by the others."""
    records = [r for build, _ in ALL_SCENARIOS for r in build()]
    import_cases(app, world, records)
    expected: Expected = {}
    for _build, expect in ALL_SCENARIOS:
        expected.update(expect)
    check(app, expected)
