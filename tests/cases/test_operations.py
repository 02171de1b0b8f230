"""The intake rules and the writers of the case record, below the form and the import."""

import datetime as dt

import pytest

from app.audit.models import AuditEntry
from app.cases import operations as ops
from app.cases.intake import ConsentData, GuardianData, PerpetratorData, VictimData, check_intake
from app.cases.models import Case, ConsentEntry, Person, Victim
from app.core.enums import CaseState, Role
from app.core.errors import DomainError
from app.extensions import db
from app.notifications.models import Notification
from app.workflow import registration
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case, make_intake

NOW = dt.datetime(2025, 3, 20, tzinfo=dt.UTC)


def paths(intake, **kwargs):
    return {p.path for p in check_intake(intake, now=NOW, **kwargs)}


def child(**overrides):
    values = {
        "sex": "P",
        "name": "Ani",
        "birth_date": dt.date(2012, 1, 1),
        "violence_types": ["seksual"],
    }
    values.update(overrides)
    return VictimData(**values)


def test_a_complete_intake_breaks_no_rule():
    assert paths(make_intake()) == set()


def test_incident_after_registration_is_refused():
    assert "incident_date" in paths(make_intake(incident_date=dt.date(2025, 3, 15)))


def test_registration_in_the_future_is_refused():
    assert "received_at" in paths(make_intake(received_at=NOW + dt.timedelta(days=1)))


def test_ampk_categories_on_an_adult_are_refused():
    intake = make_intake(
        victims=[VictimData(sex="P", age=25, violence_types=["fisik"], ampk_categories=["napza"])]
    )
    assert "victims-0-ampk_categories" in paths(intake)


def test_ampk_categories_on_a_child_are_accepted():
    intake = make_intake(
        case_types=["kta", "ampk"], victims=[child(ampk_categories=["kejahatan_seksual"])]
    )
    assert paths(intake) == set()


def test_birth_date_and_age_must_agree():
    intake = make_intake(
        victims=[
            VictimData(sex="P", birth_date=dt.date(1994, 5, 1), age=25, violence_types=["fisik"])
        ]
    )
    assert "victims-0-age" in paths(intake)


def test_age_counts_on_the_incident_day():
    # 18 on the incident day: an adult (perempuan), not a child
    intake = make_intake(
        victims=[
            VictimData(sex="P", birth_date=dt.date(2007, 3, 10), age=18, violence_types=["fisik"])
        ]
    )
    assert paths(intake) == set()


def test_consent_by_the_alleged_perpetrator_for_a_child_is_refused():
    consent = ConsentData(
        purpose="layanan", decision="setuju", given_by="wali", given_by_name="Pak Joko", at=RECEIVED
    )
    intake = make_intake(
        case_types=["kta"],
        victims=[
            child(
                guardians=[GuardianData(name="Pak Joko", relation="ayah", perpetrator_position=1)],
                consents=[consent],
            )
        ],
        perpetrators=[
            PerpetratorData(name="Joko", sex="L", age=40, relationships={1: "orang_tua"})
        ],
    )
    assert "victims-0-consents-0-given_by" in paths(intake)


def test_consent_by_a_guardian_named_like_the_perpetrator_is_refused():
    consent = ConsentData(
        purpose="layanan", decision="setuju", given_by="wali", given_by_name="joko", at=RECEIVED
    )
    intake = make_intake(case_types=["kta"], victims=[child(consents=[consent])])
    assert "victims-0-consents-0-given_by" in paths(intake)


def test_consent_by_the_other_parent_is_accepted():
    consent = ConsentData(
        purpose="layanan", decision="setuju", given_by="wali", given_by_name="Bu Sri", at=RECEIVED
    )
    intake = make_intake(case_types=["kta"], victims=[child(consents=[consent])])
    assert paths(intake) == set()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"channel": None}, "channel"),
        ({"channel": "pos_merpati"}, "channel"),
        ({"case_types": []}, "case_types"),
        ({"case_types": ["ktp", "xyz"]}, "case_types"),
        ({"risk": None}, "risk"),
        ({"victims": []}, "victims"),
        ({"incident_place": "pasar"}, "incident_place"),
        ({"reporter_kind": "pihak_ketiga"}, "reporter_name"),
    ],
)
def test_missing_or_unknown_values_are_refused(change, path):
    assert path in paths(make_intake(**change))


@pytest.mark.parametrize(
    ("victim", "path"),
    [
        ({"sex": None}, "victims-0-sex"),
        ({"sex": "X"}, "victims-0-sex"),
        ({"nik": "12345"}, "victims-0-nik"),
        ({"violence_types": []}, "victims-0-violence_types"),
        ({"violence_types": ["verbal"]}, "victims-0-violence_types"),
        ({"birth_date": None, "age": None}, "victims-0-age"),
        ({"sex": "L", "pregnant": True}, "victims-0-pregnant"),
        ({"tppo_cara": ["sihir"]}, "victims-0-tppo_cara"),
    ],
)
def test_victim_rules(victim, path):
    values = {"sex": "P", "birth_date": dt.date(1994, 5, 1), "violence_types": ["fisik"]}
    values.update(victim)
    assert path in paths(make_intake(victims=[VictimData(**values)]))


def test_a_draft_needs_only_what_identifies_it():
    intake = make_intake(case_types=[], risk=None, victims=[VictimData(sex="P")])
    assert paths(intake, draft=True) == set()
    assert paths(intake, draft=False) >= {"case_types", "risk", "victims-0-age"}


def test_register_refuses_and_writes_nothing():
    agency = AgencyFactory()
    before = db.session.query(Case).count()
    with pytest.raises(DomainError) as info:
        registration.register_case(
            make_intake(incident_date=dt.date(2026, 1, 1)),
            agency=agency,
            actor=UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)]),
        )
    assert info.value.field == "incident_date"
    assert db.session.query(Case).count() == before


def test_register_writes_people_consents_and_audit():
    agency = AgencyFactory(code="UPTDPPA-7101")
    user = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    case = create_case(agency, actor=user)
    victim = case.victims[0]
    assert victim.name_index and victim.person_id
    assert [c.purpose for c in victim.consents] == ["layanan"]
    assert victim.consents[0].recorded_by_id == user.id
    assert case.perpetrators[0].relations[0].victim_id == victim.id
    entry = (
        db.session.query(AuditEntry).filter_by(action="case.register", object_id=str(case.id)).one()
    )
    assert entry.actor_id == user.id and "Siti" not in str(entry.changes)


def test_references_are_per_agency_and_jakarta_year():
    a, b = AgencyFactory(code="UPTDPPA-A"), AgencyFactory(code="UPTDPPA-B")
    assert create_case(a).reference == "UPTDPPA-A-2025-00001"
    assert create_case(b).reference == "UPTDPPA-B-2025-00001"
    new_year_jakarta = dt.datetime(2025, 12, 31, 17, 30, tzinfo=dt.UTC)  # 00:30 WIB 1 Jan 2026
    late = create_case(a, received_at=new_year_jakarta, incident_date=dt.date(2025, 12, 30))
    assert late.reference == "UPTDPPA-A-2026-00001"
    assert create_case(a).reference == "UPTDPPA-A-2025-00002"


def test_high_risk_case_notifies_the_supervisors_of_the_agency():
    agency, other = AgencyFactory(), AgencyFactory()
    boss = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    stranger = UserFactory(roles=[(Role.SUPERVISOR, other)])
    case = create_case(agency, risk="tinggi")
    notes = db.session.query(Notification).filter_by(case_id=case.id).all()
    assert [n.user_id for n in notes] == [boss.id]
    assert notes[0].reference == case.reference
    assert stranger.id not in {n.user_id for n in notes}
    assert create_case(agency, risk="rendah") and db.session.query(Notification).count() == 1


def test_draft_then_submit():
    agency = AgencyFactory()
    user = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    draft = registration.register_case(
        make_intake(case_types=[], risk=None), agency=agency, actor=user, draft=True
    )
    assert draft.reference is None
    with pytest.raises(DomainError):
        registration.submit_draft(
            draft, make_intake(case_types=[]), expected_version=draft.version, actor=user
        )
    registration.submit_draft(draft, make_intake(), expected_version=draft.version, actor=user)
    assert draft.state is CaseState.DITERIMA and draft.reference.endswith("-00001")


def test_stale_edit_is_refused_with_what_changed():
    agency = AgencyFactory()
    first, second = UserFactory(), UserFactory()
    case = create_case(agency)
    loaded_version = case.version
    ops.update_case(
        case,
        make_intake(risk="tinggi", kronologi="Diperbarui."),
        expected_version=loaded_version,
        actor=first,
    )
    with pytest.raises(ops.ConflictError) as info:
        ops.update_case(
            case, make_intake(risk="rendah"), expected_version=loaded_version, actor=second
        )
    assert info.value.changes["risk"] == ["sedang", "tinggi"]
    assert case.risk.value == "tinggi"


def test_linking_a_victim_to_an_existing_person():
    agency = AgencyFactory()
    first = create_case(agency)
    person_id = first.victims[0].person_id
    linked = create_case(
        agency,
        victims=[
            VictimData(
                sex="P",
                name="Siti Aminah",
                birth_date=dt.date(1994, 5, 1),
                violence_types=["psikis"],
                link_person_id=person_id,
            )
        ],
    )
    assert linked.victims[0].person_id == person_id
    other_agency_person = create_case(AgencyFactory()).victims[0].person_id
    with pytest.raises(DomainError):
        create_case(
            agency,
            victims=[
                VictimData(
                    sex="P", age=30, violence_types=["fisik"], link_person_id=other_agency_person
                )
            ],
        )
    assert db.session.query(Person).filter_by(agency_id=agency.id).count() == 1


def test_consent_ledger_is_append_only_and_latest_wins():
    case = create_case(AgencyFactory())
    victim = case.victims[0]
    ops.add_consent(
        victim,
        ConsentData(
            purpose="pelaporan_statistik", decision="setuju", given_by="korban", at=RECEIVED
        ),
        actor=UserFactory(),
    )
    ops.add_consent(
        victim,
        ConsentData(
            purpose="pelaporan_statistik",
            decision="menolak",
            given_by="korban",
            at=RECEIVED + dt.timedelta(days=1),
        ),
        actor=UserFactory(),
    )
    db.session.expire(victim)
    assert victim.consent_for("pelaporan_statistik").decision.value == "menolak"
    assert db.session.query(ConsentEntry).filter_by(victim_id=victim.id).count() == 3


def test_consent_by_perpetrator_refused_when_added_later():
    case = create_case(AgencyFactory())
    with pytest.raises(DomainError):
        ops.add_consent(
            case.victims[0],
            ConsentData(
                purpose="dokumentasi",
                decision="setuju",
                given_by="wali",
                given_by_name="Joko",
                at=RECEIVED,
            ),
            actor=UserFactory(),
        )


def test_notes_are_corrected_by_new_notes():
    case = create_case(AgencyFactory())
    user = UserFactory()
    note = ops.add_note(case, "Korban dirujuk ke RSUD", actor=user)
    fix = ops.add_note(case, "Korban dirujuk ke Puskesmas", actor=user, corrects=note)
    assert fix.corrects_id == note.id and note.body == "Korban dirujuk ke RSUD"
    with pytest.raises(DomainError):
        ops.add_note(case, "   ", actor=user)
    other = create_case(AgencyFactory())
    with pytest.raises(DomainError):
        ops.add_note(other, "x", actor=user, corrects=note)


def test_children_are_flagged_and_initials_mask_names():
    case = create_case(AgencyFactory(), case_types=["kta"], victims=[child(name="Ani Lestari")])
    victim: Victim = case.victims[0]
    assert victim.is_child and victim.age_at_incident == 13
    assert victim.initials == "A.L."


def test_editing_keeps_the_consent_ledger_and_does_not_repeat_it():
    case = create_case(AgencyFactory())
    victim_id = case.victims[0].id
    ops.update_case(
        case,
        make_intake(kronologi="Ditambah keterangan."),
        expected_version=case.version,
        actor=UserFactory(),
    )
    assert case.victims[0].id == victim_id
    assert db.session.query(ConsentEntry).filter_by(victim_id=victim_id).count() == 1


def test_a_registered_victim_with_consents_cannot_be_removed():
    case = create_case(AgencyFactory())
    second = VictimData(sex="L", age=10, violence_types=["psikis"])
    ops.update_case(
        case,
        make_intake(case_types=["ktp", "kta"], victims=[make_intake().victims[0], second]),
        expected_version=case.version,
        actor=UserFactory(),
    )
    assert len(case.victims) == 2
    # the second victim has no consent yet: removing it is allowed
    ops.update_case(case, make_intake(), expected_version=case.version, actor=UserFactory())
    assert len(case.victims) == 1
    # victim 1 has a consent entry: sending only another victim (by id) removes it - refused
    ops.update_case(
        case,
        make_intake(case_types=["ktp", "kta"], victims=[make_intake().victims[0], second]),
        expected_version=case.version,
        actor=UserFactory(),
    )
    other = case.victims[1]
    keep_other = VictimData(sex="L", age=10, violence_types=["psikis"], id=other.id)
    with pytest.raises(DomainError) as info:
        ops.update_case(
            case,
            make_intake(case_types=["kta"], victims=[keep_other]),
            expected_version=case.version,
            actor=UserFactory(),
        )
    assert info.value.field == "victims"


def test_reordering_victims_by_id_keeps_their_rows():
    case = create_case(
        AgencyFactory(),
        case_types=["ktp", "kta"],
        victims=[
            VictimData(sex="P", age=30, violence_types=["fisik"]),
            VictimData(sex="L", age=9, violence_types=["psikis"]),
        ],
    )
    first, second = case.victims
    a, b = (
        VictimData(sex="L", age=9, violence_types=["psikis"], id=second.id),
        VictimData(sex="P", age=30, violence_types=["fisik"], id=first.id),
    )
    ops.update_case(
        case,
        make_intake(case_types=["ktp", "kta"], victims=[a, b], perpetrators=[]),
        expected_version=case.version,
        actor=UserFactory(),
    )
    assert (second.position, first.position) == (1, 2)


def test_the_audit_trail_never_holds_the_narrative_and_conflicts_name_people_changes():
    from app.audit.models import AuditEntry

    case = create_case(AgencyFactory(), kronologi="Rahasia: kejadian di rumah.")
    loaded = case.version
    ops.update_case(
        case,
        make_intake(kronologi="Rahasia yang lain, lebih panjang."),
        expected_version=loaded,
        actor=UserFactory(),
    )
    entries = db.session.query(AuditEntry).filter_by(object_id=str(case.id)).all()
    assert all("Rahasia" not in str(e.changes) for e in entries)
    added = VictimData(sex="L", age=9, violence_types=["psikis"])
    with pytest.raises(ops.ConflictError) as info:
        ops.update_case(
            case,
            make_intake(victims=[make_intake().victims[0], added]),
            expected_version=loaded,
            actor=UserFactory(),
        )
    assert "kronologi" in info.value.changes
