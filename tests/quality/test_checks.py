"""Each data-quality check with a case that fails it and one that passes; duplicates are found
through the blind indexes only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.cases.intake import VictimData
from app.core.db import utcnow
from app.core.enums import IncidentPlace, Risk
from app.extensions import db
from app.quality.checks import (
    TIMELINESS_DAYS,
    check_case,
    completeness_issues,
    duplicate_matches,
    timeliness_issues,
    uniqueness_issues,
    validity_issues,
)
from tests.factories import AgencyFactory
from tests.factories.cases import RECEIVED, create_case


def victim(name: str = "Siti Aminah", **overrides: Any) -> VictimData:
    values: dict[str, Any] = {
        "sex": "P",
        "name": name,
        "birth_date": dt.date(1994, 5, 1),
        "violence_types": ["fisik"],
    }
    values.update(overrides)
    return VictimData(**values)


def good_case(agency: Any, *, name: str = "Siti Aminah", **overrides: Any) -> Any:
    """A registered case with everything the indicators need, entered on time."""
    overrides.setdefault("victims", [victim(name)])
    case = create_case(agency, incident_region_code=agency.region.code, **overrides)
    case.created_at = case.received_at + dt.timedelta(hours=2)
    db.session.flush()
    return case


def codes(issues: list[Any]) -> set[str]:
    return {i.code for i in issues}


def test_a_complete_timely_unique_case_has_no_issue(agency: Any) -> None:
    assert check_case(good_case(agency)) == []


# --- completeness ------------------------------------------------------------------------------


def _no_risk(c: Any) -> None:
    c.risk = None


def _no_types(c: Any) -> None:
    c.types.clear()


def _no_incident_date(c: Any) -> None:
    c.incident_date = None


def _no_place(c: Any) -> None:
    c.incident_place = None


def _no_region(c: Any) -> None:
    c.incident_region_id = None


def _no_victims(c: Any) -> None:
    c.victims.clear()


def _no_sex(c: Any) -> None:
    c.victims[0].sex = None


def _no_age(c: Any) -> None:
    c.victims[0].birth_date = None
    c.victims[0].age_at_incident = None


def _no_violence(c: Any) -> None:
    c.victims[0].violence_types.clear()


def _no_disability(c: Any) -> None:
    c.victims[0].disability = None


def _no_relationship(c: Any) -> None:
    c.perpetrators[0].relations.clear()


@pytest.mark.parametrize(
    ("breaks", "code", "field"),
    [
        (_no_risk, "completeness.risk", "risk"),
        (_no_types, "completeness.case_types", "case_types"),
        (_no_incident_date, "completeness.incident_date", "incident_date"),
        (_no_place, "completeness.incident_place", "incident_place"),
        (_no_region, "completeness.incident_region", "incident_region_code"),
        (_no_victims, "completeness.victims", "victims"),
        (_no_sex, "completeness.victim_sex", "victims-0-sex"),
        (_no_age, "completeness.victim_age", "victims-0-age"),
        (_no_violence, "completeness.victim_violence_types", "victims-0-violence_types"),
        (_no_disability, "completeness.victim_disability", "victims-0-disability"),
        (_no_relationship, "completeness.relationship", "perpetrators-0-relationships"),
    ],
)
def test_completeness(agency: Any, breaks: Any, code: str, field: str) -> None:
    case = good_case(agency)
    assert code not in codes(completeness_issues(case))
    with db.session.no_autoflush:
        breaks(case)  # in memory only: the intake rules would refuse some of these
        issues = [i for i in completeness_issues(case) if i.code == code]
    assert [i.field for i in issues] == [field]
    assert issues[0].kind == "completeness" and issues[0].blocking
    assert "Siti" not in str(issues[0].message)


def test_age_alone_is_enough(agency: Any) -> None:
    case = good_case(agency, victims=[victim(birth_date=None, age=30)])
    assert completeness_issues(case) == []


def test_relationship_missing_for_one_of_two_victims(agency: Any) -> None:
    case = good_case(agency, victims=[victim("Siti Aminah"), victim("Rina Wati")])
    # the default perpetrator is related to victim 1 only
    issues = [i for i in completeness_issues(case) if i.code == "completeness.relationship"]
    assert len(issues) == 1
    assert "P1" in str(issues[0].message) and "K2" in str(issues[0].message)


# --- validity ----------------------------------------------------------------------------------


def test_a_good_case_is_valid(agency: Any) -> None:
    assert validity_issues(good_case(agency)) == []


def test_incident_after_registration(agency: Any) -> None:
    case = good_case(agency)
    case.incident_date = RECEIVED.date() + dt.timedelta(days=1)
    assert codes(validity_issues(case)) == {"validity.incident_after_registration"}
    case.incident_date = RECEIVED.date()  # the same day is fine
    assert validity_issues(case) == []


def test_birth_after_incident(agency: Any) -> None:
    case = good_case(agency)
    case.victims[0].birth_date = case.incident_date + dt.timedelta(days=1)
    issues = validity_issues(case)
    assert codes(issues) == {"validity.birth_after_incident"}
    assert issues[0].field == "victims-0-birth_date"


def test_age_inconsistent_with_birth_date(agency: Any) -> None:
    case = good_case(agency)  # born 1994-05-01, incident 2025-03-10: 30 years old
    assert case.victims[0].age_at_incident == 30
    case.victims[0].age_at_incident = 25
    issues = validity_issues(case)
    assert codes(issues) == {"validity.age_mismatch"}
    assert issues[0].field == "victims-0-age"
    # the day as people read it ("10 Mar 2025"), not ISO
    assert "30" in str(issues[0].message) and "10 Mar 2025" in str(issues[0].message)


def test_registration_in_the_future(agency: Any) -> None:
    case = good_case(agency)
    now = utcnow()
    case.received_at = now + dt.timedelta(days=1)
    assert "validity.received_in_future" in codes(validity_issues(case, now=now))
    case.received_at = now + dt.timedelta(minutes=1)  # clock skew is tolerated
    assert "validity.received_in_future" not in codes(validity_issues(case, now=now))


# --- timeliness --------------------------------------------------------------------------------


def test_entered_within_the_limit_is_timely(agency: Any) -> None:
    case = good_case(agency)
    case.created_at = case.received_at + dt.timedelta(days=TIMELINESS_DAYS)
    assert timeliness_issues(case) == []


def test_entered_after_the_limit_is_late(agency: Any) -> None:
    case = good_case(agency)
    case.created_at = case.received_at + dt.timedelta(days=TIMELINESS_DAYS, minutes=1)
    issues = timeliness_issues(case)
    assert codes(issues) == {"timeliness.late_entry"}
    assert not issues[0].blocking
    assert "4" in str(issues[0].message)


# --- uniqueness --------------------------------------------------------------------------------


def test_same_name_and_birth_date_within_30_days(agency: Any) -> None:
    first = good_case(agency, name="Siti Aminah")
    second = good_case(agency, name="  siti AMINAH ", received_at=RECEIVED + dt.timedelta(days=20))
    issues = uniqueness_issues(second)
    assert codes(issues) == {"uniqueness.duplicate_name_dob"}
    assert first.reference in str(issues[0].message)
    assert "Siti" not in str(issues[0].message)
    assert codes(uniqueness_issues(first)) == {"uniqueness.duplicate_name_dob"}


def test_same_nik_within_30_days(agency: Any) -> None:
    nik = "3273010101940001"
    good_case(agency, victims=[victim("Siti Aminah", nik=nik)])
    other = good_case(
        agency,
        victims=[victim("Ani Lestari", birth_date=dt.date(1990, 1, 1), nik=nik)],
        received_at=RECEIVED + dt.timedelta(days=5),
    )
    assert codes(uniqueness_issues(other)) == {"uniqueness.duplicate_nik"}


@pytest.mark.parametrize(
    "setup",
    ["other_agency", "more_than_30_days", "other_birth_date", "draft", "closed_as_duplicate"],
)
def test_not_a_duplicate(agency: Any, setup: str) -> None:
    case = good_case(agency)
    if setup == "other_agency":
        good_case(AgencyFactory())
    elif setup == "more_than_30_days":
        good_case(agency, received_at=RECEIVED + dt.timedelta(days=31))
    elif setup == "other_birth_date":
        good_case(agency, victims=[victim(birth_date=dt.date(1994, 5, 2))])
    elif setup == "draft":
        create_case(agency, draft=True, victims=[victim()])
    else:
        other = good_case(agency)
        other.duplicate_of_id = case.id
        db.session.flush()
    assert uniqueness_issues(case) == []


def test_matching_uses_the_blind_indexes_not_the_plaintext(agency: Any) -> None:
    nik = "3273010101940001"
    case = good_case(agency, victims=[victim(nik=nik)])
    other = good_case(agency, victims=[victim(nik=nik)])
    # one issue per pair of victims, the NIK named first
    assert codes(uniqueness_issues(case)) == {"uniqueness.duplicate_nik"}
    other.victims[0].nik_index = "1" * 64  # the same NIK in plaintext, another index value
    db.session.flush()
    assert codes(uniqueness_issues(case)) == {"uniqueness.duplicate_name_dob"}
    other.victims[0].name_index = "0" * 64
    db.session.flush()
    assert uniqueness_issues(case) == []
    # the same index value under another plaintext name: a match
    other.victims[0].name_index = case.victims[0].name_index
    other.victims[0].name = "Nama Lain Sama Sekali"
    db.session.flush()
    assert codes(uniqueness_issues(case)) == {"uniqueness.duplicate_name_dob"}


def test_check_case_lists_every_kind(agency: Any) -> None:
    good_case(agency, name="Siti Aminah")
    case = good_case(agency, name="Siti Aminah", incident_place=None)
    case.created_at = case.received_at + dt.timedelta(days=10)
    case.victims[0].age_at_incident = 20
    db.session.flush()
    kinds = [i.kind for i in check_case(case)]
    assert kinds == ["timeliness", "completeness", "uniqueness", "validity"]


def test_enum_values_are_kept(agency: Any) -> None:
    case = good_case(agency)
    assert case.risk is Risk.SEDANG and case.incident_place is IncidentPlace.RUMAH_TANGGA


def test_a_guardian_consent_without_a_name_is_a_finding_until_recorded_again_with_it(
    agency: Any,
) -> None:
    """An imported history may hold a guardian's decision without the guardian's name
    (interfaces.md §3): the case shows it, and the decision recorded again with the name (the
    ledger is append-only) settles it."""
    from app.cases.models import ConsentEntry

    case = good_case(agency)
    v = case.victims[0]
    at = case.received_at + dt.timedelta(minutes=5)
    db.session.add(
        ConsentEntry(
            victim_id=v.id, purpose="pelaporan_statistik", decision="setuju", given_by="wali", at=at
        )
    )
    db.session.flush()
    db.session.expire(v, ["consents"])
    issues = [i for i in completeness_issues(case) if i.code == "completeness.guardian_name"]
    assert [i.field for i in issues] == [f"victims-0-consents-{len(v.consents) - 1}-given_by_name"]

    db.session.add(
        ConsentEntry(
            victim_id=v.id,
            purpose="pelaporan_statistik",
            decision="setuju",
            given_by="wali",
            given_by_name="Ibu Ratna",
            at=at + dt.timedelta(hours=1),
        )
    )
    db.session.flush()
    db.session.expire(v, ["consents"])
    assert "completeness.guardian_name" not in codes(completeness_issues(case))


def test_a_batch_lists_each_victims_matches_nik_first_then_by_registration(agency: Any) -> None:
    nik = "3273010101940001"
    boy = {"sex": "L", "birth_date": dt.date(2012, 7, 9)}
    first = good_case(agency, victims=[victim(nik=nik), victim("Budi Santoso", **boy)])
    same_nik = good_case(
        agency, victims=[victim(nik=nik)], received_at=RECEIVED + dt.timedelta(days=5)
    )
    namesake = good_case(agency, received_at=RECEIVED + dt.timedelta(days=10))
    brother = good_case(
        agency,
        victims=[victim("Budi Santoso", **boy)],
        received_at=RECEIVED + dt.timedelta(days=2),
    )
    elsewhere = good_case(AgencyFactory())
    later = good_case(agency, received_at=RECEIVED + dt.timedelta(days=45))
    batch = [first, same_nik, namesake, brother, elsewhere, later]
    found = duplicate_matches(batch)
    # the pair matched on both NIK and name is listed once, as a NIK match
    assert [(m.victim_position, m.other_case_id, m.matched_on) for m in found[first.id]] == [
        (1, same_nik.id, "nik"),
        (1, namesake.id, "name_dob"),
        (2, brother.id, "name_dob"),
    ]
    assert [(m.other_case_id, m.matched_on) for m in found[same_nik.id]] == [
        (first.id, "nik"),
        (namesake.id, "name_dob"),
    ]
    assert [m.other_case_id for m in found[namesake.id]] == [first.id, same_nik.id]
    assert [m.other_reference for m in found[brother.id]] == [first.reference]
    assert elsewhere.id not in found and later.id not in found
    # one case at a time finds the same
    for case in batch:
        assert duplicate_matches([case]).get(case.id, []) == found.get(case.id, [])
