"""Every intake rule through the HTTP form: a bad input is refused (422) with its message, in the
user's language, right under the field it concerns, listed at the top of the page, and nothing
is written. Then the pure pieces of the form: rows removed, blank rows left out, paths mapped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from app.audit.models import AuditEntry
from app.cases.models import Person
from app.core.enums import Role
from app.extensions import db
from app.intake.forms import (
    IntakeForm,
    form_to_intake,
    jakarta_to_utc,
    remove_row,
)
from tests.cases.test_intake_views import (
    NEW,
    case_count,
    errors_of,
    msg,
    posting,
    text_of,
    value_of,
)
from tests.factories import AgencyFactory, UserFactory
from tests.fixtures import login_as

CHILD = {
    "case_types": ["kta"],
    "victims__0__name": "Ani",
    "victims__0__birth_date": "2012-01-01",
    "victims__0__violence_types": ["seksual"],
    "perpetrators__0__relationships__0": "orang_tua",
}
GUARDIAN_IS_P1 = {
    "victims__0__guardians__0__name": "Joko Susilo",
    "victims__0__guardians__0__relation": "Ayah",
    "victims__0__guardians__0__perpetrator": "1",
    "victims__0__consents__0__given_by": "wali",
    "victims__0__consents__0__given_by_name": "Joko Susilo",
}
PERPETRATOR_DECIDES = {
    "victims__0__consents__0__given_by": "wali",
    "victims__0__consents__0__given_by_name": "JOKO",  # the perpetrator's name, any case
}

PERPETRATOR_CONSENT = (
    "The guardian who is the alleged perpetrator cannot give consent for the victim."
)
UNKNOWN = "Choose a value from the list."
REQUIRED = "This field is required."

RULES = [
    pytest.param(
        {"incident_date": "2025-03-15"},
        "incident_date",
        ("The incident cannot be after the complaint was registered.", {}),
        id="incident-after-registration",
    ),
    pytest.param(
        {"victims__0__ampk_categories": ["napza"]},
        "victims-0-ampk_categories",
        ("Special-protection (AMPK) categories apply only to children under 18.", {}),
        id="ampk-on-an-adult",
    ),
    pytest.param(
        {"case_types": ["ktp", "ampk"]},
        "case_types",
        ("An AMPK case needs a child victim.", {}),
        id="ampk-case-without-a-child",
    ),
    pytest.param(
        {"victims__0__age": "25"},
        "victims-0-age",
        (
            "The age does not match the birth date: on %(day)s the victim was %(n)d years old.",
            {"day": "10 Mar 2025", "n": 30},
        ),
        id="birth-date-and-age-disagree",
    ),
    pytest.param(
        {"victims__0__birth_date": "2025-03-12"},
        "victims-0-birth_date",
        ("The birth date is after the incident.", {}),
        id="born-after-the-incident",
    ),
    pytest.param(
        {**CHILD, **GUARDIAN_IS_P1},
        "victims-0-consents-0-given_by",
        (PERPETRATOR_CONSENT, {}),
        id="child-consent-by-guardian-marked-perpetrator",
    ),
    pytest.param(
        {**CHILD, **PERPETRATOR_DECIDES},
        "victims-0-consents-0-given_by",
        (PERPETRATOR_CONSENT, {}),
        id="child-consent-by-the-perpetrators-name",
    ),
    pytest.param(
        {"victims__0__consents__0__given_by": "wali"},
        "victims-0-consents-0-given_by_name",
        ("Name the guardian who decided.", {}),
        id="guardian-consent-without-a-name",
    ),
    pytest.param(
        {"victims__0__sex": None},
        "victims-0-sex",
        ("Choose the victim's sex.", {}),
        id="no-victim-sex",
    ),
    pytest.param(
        {"case_types": None}, "case_types", ("Choose at least one case type.", {}), id="no-type"
    ),
    pytest.param({"risk": None}, "risk", ("Choose the risk level.", {}), id="no-risk"),
    pytest.param({"channel": ""}, "channel", (REQUIRED, {}), id="no-channel"),
    pytest.param({"received_at": ""}, "received_at", (REQUIRED, {}), id="no-registration-time"),
    pytest.param(
        {"victims__0__birth_date": ""},
        "victims-0-age",
        ("Give the birth date or the age at the incident.", {}),
        id="neither-birth-date-nor-age",
    ),
    pytest.param(
        {"victims__0__violence_types": None},
        "victims-0-violence_types",
        ("Choose at least one type of violence.", {}),
        id="no-violence-type",
    ),
    pytest.param(
        {"victims__0__nik": "12345"},
        "victims-0-nik",
        ("A NIK has exactly 16 digits.", {}),
        id="bad-nik",
    ),
    pytest.param(
        {"victims__0__sex": "L", "victims__0__pregnant": "1"},
        "victims-0-pregnant",
        ("Only a female victim can be pregnant.", {}),
        id="pregnant-male",
    ),
    pytest.param(
        {"reporter_kind": "pihak_ketiga"},
        "reporter_name",
        ("Give the name of the person reporting.", {}),
        id="third-party-reporter-without-a-name",
    ),
    pytest.param(
        {"incident_region_code": "99.99"},
        "incident_region_code",
        ("Unknown region code.", {}),
        id="unknown-region",
    ),
    pytest.param({"risk": "sangat_tinggi"}, "risk", (UNKNOWN, {}), id="unknown-risk"),
    pytest.param({"channel": "merpati_pos"}, "channel", (UNKNOWN, {}), id="unknown-channel"),
    pytest.param(
        {"victims__0__violence_types": ["fisik", "santet"]},
        "victims-0-violence_types",
        (UNKNOWN, {}),
        id="unknown-violence-type",
    ),
    pytest.param(
        {"perpetrators__0__relationships__0": "musuh"},
        "perpetrators-0-relationships",
        (UNKNOWN, {}),
        id="unknown-relationship",
    ),
    pytest.param(
        {"victims__0__consents__0__decision": "mungkin"},
        "victims-0-consents-0-decision",
        (UNKNOWN, {}),
        id="unknown-consent-decision",
    ),
    pytest.param(
        {"victims__0__consents__0__purpose": "jualan"},
        "victims-0-consents-0-purpose",
        ("Unknown consent purpose.", {}),
        id="unknown-consent-purpose",
    ),
    pytest.param(
        {"victims__0__guardians__0__name": "Rina", "victims__0__guardians__0__perpetrator": "7"},
        "victims-0-guardians-0-perpetrator",
        ("Unknown perpetrator.", {}),
        id="guardian-names-a-missing-perpetrator",
    ),
    pytest.param(
        {"victims__0__guardians__0__relation": "Bibi"},
        "victims-0-guardians-0-name",
        (REQUIRED, {}),
        id="guardian-without-a-name",
    ),
    pytest.param(
        {"witnesses__0__phone": "08123456789"},
        "witnesses-0-name",
        (REQUIRED, {}),
        id="witness-without-a-name",
    ),
    pytest.param(
        {"perpetrators__0__age": "130"},
        "perpetrators-0-age",
        ("Enter an age between 0 and 120.", {}),
        id="perpetrator-age",
    ),
    # what the form itself cannot read
    pytest.param(
        {"incident_date": "kemarin"},
        "incident_date",
        ("Enter a date, e.g. 14-03-2025.", {}),
        id="unreadable-date",
    ),
    pytest.param(
        {"received_at": "besok pagi"},
        "received_at",
        ("Enter a date and time, e.g. 14-03-2025 09:30.", {}),
        id="unreadable-time",
    ),
    pytest.param(
        {"victims__0__age": "tiga puluh", "victims__0__birth_date": ""},
        "victims-0-age",
        ("Enter a whole number.", {}),
        id="unreadable-age",
    ),
    pytest.param(
        {"witnesses__0__name": "R" * 201},
        "witnesses-0-name",
        ("At most %(n)d characters.", {"n": 200}),
        id="too-long",
    ),
]


@pytest.fixture
def officer_client(client: Any) -> Any:
    agency = AgencyFactory(code="UPTDPPA-3273")
    login_as(client, UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)]))
    return client


@pytest.mark.parametrize(("changes", "field", "message"), RULES)
@pytest.mark.parametrize("action", ["register", "save_draft"])
def test_a_broken_rule_is_shown_at_its_field_and_nothing_is_written(
    officer_client, changes, field, message, action
):
    text, values = message
    drafts_may = text in (
        "Choose at least one case type.",
        "Choose the risk level.",
        "Give the birth date or the age at the incident.",
        "Choose at least one type of violence.",
        "An AMPK case needs a child victim.",  # needs case types, which a draft may lack
    )
    persons, audit = db.session.query(Person).count(), written()
    response = officer_client.post(NEW, data=posting(action=action, **changes))
    if action == "save_draft" and drafts_may:
        # a draft may be incomplete; saving one is the only thing that happens
        assert response.status_code in (302, 422)
        if response.status_code == 422:
            assert msg(text, **values) in errors_of(response.get_data(as_text=True), field)
        return
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = msg(text, **values)
    assert expected in errors_of(page, field)
    # the list at the top links to the field
    assert f'href="#{field}"' in page and expected in (text_of(page, "intake-errors") or "")
    assert case_count() == 0
    assert db.session.query(Person).count() == persons
    assert written() == audit


def written() -> int:
    """Audit entries of work done. The duplicate check the form ran is recorded whatever the
    answer (its result is shown on the refused form too): not work, left out."""
    return db.session.query(AuditEntry).where(AuditEntry.action != "case.duplicate_check").count()


def test_what_was_typed_stays_after_a_refusal(officer_client):
    response = officer_client.post(NEW, data=posting(incident_date="2025-03-15"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert value_of(page, "victims-0-name") == "Siti Aminah"
    assert value_of(page, "incident_date") == "2025-03-15"
    assert value_of(page, "risk") == "sedang"
    assert value_of(page, "victims-0-consents-0-decision") == "setuju"


def test_an_unreadable_date_is_shown_as_typed(officer_client):
    page = officer_client.post(NEW, data=posting(incident_date="10/03/20x5")).get_data(as_text=True)
    assert value_of(page, "incident_date") == "10/03/20x5"


def test_every_rule_broken_at_once_is_reported_at_once(officer_client):
    changes = {
        "case_types": None,
        "risk": None,
        "victims__0__sex": None,
        "victims__0__nik": "12",
        "incident_date": "2025-03-15",
    }
    page = officer_client.post(NEW, data=posting(**changes)).get_data(as_text=True)
    for field in ("case_types", "risk", "victims-0-sex", "victims-0-nik", "incident_date"):
        assert errors_of(page, field), field


def test_a_problem_in_a_folded_section_opens_it(officer_client):
    page = officer_client.post(NEW, data=posting(victims__0__nik="12")).get_data(as_text=True)
    section = page[: page.index('id="victims-0-nik"')]
    assert section.rindex("<details") > section.rindex("</details>")  # inside an open details
    assert section[section.rindex("<details") :].split(">")[0].endswith(" open")


def test_a_nik_written_in_groups_is_read(officer_client):
    response = officer_client.post(NEW, data=posting(victims__0__nik="3273 0141-0594.0001"))
    assert response.status_code == 302
    assert db.session.query(Person).count() == 1


# --- the pure pieces ---------------------------------------------------------------------------


def test_removing_a_row_closes_the_gap():
    data = MultiDict(
        [
            ("victims-0-name", "A"),
            ("victims-1-name", "B"),
            ("victims-1-violence_types", "fisik"),
            ("victims-1-violence_types", "psikis"),
            ("victims-2-name", "C"),
            ("perpetrators-0-relationships-0", "orang_tua"),
            ("perpetrators-0-relationships-1", "keluarga"),
            ("perpetrators-0-relationships-2", "guru"),
            ("remove_victim", "0"),
        ]
    )
    left = remove_row(data, "remove_victim", "0")
    assert left.getlist("victims-0-violence_types") == ["fisik", "psikis"]
    assert (left["victims-0-name"], left["victims-1-name"]) == ("B", "C")
    assert "victims-2-name" not in left and "remove_victim" not in left
    assert left["perpetrators-0-relationships-0"] == "keluarga"
    assert left["perpetrators-0-relationships-1"] == "guru"
    assert "perpetrators-0-relationships-2" not in left


def test_removing_a_perpetrator_renumbers_what_guardians_point_at():
    data = MultiDict(
        [
            ("perpetrators-0-name", "A"),
            ("perpetrators-1-name", "B"),
            ("perpetrators-2-name", "C"),
            ("victims-0-guardians-0-perpetrator", "1"),
            ("victims-0-guardians-1-perpetrator", "2"),
            ("victims-1-guardians-0-perpetrator", "3"),
            ("victims-1-guardians-1-perpetrator", ""),
        ]
    )
    left = remove_row(data, "remove_perpetrator", "1")
    assert [left[f"perpetrators-{i}-name"] for i in range(2)] == ["A", "C"]
    assert left["victims-0-guardians-0-perpetrator"] == "1"
    assert left["victims-0-guardians-1-perpetrator"] == ""  # pointed at the removed one
    assert left["victims-1-guardians-0-perpetrator"] == "2"
    assert left["victims-1-guardians-1-perpetrator"] == ""


@pytest.mark.parametrize("value", ["x", "", "0-1", "-1"])
def test_a_forged_row_button_removes_nothing(value):
    data = MultiDict([("victims-0-name", "A")])
    assert remove_row(data, "remove_victim", value) == data
    assert remove_row(data, "remove_guardian", value if value != "0-1" else "0") == data


def test_blank_rows_are_left_out_and_paths_lead_back_to_the_form(app):
    data = MultiDict(
        [
            ("victims-0-sex", "P"),
            ("victims-0-guardians-0-name", ""),  # blank
            ("victims-0-guardians-1-name", "Rina"),
            ("victims-0-consents-0-purpose", "layanan"),  # no decision: blank
            ("victims-0-consents-0-given_by", "korban"),
            ("victims-0-consents-1-purpose", "layanan"),
            ("victims-0-consents-1-decision", "setuju"),
            ("victims-0-consents-1-given_by", "wali"),
            ("perpetrators-0-name", ""),  # blank, not named by a guardian
            ("perpetrators-1-name", "Joko"),
            ("perpetrators-1-relationships-0", "orang_tua"),
            ("perpetrators-2-name", ""),  # blank, but a guardian says it is them
            ("victims-0-guardians-1-perpetrator", "3"),
            ("witnesses-0-name", ""),
            ("witnesses-1-name", "Dewi"),
        ]
    )
    with app.test_request_context(method="POST"):
        form = IntakeForm(formdata=data)
        conversion = form_to_intake(form)
    intake = conversion.intake
    assert [g.name for g in intake.victims[0].guardians] == ["Rina"]
    assert intake.victims[0].guardians[0].perpetrator_position == 2  # form's P3 is P2 now
    assert [c.given_by for c in intake.victims[0].consents] == ["wali"]
    assert [p.name for p in intake.perpetrators] == ["Joko", None]
    assert intake.perpetrators[0].relationships == {1: "orang_tua"}
    assert intake.witnesses == [("Dewi", None)]
    assert conversion.form_path("victims-0-consents-0-given_by_name") == (
        "victims-0-consents-1-given_by_name"
    )
    assert conversion.form_path("victims-0-guardians-0") == "victims-0-guardians-1"
    assert conversion.form_path("perpetrators-0-relationships") == "perpetrators-1-relationships"
    assert conversion.form_path("witnesses-0-name") == "witnesses-1-name"
    assert conversion.form_path("victims-0-sex") == "victims-0-sex"
    assert conversion.form_path("case_types") == "case_types"


def test_a_blank_victim_is_left_out_of_a_draft_only(app):
    data = MultiDict([("victims-0-name", ""), ("victims-1-sex", "L"), ("victims-1-age", "9")])
    with app.test_request_context(method="POST"):
        draft = form_to_intake(IntakeForm(formdata=data), draft=True)
        complaint = form_to_intake(IntakeForm(formdata=data))
    assert [v.sex for v in draft.intake.victims] == ["L"]
    assert draft.form_path("victims-0-age") == "victims-1-age"
    assert [v.sex for v in complaint.intake.victims] == [None, "L"]


def test_times_are_read_in_jakarta_and_kept_in_utc():
    naive_jakarta = dt.datetime(2026, 1, 1, 0, 30)  # noqa: DTZ001  (what the form reads)
    assert jakarta_to_utc(naive_jakarta) == dt.datetime(2025, 12, 31, 17, 30, tzinfo=dt.UTC)
    assert jakarta_to_utc(None) is None


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2025-03-14", dt.date(2025, 3, 14)),
        ("14-03-2025", dt.date(2025, 3, 14)),
        ("14/3/2025", dt.date(2025, 3, 14)),
    ],
)
def test_dates_are_read_as_people_write_them(app, typed, day):
    with app.test_request_context(method="POST"):
        form = IntakeForm(
            formdata=MultiDict([("incident_date", typed), ("received_at", f"{typed} 09:30")])
        )
    assert form.incident_date.data == day
    assert form.received_at.data == dt.datetime.combine(day, dt.time(9, 30))


def test_every_case_vocabulary_has_names_for_every_value():
    from app.cases.labels import CASE_LABELS, consent_purpose_label
    from app.core import enums
    from app.core.labels import LABELS, choices

    for vocabulary in (
        enums.Channel,
        enums.IncidentPlace,
        enums.Ranah,
        enums.CaseType,
        enums.Risk,
        enums.Kewenangan,
        enums.ViolenceType,
        enums.AmpkCategory,
        enums.TppoProses,
        enums.TppoCara,
        enums.TppoTujuan,
        enums.Relationship,
        enums.Education,
        enums.MaritalStatus,
        enums.Religion,
        enums.ReporterKind,
        enums.ConsentDecision,
        enums.ConsentGiver,
        enums.IncidentDatePrecision,
        enums.CaseState,
        enums.TrackState,
        enums.Nationality,
    ):
        assert vocabulary in CASE_LABELS
        assert set(LABELS[vocabulary]) == {m.value for m in vocabulary}
        assert [value for value, _ in choices(vocabulary)] == [m.value for m in vocabulary]
    # AMPK categories keep the letters of UU 35/2014 Pasal 59(2), in order
    letters = [str(text)[:2] for _, text in choices(enums.AmpkCategory)]
    assert letters == [f"{c}." for c in "abcdefghijklmno"]
    assert consent_purpose_label("rujukan:RSUD-3273").endswith("RSUD-3273")
    assert consent_purpose_label("jualan") == "jualan"


def test_rows_past_the_limit_are_not_read_nor_added(app):
    from app.intake.forms import MAX_ROWS, add_row

    limit = MAX_ROWS["victims"]
    data = MultiDict([(f"victims-{i}-sex", "P") for i in range(limit + 50)])
    with app.test_request_context(method="POST"):
        form = IntakeForm(formdata=data)
        assert len(form.victims.entries) == limit
        assert add_row(form, "add_victim", "") is None
        assert len(form.victims.entries) == limit
