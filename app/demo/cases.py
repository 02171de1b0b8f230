"""A few hundred demo cases, generated deterministically as import records (interfaces.md §3)
and loaded through ``import_case`` — the same checks and writes as ``flask cases import`` — with
``external_id`` ``demo-<n>``, so loading the demo again skips them.

The cases cover every case state and type: women, girls (many of 17) and boys, domestic violence,
sexual violence, children needing special protection, trafficking within Indonesia and across
the border (Malaysia, Saudi Arabia, Kamboja). Every timestamp lies before ``ANCHOR``; consent and
service tracks agree with each case's state. The people are invented.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.agencies.queries import get_agency_by_code
from app.audit.operations import SystemActor
from app.cases.intake import Intake, VictimData
from app.cases.models import Case
from app.core.enums import CaseState
from app.core.enums import ServiceType as S
from app.core.errors import DomainError
from app.demo import data
from app.extensions import db
from app.intake.importing import Lookups, import_case, parse_line
from app.workflow import registration

JAKARTA = ZoneInfo("Asia/Jakarta")
# Every demo timestamp lies before this moment, so the data is the same whenever it is loaded.
ANCHOR = dt.datetime(2026, 11, 20, 16, 0, tzinfo=JAKARTA)
EARLIEST = dt.datetime(2025, 1, 2, 8, 0, tzinfo=JAKARTA)
SEED = 2025
OWNER = "UPTDPPA-3273"
PROVINCE_OWNER = "UPTDPPA-32"
CASE_MANAGER = "manajer@simpul.demo"
SUPERVISOR = "supervisor@simpul.demo"

# How many cases end up in each state (240 in all), and how long before ANCHOR (in days) such a
# case was received.
STATE_COUNTS: dict[CaseState, tuple[int, tuple[float, float]]] = {
    CaseState.DITERIMA: (8, (0.05, 2)),
    CaseState.IDENTIFIKASI: (9, (0.5, 6)),
    CaseState.KEDARURATAN: (6, (0.2, 4)),
    CaseState.ASESMEN: (12, (2, 25)),
    CaseState.RENCANA_INTERVENSI: (12, (8, 45)),
    CaseState.INTERVENSI: (45, (20, 330)),
    CaseState.PEMANTAUAN: (24, (60, 420)),
    CaseState.TERMINASI: (84, (45, 685)),
    CaseState.DITUTUP: (26, (5, 685)),
    CaseState.DILIMPAHKAN: (14, (2, 685)),
}
DRAFTS = 4
# Running cases the working day's referrals are added to (``host_records``).
HOST_CASES = 14

# Service type → providers in order of preference (each provides it in ``data.AGENCIES``);
# ``None`` stands for the owning agency.
PROVIDERS: dict[S, list[tuple[str | None, int]]] = {
    S.PENGADUAN: [(None, 1)],
    S.PENJANGKAUAN: [(None, 3), ("YSP-3273", 1)],
    S.KEDARURATAN: [(None, 1)],
    S.PENAMPUNGAN_SEMENTARA: [("RPTC-3273", 3), (OWNER, 1)],
    S.REHABILITASI_KESEHATAN: [("RSUD-3273", 6), ("PKM-327302", 3), ("LPSK-32", 1)],
    S.REHABILITASI_SOSIAL: [(None, 4), ("YSP-3273", 2), ("RPTC-3273", 1), ("DINSOS-3273", 1)],
    S.BANTUAN_HUKUM: [("LBH-3273", 3), (OWNER, 2)],
    S.PENEGAKAN_HUKUM: [("POLRES-3273", 6), ("KEJARI-3273", 1)],
    S.MEDIASI: [(OWNER, 1)],
    S.PENDAMPINGAN: [(None, 4), ("LBH-3273", 1), ("YSP-3273", 1)],
    S.PEMULANGAN: [("BP3MI-32", 2), ("DINSOS-3273", 1)],
    S.REINTEGRASI_SOSIAL: [("DINSOS-3273", 2), ("BP3MI-32", 1)],
    S.PENDAMPINGAN_ROHANI: [("KUA-327302", 1)],
    S.PEMBERDAYAAN_EKONOMI: [("DP3A-3273", 2), ("DINSOS-3273", 1), ("DISNAKER-3273", 1)],
    S.DOKUMEN_KEPENDUDUKAN: [("DUKCAPIL-3273", 1)],
}
# How long a service takes once it starts, in days (min, max).
DURATION: dict[S, tuple[float, float]] = {
    S.PENGADUAN: (0.04, 0.12),
    S.PENJANGKAUAN: (0.2, 2),
    S.KEDARURATAN: (0.5, 3),
    S.PENAMPUNGAN_SEMENTARA: (3, 14),
    S.REHABILITASI_KESEHATAN: (2, 30),
    S.REHABILITASI_SOSIAL: (14, 90),
    S.BANTUAN_HUKUM: (30, 150),
    S.PENEGAKAN_HUKUM: (45, 240),
    S.MEDIASI: (7, 30),
    S.PENDAMPINGAN: (14, 120),
    S.PEMULANGAN: (3, 20),
    S.REINTEGRASI_SOSIAL: (30, 120),
    S.PENDAMPINGAN_ROHANI: (14, 60),
    S.PEMBERDAYAAN_EKONOMI: (30, 120),
    S.DOKUMEN_KEPENDUDUKAN: (7, 30),
}

WOMEN = [
    "Siti", "Dewi", "Euis", "Neng", "Ayu", "Wulan", "Intan", "Lestari", "Yuni", "Ratna", "Sri",
    "Tati", "Lilis", "Nur", "Rina", "Fitri", "Imas", "Yanti", "Cucu", "Nining", "Rosita",
    "Kartika", "Melati", "Anggi", "Putri", "Salsa", "Nabila", "Aulia", "Zahra", "Keisha",
]  # fmt: skip
MEN = [
    "Asep", "Ujang", "Dadang", "Cecep", "Agus", "Budi", "Dedi", "Yayat", "Iwan", "Rudi", "Hendra",
    "Wawan", "Jajang", "Rizky", "Fajar", "Dimas", "Raka", "Bima", "Gilang", "Arya",
]  # fmt: skip
FAMILY = [
    "Sukmawati", "Rahmawati", "Permana", "Kusnadi", "Suryana", "Hidayat", "Setiawan",
    "Nurhasanah", "Gunawan", "Kurniasih", "Sopandi", "Maulana", "Saputra", "Lestiani",
    "Wiguna", "Mulyana", "Herlina", "Ramdani", "Sulastri", "Firmansyah",
]  # fmt: skip
STREETS = ["Melati", "Kenanga", "Flamboyan", "Cempaka", "Anggrek", "Dahlia", "Teratai", "Mawar"]
COUNTRIES = [("Malaysia", 5), ("Arab Saudi", 2), ("Kamboja", 2), ("Taiwan", 1)]
CLOSING_REASONS = [
    "Korban mencabut pengaduan dan tidak bersedia melanjutkan layanan.",
    "Korban tidak dapat dihubungi setelah tiga kali penjangkauan.",
    "Korban pindah domisili ke luar provinsi; informasi layanan setempat sudah diberikan.",
]
AUTO = "auto"
DISABILITIES = ["disabilitas rungu wicara", "disabilitas intelektual", "disabilitas fisik"]


def ts(moment: dt.datetime) -> str:
    return moment.astimezone(JAKARTA).isoformat(timespec="seconds")


def _birth_date(rng: random.Random, age: int, day: dt.date) -> dt.date:
    """A birth date giving exactly ``age`` on ``day``."""
    anniversary = dt.date(day.year - age, day.month, min(day.day, 28))
    return anniversary - dt.timedelta(days=rng.randint(1, 360))


class _Case:
    """Builds one import record; ``rng`` drives every choice."""

    def __init__(self, rng: random.Random, number: int, state: CaseState, days_ago: float):
        self.rng = rng
        self.number = number
        self.state = state
        received = ANCHOR - dt.timedelta(days=days_ago)
        received = max(received, EARLIEST)
        hour = rng.choice([8, 8, 9, 9, 10, 10, 11, 13, 14, 15, 16, 19, 21])
        received = received.astimezone(JAKARTA).replace(
            hour=hour, minute=rng.randrange(0, 60, 5), second=0, microsecond=0
        )
        if received > ANCHOR - dt.timedelta(hours=1):
            received = ANCHOR - dt.timedelta(hours=rng.randint(1, 6))
        self.received = received
        self.limit = ANCHOR - dt.timedelta(minutes=30)
        self.owner = OWNER
        self.services: list[dict[str, Any]] = []
        self.names: set[str] = set()
        self.abroad = False
        self.guardian: str | None = None
        self.plan: list[S] = []
        self.kind = ""

    # --- small helpers
    def pick(self, weighted: list[tuple[Any, int]]) -> Any:
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights)[0]

    def later(self, start: dt.datetime, days: tuple[float, float]) -> dt.datetime:
        moment = start + dt.timedelta(days=self.rng.uniform(*days))
        return min(moment, self.limit)

    def person(self, sex: str, family: str | None = None) -> str:
        for _ in range(50):
            given = self.rng.choice(WOMEN if sex == "P" else MEN)
            name = f"{given} {family or self.rng.choice(FAMILY)}"
            if name not in self.names:
                self.names.add(name)
                return name
        raise AssertionError("ran out of demo names")

    def provider(self, service: S) -> str:
        code = self.pick(PROVIDERS[service])
        return code or self.owner

    # --- the record
    def build(self) -> dict[str, Any]:
        rng = self.rng
        kind = self.pick([("ktp", 36), ("kta", 30), ("tppo", 20), ("ampk", 14)])
        if (kind == "tppo" and rng.random() < 0.3) or self.state is CaseState.DILIMPAHKAN:
            self.owner = PROVINCE_OWNER if rng.random() < 0.5 else OWNER
        elif rng.random() < 0.08:
            self.owner = PROVINCE_OWNER
        risk = self.pick([("tinggi", 25), ("sedang", 50), ("rendah", 25)])
        if self.state is CaseState.KEDARURATAN or (kind == "tppo" and rng.random() < 0.5):
            risk = "tinggi"
        record: dict[str, Any] = {
            "external_id": f"demo-{self.number}",
            "agency": self.owner,
            "received_at": ts(self.received),
            "risk": risk,
            "status": self.state.value,
        }
        builder: Callable[[dict[str, Any]], None] = {
            "ktp": self.woman,
            "kta": self.child,
            "ampk": self.child,
            "tppo": self.trafficking,
        }[kind]
        self.kind = kind
        builder(record)
        self.history(record)
        if self.services:
            record["services"] = self.services
        return record

    def incident(self, record: dict[str, Any], place: str, ranah: str, *, back: float) -> dt.date:
        day = (self.received - dt.timedelta(days=self.rng.uniform(0, back))).astimezone(JAKARTA)
        incident: dict[str, Any] = {"place": place, "ranah": ranah}
        suffix, _name, villages = self.rng.choice(data.KECAMATAN)
        if self.rng.random() < 0.6:
            incident["region"] = (
                f"{data.KABKOTA[0]}.{suffix}.{1000 + self.rng.randint(1, len(villages))}"
            )
        else:
            incident["region"] = f"{data.KABKOTA[0]}.{suffix}"
        if self.rng.random() < 0.12:
            incident["date"] = day.strftime("%Y-%m")
            reference = day.date().replace(day=1)
        else:
            incident["date"] = day.date().isoformat()
            reference = day.date()
        record["incident"] = incident
        self.domicile = incident["region"]
        return reference

    def victim(
        self, key: str, sex: str, age: int, day: dt.date, violence: list[str], **extra: Any
    ) -> dict[str, Any]:
        rng = self.rng
        victim: dict[str, Any] = {"key": key, "sex": sex, "violence_types": violence}
        victim["name"] = extra.pop("name", None) or self.person(sex)
        if rng.random() < 0.6:
            victim["birth_date"] = _birth_date(rng, age, day).isoformat()
        else:
            victim["age"] = age
        victim["nationality"] = "WNI"
        victim["domicile_region"] = self.domicile
        if rng.random() < 0.5:
            victim["address"] = f"Jl. {rng.choice(STREETS)} Fiktif No. {rng.randint(1, 99)}"
        if rng.random() < 0.06:
            victim["disability"] = True
            victim["disability_kind"] = rng.choice(DISABILITIES)
        if age >= 18:
            victim["education"] = self.pick(
                [("sd", 2), ("smp", 3), ("sma", 4), ("diploma", 1), ("sarjana", 1)]
            )
            victim["marital_status"] = extra.pop("marital_status", None) or self.pick(
                [("kawin", 5), ("belum_kawin", 3), ("cerai_hidup", 2)]
            )
            victim["occupation"] = rng.choice(
                ["ibu rumah tangga", "pedagang", "buruh pabrik", "karyawan swasta", "tidak bekerja"]
            )
            victim["has_nik"] = True
        else:
            victim["education"] = (
                "belum_sekolah" if age < 6 else ("sd" if age < 13 else "smp" if age < 16 else "sma")
            )
            victim["marital_status"] = "belum_kawin"
            victim["has_akta"] = rng.random() < 0.85
            victim["has_kia"] = rng.random() < 0.4
        victim.update(extra)
        victim["consents"] = []
        return victim

    # --- the kinds of case
    def woman(self, record: dict[str, Any]) -> None:
        rng = self.rng
        sexual = rng.random() < 0.35
        record["case_types"] = ["ktp", "tpks"] if sexual else ["ktp"]
        relation = self.pick(
            [("suami_istri", 6), ("pacar_teman", 2), ("rekan_kerja", 1), ("majikan", 1)]
        )
        domestic = relation == "suami_istri"
        online = not domestic and sexual and rng.random() < 0.4
        place, ranah = (
            ("rumah_tangga", "domestik")
            if domestic
            else ("daring", "daring")
            if online
            else ("tempat_kerja", "ketenagakerjaan")
            if relation in ("rekan_kerja", "majikan")
            else ("fasilitas_umum", "publik")
        )
        day = self.incident(record, place, ranah, back=45)
        age = rng.randint(19, 52)
        violence = ["psikis"]
        violence += ["fisik"] if domestic or rng.random() < 0.3 else []
        violence += ["seksual"] if sexual else []
        violence += ["penelantaran"] if domestic and rng.random() < 0.3 else []
        victim = self.victim(
            "v1",
            "P",
            age,
            day,
            violence,
            marital_status="kawin" if domestic else None,
            pregnant=True if domestic and age < 40 and rng.random() < 0.12 else None,
        )
        record["victims"] = [victim]
        perpetrator = {
            "key": "p1",
            "name": self.person("L"),
            "sex": "L",
            "age": min(age + rng.randint(-3, 12), 75),
            "relationship": {"v1": relation},
        }
        record["perpetrators"] = [perpetrator]
        record["channel"] = self.pick(
            [
                ("datang_langsung", 5),
                ("telepon", 2),
                ("whatsapp", 3),
                ("hotline_sapa129", 2),
                ("rujukan_masuk", 1),
                ("media", 1 if online else 0),
            ]
        )
        record["reporter"] = {"kind": "korban"}
        record["kronologi"] = (
            "Korban melaporkan kekerasan berulang oleh suami di rumah."
            if domestic
            else "Korban melaporkan pelecehan dan ancaman penyebaran foto melalui media sosial."
            if online
            else "Korban melaporkan kekerasan oleh orang yang dikenalnya."
        )
        self.plan = [S.REHABILITASI_SOSIAL, S.PENDAMPINGAN]
        if "fisik" in violence or sexual:
            self.plan.insert(0, S.REHABILITASI_KESEHATAN)
        if sexual or rng.random() < 0.4:
            self.plan += [S.BANTUAN_HUKUM, S.PENEGAKAN_HUKUM]
        elif domestic and rng.random() < 0.3:
            self.plan.append(S.MEDIASI)
        if rng.random() < 0.25:
            self.plan.append(S.PEMBERDAYAAN_EKONOMI)
        if rng.random() < 0.1:
            self.plan.append(S.PENDAMPINGAN_ROHANI)

    def child(self, record: dict[str, Any]) -> None:
        rng = self.rng
        ampk = self.kind == "ampk"
        sex = "P" if rng.random() < 0.7 else "L"
        age = 17 if sex == "P" and rng.random() < 0.3 else rng.randint(4, 17)
        sexual = rng.random() < (0.6 if sex == "P" else 0.35)
        relation = self.pick(
            [
                ("orang_tua", 3),
                ("keluarga", 3),
                ("tetangga", 2),
                ("guru", 1),
                ("pacar_teman", 2 if age >= 13 else 0),
                ("orang_tidak_dikenal", 1),
            ]
        )
        place, ranah = {
            "orang_tua": ("rumah_tangga", "domestik"),
            "keluarga": ("rumah_tangga", "domestik"),
            "tetangga": ("lainnya", "publik"),
            "guru": (rng.choice(["sekolah", "lembaga_pendidikan_kilat"]), "publik"),
            "pacar_teman": (rng.choice(["daring", "fasilitas_umum"]), "publik"),
            "orang_tidak_dikenal": ("fasilitas_umum", "publik"),
        }[relation]
        if place == "daring":
            ranah = "daring"
        day = self.incident(record, place, ranah, back=60)
        violence = ["seksual"] if sexual else ["fisik"]
        violence += ["psikis"] if rng.random() < 0.7 else []
        violence += ["penelantaran"] if relation == "orang_tua" and rng.random() < 0.3 else []
        types = ["kta"] + (["ampk"] if ampk else []) + (["tpks"] if sexual else [])
        record["case_types"] = types
        family = rng.choice(FAMILY)
        mother = self.person("P", family)
        extra: dict[str, Any] = {"name": self.person(sex, family)}
        if ampk:
            extra["ampk_categories"] = (
                ["kejahatan_seksual"] if sexual else ["kekerasan_fisik_psikis"]
            ) + (["perlakuan_salah_penelantaran"] if "penelantaran" in violence else [])
        victim = self.victim("v1", sex, age, day, violence, **extra)
        victims = [victim]
        guardians: list[dict[str, Any]] = [{"name": mother, "relation": "ibu"}]
        perpetrator: dict[str, Any] = {"key": "p1", "sex": "L", "relationship": {}}
        if relation == "orang_tua":
            perpetrator["name"] = self.person("L", family)
            perpetrator["age"] = age + rng.randint(22, 35)
            # the father is a guardian too, and the alleged perpetrator: he never decides
            guardians.append({"name": perpetrator["name"], "relation": "ayah", "perpetrator": "p1"})
        elif relation == "pacar_teman" and rng.random() < 0.5:
            perpetrator["name"] = self.person("L")
            perpetrator["age"] = rng.randint(15, 17)  # anak berhadapan dengan hukum
        else:
            perpetrator["name"] = self.person("L")
            perpetrator["age"] = rng.randint(20, 60)
        victim["guardians"] = guardians
        if relation in ("orang_tua", "keluarga") and rng.random() < 0.2:
            sibling_sex = rng.choice(["P", "L"])
            sibling_age = max(3, age - rng.randint(2, 5))
            sibling = self.victim(
                "v2",
                sibling_sex,
                sibling_age,
                day,
                list(violence),
                name=self.person(sibling_sex, family),
            )
            if ampk:
                sibling["ampk_categories"] = list(extra["ampk_categories"])
            sibling["guardians"] = [dict(g) for g in guardians]
            victims.append(sibling)
        for v in victims:
            perpetrator["relationship"][v["key"]] = relation
        record["victims"] = victims
        record["perpetrators"] = [perpetrator]
        self.guardian = mother
        record["channel"] = self.pick(
            [
                ("datang_langsung", 3),
                ("pihak_ketiga", 3),
                ("hotline_sapa129", 2),
                ("rujukan_masuk", 1),
                ("penjangkauan", 1),
            ]
        )
        record["reporter"] = {
            "kind": "pihak_ketiga",
            "name": mother if relation != "orang_tua" or rng.random() < 0.7 else self.person("P"),
            "relation": "ibu kandung",
        }
        record["kronologi"] = (
            "Ibu korban melaporkan perubahan perilaku anak dan dugaan kekerasan."
            if relation != "guru"
            else "Wali kelas melaporkan dugaan kekerasan terhadap murid."
        )
        self.plan = [S.REHABILITASI_SOSIAL, S.PENDAMPINGAN]
        if sexual or "fisik" in violence:
            self.plan.insert(0, S.REHABILITASI_KESEHATAN)
        if sexual or rng.random() < 0.4:
            self.plan += [S.PENEGAKAN_HUKUM, S.BANTUAN_HUKUM]
        if relation == "orang_tua" and rng.random() < 0.5:
            self.plan.append(S.PENAMPUNGAN_SEMENTARA)
        if not victim.get("has_akta", True) or rng.random() < 0.1:
            self.plan.append(S.DOKUMEN_KEPENDUDUKAN)
        if sexual and perpetrator["age"] < 18 and rng.random() < 0.5:
            self.plan.append(S.MEDIASI)  # diversion: the perpetrator is a child

    def trafficking(self, record: dict[str, Any]) -> None:
        rng = self.rng
        abroad = rng.random() < 0.6
        country = self.pick(COUNTRIES) if abroad else None
        sexual_purpose = not abroad and rng.random() < 0.6
        place, ranah = (
            ("tempat_kerja", "ketenagakerjaan") if not sexual_purpose else ("lainnya", "publik")
        )
        if sexual_purpose and rng.random() < 0.4:
            place, ranah = "daring", "daring"
        day = self.incident(record, place, ranah, back=120)
        count = self.pick([(1, 6), (2, 3), (3, 1)])
        victims = []
        any_child = False
        for i in range(count):
            child = rng.random() < 0.35
            age = (
                17
                if child and rng.random() < 0.6
                else rng.randint(15, 17)
                if child
                else rng.randint(18, 34)
            )
            any_child |= age < 18
            sex = "P" if rng.random() < 0.85 else "L"
            violence = ["trafficking", "eksploitasi"] + (["seksual"] if sexual_purpose else [])
            tppo = {
                "proses": ["perekrutan", "pengangkutan"]
                + (["pengiriman"] if abroad else ["penampungan"]),
                "cara": rng.sample(
                    [
                        "penipuan",
                        "jeratan_utang",
                        "pemalsuan",
                        "penyekapan",
                        "ancaman_kekerasan",
                        "penyalahgunaan_kekuasaan",
                    ],
                    2,
                ),
                "tujuan": ["seksual"] if sexual_purpose else ["kerja_paksa"],
                "cross_border": abroad,
            }
            if abroad:
                tppo["destination_country"] = country
                tppo["recruiter"] = (
                    f"PT {rng.choice(['Maju', 'Sejahtera', 'Bintang'])} Fiktif Mandiri"
                )
                tppo["documents"] = rng.choice(
                    [
                        "Paspor ditahan agen.",
                        "Paspor dan KTP ditahan majikan.",
                        "Tanpa dokumen kerja.",
                    ]
                )
            extra: dict[str, Any] = {"tppo": tppo}
            if age < 18:
                extra["ampk_categories"] = ["penculikan_perdagangan", "eksploitasi_ekonomi_seksual"]
            victim = self.victim(f"v{i + 1}", sex, age, day, violence, **extra)
            if age < 18:
                victim["guardians"] = [{"name": self.person("P"), "relation": "ibu"}]
            victims.append(victim)
        record["victims"] = victims
        record["case_types"] = (
            ["tppo"] + (["ampk"] if any_child else []) + (["tpks"] if sexual_purpose else [])
        )
        record["perpetrators"] = [
            {
                "key": "p1",
                "name": self.person("L"),
                "sex": "L",
                "age": rng.randint(28, 55),
                "relationship": {v["key"]: "agen_penyalur" for v in victims},
            }
        ]
        if abroad and rng.random() < 0.5:
            record["perpetrators"].append(
                {"sex": "L", "relationship": {v["key"]: "majikan" for v in victims}}
            )
        record["channel"] = self.pick(
            [
                ("rujukan_masuk", 3),
                ("pelimpahan_masuk", 2 if abroad else 0),
                ("hotline_sapa129", 2),
                ("penjangkauan", 1),
                ("pihak_ketiga", 2),
            ]
        )
        record["reporter"] = {
            "kind": "pihak_ketiga",
            "name": "Petugas BP3MI",
            "relation": "petugas",
        }
        record["kronologi"] = (
            f"Korban dijanjikan pekerjaan di {country}; dipulangkan melalui perwakilan RI."
            if abroad
            else "Korban direkrut dengan janji pekerjaan dan dieksploitasi di dalam negeri."
        )
        if abroad:
            record["kewenangan"] = "provinsi" if self.owner == PROVINCE_OWNER else "kabkota"
        self.abroad = abroad
        self.plan = [S.PENAMPUNGAN_SEMENTARA, S.REHABILITASI_KESEHATAN, S.REHABILITASI_SOSIAL]
        self.plan += [S.PEMULANGAN] if abroad else []
        self.plan += [S.PENEGAKAN_HUKUM, S.REINTEGRASI_SOSIAL]
        if rng.random() < 0.5:
            self.plan.append(S.PEMBERDAYAAN_EKONOMI)

    # --- consent and services along the case's history
    def consent(self, victim: dict[str, Any], purpose: str, decision: str, at: dt.datetime) -> None:
        entry: dict[str, Any] = {"purpose": purpose, "decision": decision, "at": ts(at)}
        # a child's guardian decides (never one who is the alleged perpetrator); some girls of
        # 17 decide themselves
        guardians = [g for g in victim.get("guardians", []) if "perpetrator" not in g]
        if guardians and not (victim.get("age") == 17 and self.rng.random() < 0.3):
            entry["given_by"] = "wali"
            entry["given_by_name"] = guardians[0]["name"]
        else:
            entry["given_by"] = "korban"
        victim["consents"].append(entry)

    def track(
        self,
        victim: dict[str, Any],
        service: S,
        status: str,
        *,
        start: dt.datetime | None,
        end: dt.datetime | None = None,
        provider: str | None = AUTO,
        end_reason: str | None = None,
    ) -> None:
        """Add a track; ``provider`` ``AUTO`` picks one that provides the service."""
        track: dict[str, Any] = {"victim": victim["key"], "type": service.value, "status": status}
        if provider == AUTO:
            provider = self.provider(service)
            if service is S.PEMULANGAN and self.abroad:
                malaysia = victim.get("tppo", {}).get("destination_country") == "Malaysia"
                provider = "KBRI-KUL" if malaysia else "BP3MI-32"
        if provider is not None:
            track["provider"] = provider
        if start is not None:
            track["started_at"] = ts(start)
        if end is not None:
            track["ended_at"] = ts(end)
        if end_reason:
            track["end_reason"] = end_reason
        if provider and provider != self.owner and status != "direncanakan":
            self.referrals.append((victim, provider, start or self.received))
        self.services.append(track)

    def history(self, record: dict[str, Any]) -> None:
        rng, state, received = self.rng, self.state, self.received
        victims = record["victims"]
        self.referrals: list[tuple[dict[str, Any], str, dt.datetime]] = []
        consent_at = received + dt.timedelta(minutes=rng.randint(15, 90))
        intake_done = received + dt.timedelta(hours=rng.uniform(1, 3))
        gives_consent = state is not CaseState.DITERIMA or rng.random() < 0.5
        for v in victims:
            if gives_consent:
                self.consent(v, "layanan", "setuju", min(consent_at, self.limit))
                if rng.random() < 0.7:
                    self.consent(v, "pelaporan_statistik", "setuju", min(consent_at, self.limit))

        # complaint handling by the owning agency, for the first victim
        first = victims[0]
        if state is CaseState.DITERIMA:
            self.track(first, S.PENGADUAN, "berjalan", start=received, provider=self.owner)
            return
        intake_done = min(intake_done, self.limit)
        self.track(
            first, S.PENGADUAN, "selesai", start=received, end=intake_done, provider=self.owner
        )

        emergency = record["risk"] == "tinggi" and (
            state is CaseState.KEDARURATAN
            or (state not in (CaseState.IDENTIFIKASI,) and rng.random() < 0.6)
        )
        emergency_end = intake_done
        if emergency:
            start = intake_done
            if state is CaseState.KEDARURATAN:
                self.track(first, S.KEDARURATAN, "berjalan", start=start, provider=self.owner)
                if rng.random() < 0.5:
                    self.track(
                        first,
                        S.PENAMPUNGAN_SEMENTARA,
                        "berjalan",
                        start=start,
                        provider="RPTC-3273",
                    )
                return
            emergency_end = self.later(start, DURATION[S.KEDARURATAN])
            self.track(
                first, S.KEDARURATAN, "selesai", start=start, end=emergency_end, provider=self.owner
            )
        if state in (CaseState.IDENTIFIKASI, CaseState.KEDARURATAN):
            return

        if state is CaseState.DILIMPAHKAN:
            record["closed_at"] = ts(self.later(emergency_end, (0.5, 10)))
            target = "UPTD PPA Provinsi Jawa Barat" if self.owner == OWNER else "Kementerian PPPA"
            record["kewenangan"] = "provinsi" if self.owner == OWNER else "pusat"
            record["closed_reason"] = f"Dilimpahkan ke {target} sesuai kewenangan."
            return

        assessed = self.later(emergency_end, (1, 6))
        if state is CaseState.ASESMEN:
            return
        if state is CaseState.DITUTUP:
            self.closed(record, victims, assessed if rng.random() < 0.5 else None, emergency_end)
            return
        record["assessment_completed_at"] = ts(assessed)
        self.manager(record)
        plan = list(dict.fromkeys(self.plan))

        if state is CaseState.RENCANA_INTERVENSI:
            for v in victims:
                for service in plan:
                    provider = self.provider(service) if rng.random() < 0.6 else None
                    self.track(v, service, "direncanakan", start=None, provider=provider)
            self.referral_consents(victims)
            return

        # the plan runs: schedule each track from the assessment on
        schedule = []
        for v in victims:
            for service in plan:
                start = assessed + dt.timedelta(days=rng.uniform(0, 10))
                length = dt.timedelta(days=rng.uniform(*DURATION[service]))
                schedule.append((v, service, start, length))
        last_end = max(start + length for _v, _s, start, length in schedule)
        span = last_end - assessed
        if state in (CaseState.TERMINASI, CaseState.PEMANTAUAN):
            room = self.limit - dt.timedelta(days=3) - assessed
            if span > room:  # squeeze the history in before the anchor
                factor = room / span
                schedule = [
                    (v, s, assessed + (start - assessed) * factor, length * factor)
                    for v, s, start, length in schedule
                ]
        ends = []
        open_left = False
        for index, (v, service, start, length) in enumerate(schedule):
            start = min(start, self.limit)
            end = start + length
            declined = rng.random() < 0.07 and service not in (S.PENEGAKAN_HUKUM,)
            if state is CaseState.INTERVENSI:
                if (
                    end < self.limit
                    and rng.random() < 0.5
                    and (open_left or index < len(schedule) - 1)
                ):
                    self.track(v, service, "selesai", start=start, end=end)
                    ends.append(end)
                else:
                    provider = self.provider(service)
                    status = (
                        "berjalan"
                        if provider == self.owner
                        else self.pick([("berjalan", 5), ("diterima_penyedia", 2), ("dirujuk", 1)])
                    )
                    self.track(v, service, status, start=start, provider=provider)
                    open_left = True
                continue
            if (
                state is CaseState.PEMANTAUAN
                and service is S.PENEGAKAN_HUKUM
                and rng.random() < 0.5
            ):
                self.track(v, service, "berjalan", start=start)
                continue
            if declined:
                at = min(start + dt.timedelta(hours=2), self.limit)
                self.consent(v, f"layanan:{service.value}", "menolak", at)
                self.track(v, service, "ditolak_korban", start=start, end=at)
                ends.append(at)
            elif rng.random() < 0.03:
                self.track(
                    v,
                    service,
                    "tidak_tersedia",
                    start=None,
                    end=start,
                    provider=None,
                    end_reason="Belum ada penyedia layanan di wilayah korban.",
                )
                ends.append(start)
            elif rng.random() < 0.03:
                self.track(
                    v,
                    service,
                    "dibatalkan",
                    start=start,
                    end=start + length / 3,
                    end_reason="Korban memilih layanan lain.",
                )
                ends.append(start + length / 3)
            else:
                self.track(v, service, "selesai", start=start, end=end)
                ends.append(end)
        if state is CaseState.TERMINASI:
            closing = max([*ends, assessed]) + dt.timedelta(days=rng.uniform(1, 3))
            record["closed_at"] = ts(min(closing, self.limit))
        self.referral_consents(victims)

    def referral_consents(self, victims: list[dict[str, Any]]) -> None:
        """Consent to share the case with each agency it was referred to, before the referral."""
        given: set[tuple[str, str]] = set()
        for victim, provider, at in self.referrals:
            if (victim["key"], provider) in given:
                continue
            given.add((victim["key"], provider))
            moment = max(at - dt.timedelta(hours=1), self.received)
            self.consent(victim, f"rujukan:{provider}", "setuju", moment)

    def manager(self, record: dict[str, Any]) -> None:
        if self.owner == OWNER:
            roll = self.rng.random()
            if roll < 0.75:
                record["case_manager"] = CASE_MANAGER
            elif roll < 0.85:
                record["case_manager"] = SUPERVISOR

    def closed(
        self,
        record: dict[str, Any],
        victims: list[dict[str, Any]],
        assessed: dt.datetime | None,
        since: dt.datetime,
    ) -> None:
        rng = self.rng
        reason = rng.choice(CLOSING_REASONS)
        start = assessed or since
        closed = self.later(start, (2, 40))
        if assessed is not None:
            record["assessment_completed_at"] = ts(assessed)
            self.manager(record)
            service = self.plan[0]
            self.track(
                victims[0],
                service,
                "dibatalkan",
                start=None if rng.random() < 0.5 else assessed + (closed - assessed) / 4,
                end=assessed + (closed - assessed) / 2,
                end_reason="Kasus ditutup.",
            )
        if reason.startswith("Korban mencabut"):
            for v in victims:
                self.consent(v, "layanan", "menolak", closed - dt.timedelta(hours=1))
        record["closed_at"] = ts(closed)
        record["closed_reason"] = reason
        self.referral_consents(victims)


def demo_records() -> list[dict[str, Any]]:
    """The demo cases as import records, oldest first, numbered ``demo-1`` … in that order."""
    rng = random.Random(SEED)
    plan: list[tuple[CaseState, float]] = []
    for state, (count, (least, most)) in STATE_COUNTS.items():
        plan += [(state, rng.uniform(least, most)) for _ in range(count)]
    plan.sort(key=lambda item: -item[1])
    records = []
    for number, (state, days_ago) in enumerate(plan, start=1):
        records.append(_Case(rng, number, state, days_ago).build())
    return records


class _HostCase(_Case):
    """A running case whose intervention plan leaves out ``leave_out``: the services the working
    day (``app.demo.day``) refers to the partner agencies are added to it then."""

    def __init__(self, *args: Any, leave_out: frozenset[S]) -> None:
        super().__init__(*args)
        self.leave_out = leave_out

    def history(self, record: dict[str, Any]) -> None:
        self.plan = [s for s in self.plan if s not in self.leave_out] or [S.PENDAMPINGAN]
        super().history(record)


def host_records(leave_out: frozenset[S]) -> list[dict[str, Any]]:
    """``HOST_CASES`` more cases of the city's UPTD PPA in ``intervensi``, received 60 to 200
    days before ``ANCHOR``, whose plans leave out ``leave_out`` (see ``_HostCase``); numbered
    after the demo cases (``demo-241`` on; a number drawn for the province's UPTD PPA is skipped).
    """
    rng = random.Random(SEED + 3)
    records: list[dict[str, Any]] = []
    number = sum(count for count, _days in STATE_COUNTS.values())
    while len(records) < HOST_CASES:
        number += 1
        record = _HostCase(
            rng, number, CaseState.INTERVENSI, rng.uniform(60, 200), leave_out=leave_out
        ).build()
        if record["agency"] == OWNER:
            records.append(record)
    return records


def draft_intakes() -> list[Intake]:
    """Complaints being typed in: what an intake officer has so far."""
    rng = random.Random(SEED + 1)
    drafts = []
    for i in range(DRAFTS):
        received = (ANCHOR - dt.timedelta(hours=2 + 7 * i)).astimezone(dt.UTC)
        drafts.append(
            Intake(
                received_at=received,
                channel=rng.choice(["telepon", "whatsapp", "hotline_sapa129", "datang_langsung"]),
                case_types=[rng.choice(["ktp", "kta"])] if i % 2 else [],
                risk=rng.choice(["sedang", "rendah"]) if i % 2 else None,
                kronologi="Pelapor menghubungi layanan; data belum lengkap.",
                victims=[VictimData(sex="P", age=rng.randint(12, 40))] if i != 1 else [],
            )
        )
    return drafts


def load_demo_cases(report: Any, records: list[dict[str, Any]] | None = None) -> None:
    """Import the demo cases (``records``, default ``demo_records()``) and drafts; already loaded
    ones are skipped. A record the import rejects is a bug in this module: stop with its reason."""
    actor = SystemActor("demo")
    lookups = Lookups()
    for record in demo_records() if records is None else records:
        outcome = import_case(parse_line(record), actor=actor, lookups=lookups)
        if outcome.status == "rejected":
            raise DomainError(f"demo case {record['external_id']}: {outcome.reason}")
        report.add("case", outcome.status)
    agency = get_agency_by_code(OWNER)
    assert agency is not None
    for i, intake in enumerate(draft_intakes(), start=1):
        external_id = f"demo-draft-{i}"
        exists = db.session.scalar(
            select(Case.id).where(Case.agency_id == agency.id, Case.external_id == external_id)
        )
        if exists is not None:
            report.add("draft", "unchanged")
            continue
        registration.register_case(
            intake, agency=agency, actor=actor, draft=True, external_id=external_id
        )
        report.add("draft", "created")
