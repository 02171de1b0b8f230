"""Importing historical cases (interfaces.md §3): every line is checked by the intake's rules and
the workflow's, a bad line imports nothing of itself while the good lines import, and importing
again imports nothing new."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.audit.operations import SystemActor
from app.cases.models import Case, CaseCounter, ConsentEntry, Perpetrator, Person, Victim
from app.core.enums import AgencyType, CaseState, Role, ServiceType, TrackState
from app.core.errors import DomainError
from app.extensions import db
from app.intake import importing, rows
from app.intake.importing import import_lines, json_path, parse_line
from app.notifications.models import Notification
from app.services.models import ServiceTrack
from app.workflow.models import CaseTransition
from tests.factories import (
    AgencyFactory,
    KabkotaFactory,
    KecamatanFactory,
    ProvinceFactory,
    UserFactory,
)

S = ServiceType

# The example of interfaces.md §3 (one line wrapped once more to fit the line length).
EXAMPLE = """{"external_id": "legacy-2025-0042",
 "agency": "UPTDPPA-3273",
 "received_at": "2025-03-14T09:30:00+07:00",
 "channel": "datang_langsung",
 "case_types": ["ktp", "tpks"],
 "risk": "sedang",
 "incident": {"date": "2025-03-10", "region": "32.73.01", "place": "rumah_tangga"},
 "victims": [{"key": "v1", "sex": "P", "birth_date": "1994-05-01", "disability": false,
              "nationality": "WNI", "violence_types": ["fisik", "psikis"],
              "consents": [{"purpose": "layanan", "decision": "setuju", "given_by": "korban",
                            "at": "2025-03-14T09:45:00+07:00"}]}],
 "perpetrators": [{"sex": "L", "age": 35, "relationship": {"v1": "suami_istri"}}],
 "assessment_completed_at": "2025-03-15T10:00:00+07:00",
 "services": [{"victim": "v1", "type": "pengaduan", "provider": "UPTDPPA-3273",
               "status": "selesai", "started_at": "2025-03-14T09:30:00+07:00",
               "ended_at": "2025-03-14T11:00:00+07:00"},
              {"victim": "v1", "type": "rehabilitasi_kesehatan", "provider": "RSUD-3273",
               "status": "berjalan", "started_at": "2025-03-16T08:00:00+07:00"}],
 "status": "intervensi",
 "closed_at": null}"""


def example(**changes: Any) -> dict[str, Any]:
    record = json.loads(EXAMPLE)
    record.update(changes)
    return record


def line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def terminated() -> dict[str, Any]:
    """A child victim whose case ended: every track ended, one declined with her refusal."""
    return {
        "external_id": "legacy-2025-0107",
        "agency": "UPTDPPA-3273",
        "received_at": "2025-05-02T13:00:00+07:00",
        "channel": "hotline_sapa129",
        "case_types": ["kta", "tpks"],
        "risk": "tinggi",
        "kewenangan": "kabkota",
        "reporter": {"kind": "pihak_ketiga", "name": "Wali kelas", "relation": "guru"},
        "incident": {
            "date": "2025-04",
            "region": "32.73.01",
            "place": "sekolah",
            "ranah": "publik",
        },
        "kronologi": "Dilaporkan oleh wali kelas.",
        "victims": [
            {
                "key": "v1",
                "sex": "P",
                "age": 14,
                "name": "Anisa Fiktif",
                "education": "smp",
                "violence_types": ["seksual"],
                "guardians": [{"name": "Ratna Fiktif", "relation": "ibu"}],
                "consents": [
                    {
                        "purpose": "layanan",
                        "decision": "setuju",
                        "given_by": "wali",
                        "given_by_name": "Ratna Fiktif",
                        "at": "2025-05-02T14:00:00+07:00",
                    },
                    {
                        "purpose": "layanan:bantuan_hukum",
                        "decision": "menolak",
                        "given_by": "wali",
                        "given_by_name": "Ratna Fiktif",
                        "at": "2025-05-06T10:00:00+07:00",
                    },
                ],
            }
        ],
        "perpetrators": [
            {"name": "Pelaku Fiktif", "sex": "L", "age": 40, "relationship": {"v1": "guru"}}
        ],
        "witnesses": [{"name": "Saksi Fiktif"}],
        "assessment_completed_at": "2025-05-05T10:00:00+07:00",
        "services": [
            {
                "victim": "v1",
                "type": "rehabilitasi_kesehatan",
                "provider": "RSUD-3273",
                "status": "selesai",
                "started_at": "2025-05-06T08:00:00+07:00",
                "ended_at": "2025-05-20T08:00:00+07:00",
            },
            {
                "victim": "v1",
                "type": "bantuan_hukum",
                "status": "ditolak_korban",
                "started_at": "2025-05-06T09:00:00+07:00",
                "ended_at": "2025-05-06T10:00:00+07:00",
            },
        ],
        "status": "terminasi",
        "closed_at": "2025-07-01T10:00:00+07:00",
        "case_manager": "manajer@contoh.go.id",
    }


def just_received() -> dict[str, Any]:
    return {
        "external_id": "legacy-2026-0001",
        "agency": "UPTDPPA-3273",
        "received_at": "2026-01-05T08:00:00+07:00",
        "channel": "telepon",
        "case_types": ["ktp"],
        "risk": "rendah",
        "victims": [{"key": "k1", "sex": "P", "age": 31, "violence_types": ["psikis"]}],
        "status": "diterima",
    }


@pytest.fixture
def english() -> Iterator[None]:
    with force_locale("en"):
        yield


@pytest.fixture
def world(app: Any) -> SimpleNamespace:
    """Kota Bandung as the §3 example expects it: region 32.73.01, UPTDPPA-3273 providing
    pengaduan (and more), RSUD-3273 providing rehabilitasi_kesehatan; a case manager and a
    supervisor at the UPTD. Committed to the test's outer transaction, so a rollback in the code
    under test (a dry run) keeps it."""
    province = ProvinceFactory(code="32", name="Jawa Barat")
    kota = KabkotaFactory(code="32.73", name="Kota Bandung", parent=province)
    kecamatan = KecamatanFactory(code="32.73.01", name="Sukasari", parent=kota)
    uptd = AgencyFactory(
        code="UPTDPPA-3273",
        region=kota,
        services=[S.PENGADUAN, S.PENJANGKAUAN, S.REHABILITASI_SOSIAL, S.PENDAMPINGAN],
    )
    rsud = AgencyFactory(
        code="RSUD-3273", type=AgencyType.FASKES, region=kota, services=[S.REHABILITASI_KESEHATAN]
    )
    manager = UserFactory(email="manajer@contoh.go.id", roles=[(Role.MANAJER_KASUS, uptd)])
    supervisor = UserFactory(email="supervisor@contoh.go.id", roles=[(Role.SUPERVISOR, uptd)])
    officer = UserFactory(email="data@contoh.go.id", roles=[(Role.ANALIS_DATA, uptd)])
    db.session.commit()
    return SimpleNamespace(
        kecamatan=kecamatan,
        uptd=uptd,
        rsud=rsud,
        manager=manager,
        supervisor=supervisor,
        officer=officer,
    )


def run(*lines: str, actor: Any = None) -> importing.ImportResult:
    return import_lines(list(lines), actor=actor or SystemActor("import"))


COUNTED = (
    Case,
    Victim,
    Person,
    Perpetrator,
    ConsentEntry,
    ServiceTrack,
    CaseTransition,
    AuditEntry,
    Notification,
)


def counts() -> dict[str, int]:
    counted = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in COUNTED}
    counted["counter"] = db.session.scalar(select(func.sum(CaseCounter.last_number))) or 0
    return counted


def case_by_external_id(external_id: str) -> Case:
    return db.session.scalar(select(Case).where(Case.external_id == external_id))


def transitions(case: Case, *, tracks: bool = False) -> list[CaseTransition]:
    query = select(CaseTransition).where(CaseTransition.case_id == case.id)
    if not tracks:
        query = query.where(CaseTransition.track_id.is_(None))
    return list(db.session.scalars(query.order_by(CaseTransition.id)))


# --- good files ---------------------------------------------------------------------------------


def test_the_example_of_the_interface_imports(world, english):
    result = run(EXAMPLE.replace("\n", ""))
    assert result.rejected == []
    assert (result.imported, result.skipped) == (1, 0)
    assert result.summary() == "imported 1, skipped 0 (already present), rejected 0"

    case = case_by_external_id("legacy-2025-0042")
    assert case.agency_id == world.uptd.id
    assert case.reference == "UPTDPPA-3273-2025-00001"
    assert case.state is CaseState.INTERVENSI
    assert case.received_at == dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)
    assert case.assessment_completed_at == dt.datetime(2025, 3, 15, 3, 0, tzinfo=dt.UTC)
    assert case.closed_at is None
    assert case.incident_region.code == "32.73.01"
    assert sorted(case.case_types) == ["ktp", "tpks"]
    [victim] = case.victims
    assert (victim.sex, victim.birth_date, victim.age_at_incident, victim.is_child) == (
        "P",
        dt.date(1994, 5, 1),
        30,
        False,
    )
    assert [c.purpose for c in victim.consents] == ["layanan"]
    [perpetrator] = case.perpetrators
    assert [r.relationship_ for r in perpetrator.relations] == ["suami_istri"]

    tracks = db.session.scalars(
        select(ServiceTrack).where(ServiceTrack.case_id == case.id).order_by(ServiceTrack.id)
    ).all()
    assert [(t.service_type, t.state, t.provider.code) for t in tracks] == [
        (S.PENGADUAN, TrackState.SELESAI, "UPTDPPA-3273"),
        (S.REHABILITASI_KESEHATAN, TrackState.BERJALAN, "RSUD-3273"),
    ]
    assert tracks[0].ended_at == dt.datetime(2025, 3, 14, 4, 0, tzinfo=dt.UTC)

    history = transitions(case, tracks=True)
    assert {t.kind for t in history} == {"import"}
    assert {(t.actor_id, t.actor_label) for t in history} == {(None, "import")}
    case_rows = [(t.event, t.from_state, t.to_state, t.at) for t in history if t.track_id is None]
    assert case_rows == [
        ("register", None, "diterima", case.received_at),
        # dated by the latest time the record holds: the start of the health care
        ("import", "diterima", "intervensi", dt.datetime(2025, 3, 16, 1, 0, tzinfo=dt.UTC)),
    ]
    track_rows = [(t.track_id, t.from_state, t.to_state, t.at) for t in history if t.track_id]
    assert track_rows == [
        (tracks[0].id, None, "selesai", tracks[0].ended_at),
        (tracks[1].id, None, "berjalan", tracks[1].started_at),
    ]
    actions = db.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.object_type == "case", AuditEntry.object_id == str(case.id)
        )
    ).all()
    assert "case.import" in actions and "case.register" in actions


def test_a_good_file_imports_every_line(world, english):
    result = run(line(example()), "", line(terminated()), "   ", line(just_received()))
    assert result.rejected == []
    assert result.summary() == "imported 3, skipped 0 (already present), rejected 0"

    case = case_by_external_id("legacy-2025-0107")
    assert case.state is CaseState.TERMINASI
    assert case.closed_at == dt.datetime(2025, 7, 1, 3, 0, tzinfo=dt.UTC)
    assert case.case_manager_id == world.manager.id
    assert case.incident_date == dt.date(2025, 4, 1)
    assert case.incident_date_precision == "bulan"
    assert case.reporter_kind == "pihak_ketiga"
    [victim] = case.victims
    assert victim.is_child and victim.age_at_incident == 14
    assert victim.guardians[0].name == "Ratna Fiktif"
    assert victim.consent_for("layanan:bantuan_hukum").decision == "menolak"
    states = db.session.scalars(
        select(ServiceTrack.state).where(ServiceTrack.case_id == case.id)
    ).all()
    assert sorted(states) == ["ditolak_korban", "selesai"]
    [_register, imported] = transitions(case)
    assert (imported.from_state, imported.to_state, imported.at) == (
        "diterima",
        "terminasi",
        case.closed_at,
    )
    # history they already know: no "new high-risk case" notice for the supervisor
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0

    fresh = case_by_external_id("legacy-2026-0001")
    assert fresh.state is CaseState.DITERIMA
    assert [(t.event, t.to_state) for t in transitions(fresh)] == [("register", "diterima")]
    assert fresh.reference == "UPTDPPA-3273-2026-00001"


def test_importing_the_same_file_again_imports_nothing_new(world, english):
    lines = [line(example()), line(terminated()), line(just_received())]
    assert run(*lines).summary() == "imported 3, skipped 0 (already present), rejected 0"
    before = counts()
    assert run(*lines).summary() == "imported 0, skipped 3 (already present), rejected 0"
    assert counts() == before


def test_the_same_record_twice_in_one_file_is_imported_once(world, english):
    result = run(line(example()), line(example(risk="tinggi")))
    assert result.summary() == "imported 1, skipped 1 (already present), rejected 0"
    assert case_by_external_id("legacy-2025-0042").risk == "sedang"


def test_the_importing_user_is_the_actor_of_the_history(world, english):
    assert run(line(example()), actor=world.officer).rejected == []
    case = case_by_external_id("legacy-2025-0042")
    history = transitions(case, tracks=True)
    assert len(history) == 4
    assert {(t.actor_id, t.actor_label, t.kind) for t in history} == {
        (world.officer.id, "user", "import")
    }
    assert case.registered_by_id == world.officer.id


# --- bad lines ----------------------------------------------------------------------------------


def victim(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(record)
    record["victims"][0].update(changes)
    return record


def service(record: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(record)
    record["services"][index].update(changes)
    return record


def child_consent_by_the_perpetrator() -> dict[str, Any]:
    record = example(
        case_types=["kta"],
        perpetrators=[
            {"name": "Budi Santoso", "sex": "L", "age": 41, "relationship": {"v1": "orang_tua"}}
        ],
    )
    return victim(
        record,
        birth_date="2010-01-01",
        guardians=[{"name": "Budi Santoso", "relation": "ayah"}],
        consents=[
            {
                "purpose": "layanan",
                "decision": "setuju",
                "given_by": "wali",
                "given_by_name": "budi  santoso",
                "at": "2025-03-14T09:45:00+07:00",
            }
        ],
    )


BAD = {
    "incident after registration": (
        example(incident={"date": "2025-03-20", "region": "32.73.01", "place": "rumah_tangga"}),
        "incident.date: The incident cannot be after the complaint was registered.",
    ),
    "AMPK on an adult": (
        victim(example(case_types=["ktp", "ampk"]), ampk_categories=["kekerasan_fisik_psikis"]),
        "victims[0].ampk_categories: Special-protection (AMPK) categories apply only to "
        "children under 18.",
    ),
    "AMPK case without a child": (
        example(case_types=["ktp", "ampk"]),
        "case_types: An AMPK case needs a child victim.",
    ),
    "age against birth date": (
        victim(example(), age=25),
        "victims[0].age: The age does not match the birth date: on 10 Mar 2025 the victim was "
        "30 years old.",
    ),
    "planned before the case was received": (
        service(example(), 1, planned_at="2025-03-01T08:00:00+07:00"),
        "services[1].planned_at: This is before the case was received.",
    ),
    "child's consent by the alleged perpetrator": (
        child_consent_by_the_perpetrator(),
        "victims[0].consents[0].given_by: The guardian who is the alleged perpetrator cannot "
        "give consent for the victim.",
    ),
    "unknown vocabulary": (
        victim(example(), violence_types=["fisik", "fisikk"]),
        'victims[0].violence_types[1]: "fisikk" is not one of: fisik, psikis, seksual, '
        "eksploitasi, trafficking, penelantaran, lainnya",
    ),
    "unknown relationship": (
        example(perpetrators=[{"sex": "L", "relationship": {"v1": "mantan"}}]),
        'perpetrators[0].relationship.v1: "mantan" is not one of:',
    ),
    "unknown case state": (
        example(status="selesai"),
        'status: "selesai" is not one of: diterima, identifikasi',
    ),
    "draft is not a case state to import": (
        example(status="draft"),
        'status: "draft" is not one of:',
    ),
    "past asesmen without consent to services": (
        victim(example(), consents=[]),
        "victims[0].consents: A case past asesmen needs the victim's consent to services "
        "(purpose layanan, decision setuju).",
    ),
    "past asesmen with the consent withdrawn": (
        victim(
            example(),
            consents=[
                {
                    "purpose": "layanan",
                    "decision": "setuju",
                    "given_by": "korban",
                    "at": "2025-03-14T09:45:00+07:00",
                },
                {
                    "purpose": "layanan",
                    "decision": "menolak",
                    "given_by": "korban",
                    "at": "2025-03-14T10:45:00+07:00",
                },
            ],
        ),
        "victims[0].consents: A case past asesmen needs the victim's consent to services",
    ),
    "past asesmen without the assessment time": (
        example(assessment_completed_at=None),
        "assessment_completed_at: A case past asesmen needs the time its assessment was completed.",
    ),
    "assessment before the case was received": (
        example(assessment_completed_at="2025-03-13T10:00:00+07:00"),
        "assessment_completed_at: This is before the case was received.",
    ),
    "assessment completed while in asesmen": (
        example(status="asesmen", services=[]),
        "assessment_completed_at: A case in asesmen has no completed assessment yet.",
    ),
    "kedaruratan without high risk": (
        example(status="kedaruratan", assessment_completed_at=None, services=[]),
        "status: Only a case of high risk (tinggi) goes through kedaruratan.",
    ),
    "declined without the refusal in the ledger": (
        service(example(), 1, status="ditolak_korban", ended_at="2025-03-16T09:00:00+07:00"),
        "services[1].status: A service the victim declined needs the victim's refusal in the "
        "consent ledger (purpose layanan:rehabilitasi_kesehatan, decision menolak).",
    ),
    "terminasi with an open track": (
        example(status="terminasi", closed_at="2025-06-01T10:00:00+07:00"),
        "services[1].status: A case in terminasi cannot have a service still open (berjalan).",
    ),
    "closed without closing time": (
        example(status="ditutup", closed_reason="korban mencabut pengaduan"),
        "closed_at: A closed case needs the time it was closed.",
    ),
    "closed without a reason": (
        example(status="ditutup", closed_at="2025-06-01T10:00:00+07:00"),
        "closed_reason: Say why the case was closed without completion.",
    ),
    "open with a closing time": (
        example(closed_at="2025-06-01T10:00:00+07:00"),
        "closed_at: A case in intervensi is open: it has no closing time.",
    ),
    "closed before it was received": (
        example(
            status="dilimpahkan",
            assessment_completed_at=None,
            closed_at="2025-03-01T10:00:00+07:00",
        ),
        "closed_at: This is before the case was received.",
    ),
    "provider not providing the service": (
        service(example(), 1, provider="UPTDPPA-3273"),
        "services[1].provider: UPTDPPA-3273 does not provide the service rehabilitasi_kesehatan.",
    ),
    "unknown provider": (
        service(example(), 1, provider="RSUD-9999"),
        'services[1].provider: No agency has the code "RSUD-9999".',
    ),
    "service ending before it started": (
        service(example(), 0, ended_at="2025-03-14T09:00:00+07:00"),
        "services[0].ended_at: A service cannot end before it started.",
    ),
    "ended service without end time": (
        service(example(), 0, ended_at=None),
        "services[0].ended_at: A service that has ended needs its end time.",
    ),
    "service for an unknown victim": (
        service(example(), 1, victim="v2"),
        'services[1].victim: no victim has the key "v2"',
    ),
    "two tracks of one service for one victim": (
        service(example(), 1, type="pengaduan", provider="UPTDPPA-3273"),
        "services[1].type: The victim already has this service (services[0]); one track per "
        "victim and service type.",
    ),
    "mediation in a TPKS case with an adult perpetrator": (
        service(
            example(), 1, type="mediasi", provider=None, status="direncanakan", started_at=None
        ),
        "services[1].type: Mediation is not allowed in a sexual-violence (TPKS) case unless "
        "the perpetrator is a child.",
    ),
    "naive timestamp": (
        example(received_at="2025-03-14T09:30:00"),
        "received_at: timestamp needs a time zone offset (e.g. 2025-03-14T09:30:00+07:00)",
    ),
    "naive consent timestamp": (
        victim(
            example(),
            consents=[
                {
                    "purpose": "layanan",
                    "decision": "setuju",
                    "given_by": "korban",
                    "at": "2025-03-14 09:45",
                }
            ],
        ),
        "victims[0].consents[0].at: timestamp needs a time zone offset",
    ),
    "not a timestamp": (
        example(received_at="14/03/2025"),
        'received_at: "14/03/2025" is not a timestamp',
    ),
    "registered in the future": (
        example(received_at="2099-03-14T09:30:00+07:00"),
        "received_at: The registration time cannot be in the future.",
    ),
    "unknown key": (
        victim(example(), birthdate="1994-05-01"),
        'victims[0]: unknown key "birthdate" (did you mean "birth_date"?)',
    ),
    "unknown top-level key": (
        example(colour="blue"),
        'unknown key "colour"',
    ),
    "wrong type": (
        victim(example(), age="35"),
        'victims[0].age: expected a whole number, found "35"',
    ),
    "wrong type of list": (
        example(case_types="ktp"),
        'case_types: expected a list […], found "ktp"',
    ),
    "missing external id": (
        example(external_id=None),
        "external_id: required",
    ),
    "unknown agency": (
        example(agency="UPTDPPA-0000"),
        'agency: No agency has the code "UPTDPPA-0000".',
    ),
    "unknown region": (
        example(incident={"date": "2025-03-10", "region": "32.73.99"}),
        "incident.region: Unknown region code.",
    ),
    "case manager without the role": (
        example(case_manager="data@contoh.go.id"),
        "case_manager: data@contoh.go.id is not a case manager or supervisor at UPTDPPA-3273.",
    ),
    "not an object": (
        ["legacy"],
        "expected an object {…}, found a list",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_line_is_rejected_and_the_good_lines_import(world, english, name):
    record, reason = BAD[name]
    result = run(line(just_received()), line(record), "", line(terminated()))
    assert result.imported == 2, result.rejected
    [(number, got)] = result.rejected
    assert number == 2
    assert reason in got, got
    assert got.startswith(reason.split(":")[0])


def test_what_legacy_records_lack_is_imported_and_flagged_for_data_quality(world, english):
    """interfaces.md §3 does not ask for a guardian's name or a victim's age: a record without
    them imports, and the case shows each as a data-quality finding instead."""
    from app.quality.checks import completeness_issues

    record = victim(
        example(external_id="legacy-no-name"),
        birth_date=None,
        consents=[
            {
                "purpose": "layanan",
                "decision": "setuju",
                "given_by": "wali",
                "at": "2025-03-14T09:45:00+07:00",
            }
        ],
    )
    result = run(line(record))
    assert (result.imported, result.rejected) == (1, []), result.rejected
    case = case_by_external_id("legacy-no-name")
    (consent,) = case.victims[0].consents
    assert (consent.given_by.value, consent.given_by_name) == ("wali", None)
    assert case.victims[0].age_at_incident is None
    codes = {issue.code for issue in completeness_issues(case)}
    assert {"completeness.guardian_name", "completeness.victim_age"} <= codes


def test_a_planned_service_keeps_the_time_it_was_planned_never_the_import_time(world, english):
    record = example(external_id="legacy-planned")
    record["services"].append(
        {
            "victim": "v1",
            "type": "rehabilitasi_sosial",
            "provider": "UPTDPPA-3273",
            "status": "direncanakan",
            "planned_at": "2025-03-15T11:00:00+07:00",
        }
    )
    record["services"].append(
        {
            "victim": "v1",
            "type": "pendampingan",
            "provider": "UPTDPPA-3273",
            "status": "direncanakan",
        }
    )
    assert run(line(record)).imported == 1
    case = case_by_external_id("legacy-planned")
    planned = {
        t.service_type.value: t.planned_at
        for t in db.session.scalars(select(ServiceTrack).where(ServiceTrack.case_id == case.id))
    }
    wib = dt.timezone(dt.timedelta(hours=7))
    assert planned["rehabilitasi_sosial"] == dt.datetime(2025, 3, 15, 11, 0, tzinfo=wib)
    # no planned_at: the assessment's time (the plan follows it) ...
    assert planned["pendampingan"] == dt.datetime(2025, 3, 15, 10, 0, tzinfo=wib)
    # ... or the start, when the track started before it (a complaint handled at intake)
    assert planned["pengaduan"] == dt.datetime(2025, 3, 14, 9, 30, tzinfo=wib)


def test_a_line_that_is_not_json_is_rejected_with_its_number(world, english):
    result = run(line(just_received()), '{"external_id": "x",', line(terminated()))
    assert result.imported == 2
    assert result.rejected == [
        (2, "not valid JSON (Expecting property name enclosed in double quotes, column 21)")
    ]


def test_a_repeated_key_is_rejected(world, english):
    text = line(just_received()).replace('"risk": "rendah"', '"risk": "rendah", "risk": "tinggi"')
    assert run(text).rejected == [(1, 'the key "risk" appears twice in one object')]


def test_bytes_that_are_not_utf8_are_rejected(world, english):
    result = import_lines(
        [line(just_received()).encode(), b'{"external_id": "\xff"}\n'],
        actor=SystemActor("import"),
    )
    assert result.imported == 1
    assert result.rejected == [(2, "not UTF-8 text (byte 18)")]


def test_every_problem_of_a_line_is_reported(world, english):
    record = victim(example(incident={"date": "2025-03-20"}), consents=[])
    [(_, reason)] = run(line(record)).rejected
    assert reason.split("; ") == [
        "incident.date: The incident cannot be after the complaint was registered.",
        "victims[0].consents: A case past asesmen needs the victim's consent to services "
        "(purpose layanan, decision setuju).",
    ]


def test_a_rejected_line_leaves_nothing_behind(world, english):
    before = counts()
    result = run(line(victim(example(), consents=[])))
    assert len(result.rejected) == 1
    assert counts() == before


def test_a_line_refused_while_writing_leaves_nothing_behind(world, english, monkeypatch):
    """A refusal after the case was already registered (here: the second track) rolls the
    line's savepoint back: no case, people, consents, tracks, transitions, audit entries, and
    the case number is not used up."""

    def refuse_second(case: Any, specs: Any, **kwargs: Any) -> Any:
        assert case.id is not None  # the case is written by now
        raise DomainError("refused by the test", field="tracks-1-type")

    def refuse_entries(session: Any, entries: Any) -> None:
        # a batch written as rows (PostgreSQL): refused once its rows are in, before its audit
        # entries; the line is then written on its own (refused above)
        assert session.execute(select(func.count()).select_from(Case)).scalar() > 0
        raise DomainError("refused by the test", field="status")

    monkeypatch.setattr(importing, "create_tracks", refuse_second)
    monkeypatch.setattr(rows, "append_entries", refuse_entries)
    before = counts()
    result = run(line(example()))
    assert result.rejected == [(1, "services[1].type: refused by the test")]
    assert counts() == before
    monkeypatch.undo()
    assert run(line(just_received()), line(example())).imported == 2
    assert case_by_external_id("legacy-2025-0042").reference == "UPTDPPA-3273-2025-00001"


def test_a_dry_run_of_one_case_writes_nothing(world, english):
    before = counts()
    outcome = importing.import_case(
        parse_line(example()), actor=SystemActor("import"), dry_run=True
    )
    assert outcome.status == "imported"
    assert counts() == before


# --- the pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("received_at", "received_at"),
        ("incident_date", "incident.date"),
        ("incident_region_code", "incident.region"),
        ("victims-0-birth_date", "victims[0].birth_date"),
        ("victims-1-consents-2-given_by", "victims[1].consents[2].given_by"),
        ("victims-0-guardians-0", "victims[0].guardians[0]"),
        ("victims-0-tppo_cara", "victims[0].tppo.cara"),
        ("perpetrators-0-relationships", "perpetrators[0].relationship"),
        ("tracks-1-provider", "services[1].provider"),
    ],
)
def test_intake_paths_are_shown_as_paths_in_the_record(form, expected):
    assert json_path(form) == expected


def test_parse_line_builds_the_intake_of_the_form(english):
    parsed = parse_line(terminated())
    intake = parsed.intake
    assert parsed.external_id == "legacy-2025-0107"
    assert parsed.status == "terminasi"
    assert intake.received_at == dt.datetime(2025, 5, 2, 6, 0, tzinfo=dt.UTC)
    assert (intake.incident_date, intake.incident_date_precision) == (dt.date(2025, 4, 1), "bulan")
    assert intake.perpetrators[0].relationships == {1: "guru"}
    assert intake.victims[0].guardians[0].name == "Ratna Fiktif"
    assert [s.victim_position for s in parsed.services] == [1, 1]
    assert intake.witnesses == [("Saksi Fiktif", None)]


def test_a_tppo_record_keeps_its_screening(world, english):
    record = {
        "external_id": "tppo-1",
        "agency": "UPTDPPA-3273",
        "received_at": "2025-08-01T10:00:00+07:00",
        "channel": "rujukan_masuk",
        "case_types": ["tppo"],
        "risk": "tinggi",
        "victims": [
            {
                "key": "v1",
                "sex": "P",
                "birth_date": "2008-02-10",
                "violence_types": ["trafficking", "eksploitasi"],
                "tppo": {
                    "proses": ["perekrutan", "pengiriman"],
                    "cara": ["penipuan", "jeratan_utang"],
                    "tujuan": ["kerja_paksa"],
                    "cross_border": True,
                    "destination_country": "Malaysia",
                    "documents": "paspor ditahan agen",
                },
            }
        ],
        "perpetrators": [{"sex": "L", "relationship": {"v1": "agen_penyalur"}}],
        "status": "identifikasi",
    }
    assert run(line(record)).rejected == []
    case = case_by_external_id("tppo-1")
    assert case.workflow_key == "tppo"
    victim_row = case.victims[0]
    assert victim_row.is_child and victim_row.age_at_incident == 17
    assert victim_row.tppo_destination_country == "Malaysia"
    assert victim_row.tppo_cara == ["penipuan", "jeratan_utang"]
