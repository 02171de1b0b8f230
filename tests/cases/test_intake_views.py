"""The intake form over HTTP: new complaint, drafts, rows added and removed with and without
htmx, the duplicate check, editing with optimistic locking, access. The rules themselves, one by
one, are in test_intake_rules.py (which uses the helpers defined here)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.audit.models import AuditEntry
from app.cases.intake import JAKARTA, ConsentData, VictimData
from app.cases.models import Case, ConsentEntry, Person
from app.core.enums import CaseState, Risk, Role
from app.extensions import db
from app.notifications.models import Notification
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import INTAKE_FORM as VALID
from tests.factories.cases import RECEIVED
from tests.fixtures import login_as


def posting(**changes: Any) -> dict[str, Any]:
    """``VALID`` with changes; a value of None leaves the key out (the browser sends nothing)."""
    data = dict(VALID)
    for key, value in changes.items():
        key = key.replace("__", "-")
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def case_count() -> int:
    return db.session.query(Case).count()


def msg(text: str, **values: Any) -> str:
    """A message as an Indonesian user reads it (the page's default language)."""
    with force_locale("id"):
        return gettext(text, **values)


class _Collector(HTMLParser):
    """The text inside the element with a given id, and the attributes of every element."""

    def __init__(self, wanted_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted_id = wanted_id
        self.depth = 0
        self.text: list[str] = []
        self.found = False
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag in ("input", "br", "meta", "link", "img", "hr"):
            return
        if self.depth:
            self.depth += 1
        elif attributes.get("id") == self.wanted_id:
            self.depth = 1
            self.found = True

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def text_of(page: str, element_id: str) -> str | None:
    """The text of the element ``id=element_id``, spaces collapsed; None when absent."""
    collector = _Collector(element_id)
    collector.feed(page)
    if not collector.found:
        return None
    return " ".join(" ".join(collector.text).split())


def errors_of(page: str, field: str) -> str:
    """What the page says under the field called ``field`` ("" when nothing)."""
    return text_of(page, f"{field}-error") or ""


def elements(page: str, tag: str) -> list[dict[str, str | None]]:
    collector = _Collector("")
    collector.feed(page)
    return [attrs for t, attrs in collector.elements if t == tag]


def value_of(page: str, name: str) -> str | None:
    """The value an input called ``name`` shows (checked one for radios)."""
    for attrs in elements(page, "input"):
        if attrs.get("name") != name:
            continue
        if attrs.get("type") in ("radio", "checkbox"):
            if "checked" in attrs:
                return attrs.get("value")
            continue
        return attrs.get("value")
    return None


def selected_of(page: str, name: str) -> str | None:
    """The option a select called ``name`` shows (the first one when none is selected, as in a
    browser); None when there is no such select."""
    match = re.search(
        rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, flags=re.S
    )
    if match is None:
        return None
    chosen = re.search(r'<option selected value="([^"]*)"', match.group(1)) or re.search(
        r'<option[^>]*value="([^"]*)"', match.group(1)
    )
    return chosen.group(1) if chosen else None


def textarea_of(page: str, name: str) -> str | None:
    match = re.search(
        rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>\s*(.*?)</textarea>', page, flags=re.S
    )
    return match.group(1) if match else None


class _FormReader(HTMLParser):
    """What a browser would send for the page's intake form, without pressing any button."""

    TEXT_INPUTS = ("text", "hidden", "date", "datetime-local", "number", "tel", "email", None)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self.in_form = False
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and a.get("id") == "intake-form":
            self.in_form = True
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value") or "on"))
            elif kind in self.TEXT_INPUTS:
                self.pairs.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select, self.options = name, []
        elif tag == "option" and self.select:
            self.options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "select" and self.select:
            chosen = [v for v, selected in self.options if selected] or [self.options[0][0]]
            self.pairs.append((self.select, chosen[0]))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.pairs.append((self.textarea, "".join(self.text).lstrip("\n")))
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text.append(data)


def browser_form(page: str, **changes: Any) -> MultiDict[str, str]:
    """The form on ``page`` as a browser posts it, with ``changes`` (``victims__0__name`` for
    ``victims-0-name``; a list for several values; None to leave a field out)."""
    reader = _FormReader()
    reader.feed(page)
    data = MultiDict(reader.pairs)
    for key, value in changes.items():
        key = key.replace("__", "-")
        data.poplist(key)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            data.add(key, item)
    return data


# --- fixtures ----------------------------------------------------------------------------------

NEW = "/kasus/baru"


def edit_url(case: Any) -> str:
    return f"/kasus/{case.id}/ubah"


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(code="UPTDPPA-3273")


@pytest.fixture
def officer_client(client: FlaskClient, officer: Any) -> FlaskClient:
    login_as(client, officer)
    return client


def latest_case() -> Case:
    return db.session.scalar(select(Case).order_by(Case.id.desc()))


# --- the page ----------------------------------------------------------------------------------


def test_the_new_form_is_ready_for_the_common_case(officer_client):
    response = officer_client.get(NEW)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'lang="id"' in page
    # one victim and one perpetrator, the consent to services ready to record
    assert elements(page, "input") and value_of(page, "victims-0-name") == ""
    assert value_of(page, "victims-1-name") is None
    assert value_of(page, "perpetrators-0-name") == ""
    assert selected_of(page, "victims-0-consents-0-purpose") == "layanan"
    assert selected_of(page, "perpetrators-0-relationships-0") == ""
    # risk first and colour-coded, with the warning that a high risk alerts the supervisor
    assert page.index('name="risk"') < page.index('name="victims-0-sex"')
    assert "btn-outline-danger risk-tinggi" in page
    assert (
        msg("High risk: the supervisor is notified as soon as the complaint is registered.") in page
    )
    # received now, in Jakarta time
    shown = dt.datetime.fromisoformat(value_of(page, "received_at"))
    now = dt.datetime.now(JAKARTA).replace(tzinfo=None)
    assert abs(now - shown) < dt.timedelta(minutes=2)
    # the sections of the hard cases are there, folded
    assert 'data-case-type="tppo"' in page and 'data-case-type="ampk"' in page


def test_the_page_keeps_to_the_content_security_policy(officer_client):
    page = officer_client.get(NEW).get_data(as_text=True)
    scripts = elements(page, "script")
    assert scripts and all(s.get("src") for s in scripts)  # no inline script
    assert "/static/vendor/htmx-2.0.11/htmx.min.js?v=" in page
    assert "style=" not in page and "<style" not in page
    assert "hx-on" not in page and "js:" not in page
    config = next(m for m in elements(page, "meta") if m.get("name") == "htmx-config")
    assert '"allowEval":false' in config["content"]
    assert '"includeIndicatorStyles":false' in config["content"]


def test_enter_in_a_field_only_checks_for_duplicates(officer_client):
    """A browser submits with the form's first button when Enter is pressed in a field."""
    page = officer_client.get(NEW).get_data(as_text=True)
    form_start = page.index('<form id="intake-form"')
    first = re.search(r"<button[^>]*>", page[form_start:]).group(0)
    assert 'name="action"' in first and 'value="check_duplicates"' in first


# --- registering -------------------------------------------------------------------------------


def test_register_two_victims_and_one_perpetrator_related_to_each(officer_client, officer):
    data = posting(
        case_types=["ktp", "kta"],
        victims__1__sex="L",
        victims__1__age="10",
        victims__1__violence_types=["psikis"],
        perpetrators__0__relationships__1="orang_tua",
    )
    response = officer_client.post(NEW, data=data)
    assert response.status_code == 302, errors_summary(response)
    case = latest_case()
    assert response.location.endswith(f"/kasus/{case.id}")
    assert case.state is CaseState.DITERIMA
    assert case.reference == "UPTDPPA-3273-2025-00001"
    assert case.registered_by_id == officer.id
    assert case.received_at == dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)  # 09:30 WIB
    assert sorted(t.value for t in case.case_types) == ["kta", "ktp"]
    first, second = case.victims
    assert (first.name, first.age_at_incident, first.is_child) == ("Siti Aminah", 30, False)
    assert (second.sex.value, second.age_at_incident, second.is_child) == ("L", 10, True)
    (perpetrator,) = case.perpetrators
    assert {r.victim.position: r.relationship_.value for r in perpetrator.relations} == {
        1: "suami_istri",
        2: "orang_tua",
    }
    entries = db.session.scalars(select(ConsentEntry).where(ConsentEntry.victim_id == first.id))
    assert [(e.purpose, e.decision.value, e.recorded_by_id) for e in entries] == [
        ("layanan", "setuju", officer.id)
    ]
    assert db.session.query(ConsentEntry).filter_by(victim_id=second.id).count() == 0


def test_blank_rows_are_left_out(officer_client):
    data = posting(
        perpetrators__1__name="",
        perpetrators__1__sex="",
        perpetrators__1__age="",
        perpetrators__1__relationships__0="",
        victims__0__consents__1__purpose="layanan",
        victims__0__consents__1__given_by="korban",
        victims__0__consents__1__at="2025-03-14T10:00",
        victims__0__guardians__0__name="",
        witnesses__0__name="",
        witnesses__0__phone="",
    )
    response = officer_client.post(NEW, data=data)
    assert response.status_code == 302, errors_summary(response)
    case = latest_case()
    assert len(case.perpetrators) == 1 and case.witnesses == []
    assert case.victims[0].guardians == []
    assert db.session.query(ConsentEntry).filter_by(victim_id=case.victims[0].id).count() == 1


def test_a_high_risk_complaint_alerts_the_supervisor(officer_client, agency):
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    elsewhere = UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())])
    response = officer_client.post(NEW, data=posting(risk="tinggi"))
    assert response.status_code == 302, errors_summary(response)
    case = latest_case()
    notes = db.session.scalars(select(Notification).where(Notification.case_id == case.id)).all()
    assert [(n.user_id, n.kind, n.reference) for n in notes] == [
        (supervisor.id, "high_risk_case", case.reference)
    ]
    assert elsewhere.id not in {n.user_id for n in notes}
    with officer_client.session_transaction() as session:
        flashed = [text for _, text in session.get("_flashes", [])]
    assert msg("High risk: the supervisor has been notified.") in flashed


def test_several_agencies_choose_one(client, agency):
    other = AgencyFactory(code="UPTDPPA-3201")
    user = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency), (Role.MANAJER_KASUS, other)])
    login_as(client, user)
    page = client.get(NEW).get_data(as_text=True)
    assert selected_of(page, "agency") == ""
    assert f'value="{other.id}"' in page and f'value="{agency.id}"' in page
    response = client.post(NEW, data=posting())
    assert response.status_code == 422
    assert msg("Choose the agency that receives the complaint.") in errors_of(
        response.get_data(as_text=True), "agency"
    )
    assert case_count() == 0
    response = client.post(NEW, data=posting(agency=str(other.id)))
    assert response.status_code == 302
    assert latest_case().agency_id == other.id
    assert latest_case().reference.startswith("UPTDPPA-3201-")


def test_an_agency_not_in_the_users_list_is_refused(client, agency):
    user = UserFactory(
        roles=[(Role.PETUGAS_PENGADUAN, agency), (Role.PETUGAS_PENGADUAN, AgencyFactory())]
    )
    login_as(client, user)
    stranger = AgencyFactory()
    response = client.post(NEW, data=posting(agency=str(stranger.id)))
    assert response.status_code == 422 and case_count() == 0


# --- drafts ------------------------------------------------------------------------------------


def test_a_draft_needs_little_and_is_completed_later(officer_client, officer):
    draft_data = {
        "received_at": "2025-03-14T09:30",
        "channel": "telepon",
        "victims-0-name": "Siti Aminah",
        "victims-0-sex": "P",
        "victims-0-consents-0-purpose": "layanan",
        "victims-0-consents-0-given_by": "korban",
        "victims-0-consents-0-at": "2025-03-14T09:45",
        "perpetrators-0-name": "",
        "action": "save_draft",
    }
    response = officer_client.post(NEW, data=draft_data)
    assert response.status_code == 302, errors_summary(response)
    draft = latest_case()
    assert response.location.endswith(f"/kasus/{draft.id}")
    assert (draft.state, draft.reference) == (CaseState.DRAFT, None)
    assert [v.name for v in draft.victims] == ["Siti Aminah"] and draft.perpetrators == []
    victim_id = draft.victims[0].id

    page = officer_client.get(edit_url(draft)).get_data(as_text=True)
    assert value_of(page, "victims-0-name") == "Siti Aminah"
    assert 'value="register"' in page and 'value="save_draft"' in page
    assert 'value="save"' not in page

    data = browser_form(
        page,
        case_types="ktp",
        risk="sedang",
        victims__0__birth_date="1994-05-01",
        victims__0__violence_types=["fisik"],
        action="register",
    )
    response = officer_client.post(edit_url(draft), data=data)
    assert response.status_code == 302, errors_summary(response)
    db.session.refresh(draft)
    assert draft.state is CaseState.DITERIMA
    assert draft.reference == "UPTDPPA-3273-2025-00001"
    assert [v.id for v in draft.victims] == [victim_id]  # the same row, completed


def test_a_draft_with_a_blank_victim_keeps_no_victim(officer_client):
    data = {
        "received_at": "2025-03-14T09:30",
        "channel": "telepon",
        "victims-0-name": "",
        "victims-0-nationality": "WNI",
        "action": "save_draft",
    }
    response = officer_client.post(NEW, data=data)
    assert response.status_code == 302, errors_summary(response)
    assert latest_case().victims == []


def test_registering_a_draft_applies_every_rule(officer_client):
    response = officer_client.post(
        NEW, data={"received_at": "2025-03-14T09:30", "channel": "telepon", "action": "save_draft"}
    )
    draft = latest_case()
    page = officer_client.get(edit_url(draft)).get_data(as_text=True)
    response = officer_client.post(edit_url(draft), data=browser_form(page, action="register"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert msg("Choose at least one case type.") in errors_of(page, "case_types")
    assert msg("Choose the victim's sex.") in errors_of(page, "victims-0-sex")
    assert msg("Choose at least one type of violence.") in errors_of(
        page, "victims-0-violence_types"
    )
    db.session.refresh(draft)
    assert draft.state is CaseState.DRAFT


# --- rows without JavaScript, and with htmx ----------------------------------------------------


def test_add_a_victim_without_javascript(officer_client):
    response = officer_client.post(NEW, data=posting(action=None, add_victim=""))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert value_of(page, "victims-0-name") == "Siti Aminah"  # what was typed stays
    assert value_of(page, "victims-1-name") == ""
    assert 'id="victims-1-name" autofocus' in page or re.search(
        r'<input[^>]*autofocus[^>]*id="victims-1-name"', page
    )
    # the perpetrator now has a relationship to each victim
    assert selected_of(page, "perpetrators-0-relationships-0") == "suami_istri"
    assert selected_of(page, "perpetrators-0-relationships-1") == ""
    assert errors_summary(response) == ""  # nothing was checked, nothing complained about
    assert case_count() == 0


def test_remove_a_victim_keeps_the_others_input(officer_client):
    data = posting(
        victims__1__sex="L",
        victims__1__name="Ani",
        victims__1__age="9",
        perpetrators__0__relationships__1="orang_tua",
        action=None,
        remove_victim="0",
    )
    response = officer_client.post(NEW, data=data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert value_of(page, "victims-0-name") == "Ani"
    assert value_of(page, "victims-0-sex") == "L"
    assert value_of(page, "victims-1-name") is None
    assert selected_of(page, "perpetrators-0-relationships-0") == "orang_tua"
    assert selected_of(page, "perpetrators-0-relationships-1") is None
    assert case_count() == 0


def test_remove_a_perpetrator_renumbers_the_guardians_choice(officer_client):
    data = posting(
        perpetrators__1__name="Budi",
        perpetrators__1__relationships__0="keluarga",
        victims__0__guardians__0__name="Budi",
        victims__0__guardians__0__perpetrator="2",
        action=None,
        remove_perpetrator="0",
    )
    page = officer_client.post(NEW, data=data).get_data(as_text=True)
    assert value_of(page, "perpetrators-0-name") == "Budi"
    assert value_of(page, "perpetrators-1-name") is None
    assert selected_of(page, "victims-0-guardians-0-perpetrator") == "1"
    assert selected_of(page, "perpetrators-0-relationships-0") == "keluarga"


def test_guardians_consents_and_witnesses_are_added_and_removed(officer_client):
    page = officer_client.post(NEW, data=posting(action=None, add_guardian="0")).get_data(
        as_text=True
    )
    assert value_of(page, "victims-0-guardians-0-name") == ""
    assert re.search(r'<input[^>]*autofocus[^>]*id="victims-0-guardians-0-name"', page)

    page = officer_client.post(NEW, data=posting(action=None, add_consent="0")).get_data(
        as_text=True
    )
    assert selected_of(page, "victims-0-consents-1-purpose") == "layanan"
    assert value_of(page, "victims-0-consents-0-decision") == "setuju"

    page = officer_client.post(NEW, data=posting(action=None, remove_consent="0-0")).get_data(
        as_text=True
    )
    assert selected_of(page, "victims-0-consents-0-purpose") is None

    page = officer_client.post(
        NEW, data=posting(witnesses__0__name="Rina", action=None, add_witness="")
    ).get_data(as_text=True)
    assert value_of(page, "witnesses-0-name") == "Rina" and value_of(page, "witnesses-1-name") == ""

    page = officer_client.post(
        NEW,
        data=posting(
            witnesses__0__name="Rina", witnesses__1__name="Dewi", action=None, remove_witness="0"
        ),
    ).get_data(as_text=True)
    assert (
        value_of(page, "witnesses-0-name") == "Dewi" and value_of(page, "witnesses-1-name") is None
    )
    assert case_count() == 0


def test_htmx_gets_only_the_form(officer_client):
    response = officer_client.post(
        NEW, data=posting(action=None, add_perpetrator=""), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="intake-form"')
    assert "<html" not in body and "<nav" not in body and "<script" not in body
    assert value_of(body, "perpetrators-1-name") == ""
    assert value_of(body, "perpetrators-0-name") == "Joko"
    assert "HX-Request" in response.headers.get("Vary", "")
    assert case_count() == 0


def test_row_buttons_work_with_and_without_htmx(officer_client):
    page = officer_client.get(NEW).get_data(as_text=True)
    buttons = [b for b in elements(page, "button") if (b.get("name") or "").startswith("add_")]
    assert {b["name"] for b in buttons} >= {
        "add_victim",
        "add_perpetrator",
        "add_guardian",
        "add_consent",
        "add_witness",
    }
    for button in buttons:
        assert button["type"] == "submit"  # a plain round trip without JavaScript
        assert button["hx-post"] == NEW  # only the form swapped with htmx
        assert button["formaction"].startswith(NEW)
    form = next(f for f in elements(page, "form") if f.get("id") == "intake-form")
    assert form["hx-target"] == "this" and form["hx-swap"] == "outerHTML"


# --- the duplicate check -----------------------------------------------------------------------


def test_the_same_person_is_shown_and_linked(officer_client, agency, officer, create_case):
    earlier = create_case(agency, actor=officer, kronologi="Rahasia kasus lama.")
    person_id = earlier.victims[0].person_id
    response = officer_client.post(NEW, data=posting())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    panel = text_of(page, "victims-0-link_person")
    assert earlier.reference in panel
    assert msg("same name and date of birth") in panel
    assert msg("Likely the same") in panel
    assert "Rahasia kasus lama." not in page  # nothing of the other case but its reference
    assert re.search(rf'<input[^>]*value="{person_id}"[^>]*autofocus', page)  # in view
    assert case_count() == 1

    response = officer_client.post(NEW, data=posting(victims__0__link_person=str(person_id)))
    assert response.status_code == 302, errors_summary(response)
    assert latest_case().victims[0].person_id == person_id


def test_a_different_person_continues_with_a_new_person(
    officer_client, agency, officer, create_case
):
    earlier = create_case(agency, actor=officer)
    persons = db.session.query(Person).count()
    response = officer_client.post(NEW, data=posting(victims__0__link_person="new"))
    assert response.status_code == 302, errors_summary(response)
    new_person = latest_case().victims[0].person_id
    assert new_person is not None and new_person != earlier.victims[0].person_id
    assert db.session.query(Person).count() == persons + 1


def test_a_matching_nik_is_a_duplicate_too(officer_client, agency, officer, create_case):
    earlier = create_case(
        agency,
        actor=officer,
        victims=[
            VictimData(
                sex="P", name="S. Aminah", nik="3273014105940001", age=30, violence_types=["fisik"]
            )
        ],
    )
    page = officer_client.post(
        NEW, data=posting(victims__0__nik="3273 0141 0594 0001", action="check_duplicates")
    ).get_data(as_text=True)
    panel = text_of(page, "victims-0-link_person")
    assert earlier.reference in panel and msg("same NIK") in panel


def test_a_name_spelled_the_old_way_is_possibly_the_same(
    officer_client, agency, officer, create_case
):
    earlier = create_case(agency, actor=officer)  # Siti Aminah, born 1994-05-01
    page = officer_client.post(
        NEW, data=posting(victims__0__name="Sity Aminnah", action="check_duplicates")
    ).get_data(as_text=True)
    panel = text_of(page, "victims-0-link_person")
    assert earlier.reference in panel
    assert msg("Possibly the same") in panel and msg("a name that sounds the same") in panel
    assert msg("Likely the same") not in panel
    # another birth date: another person
    page = officer_client.post(
        NEW,
        data=posting(
            victims__0__name="Sity Aminnah",
            victims__0__birth_date="1995-05-01",
            action="check_duplicates",
        ),
    ).get_data(as_text=True)
    assert earlier.reference not in page


def test_check_for_duplicates_says_when_there_are_none(officer_client):
    response = officer_client.post(NEW, data=posting(action="check_duplicates"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert text_of(page, "intake-notice") == msg(
        "No other case of this agency has the same person as a victim."
    )
    assert re.search(r'id="intake-notice"[^>]*autofocus', page)
    assert case_count() == 0


def test_a_draft_linked_to_a_person_stays_linked(officer_client, agency, officer, create_case):
    earlier = create_case(agency, actor=officer)
    person_id = earlier.victims[0].person_id
    response = officer_client.post(
        NEW, data=posting(victims__0__link_person=str(person_id), action="save_draft")
    )
    assert response.status_code == 302, errors_summary(response)
    draft = latest_case()
    assert draft.victims[0].person_id == person_id
    page = officer_client.get(edit_url(draft)).get_data(as_text=True)
    assert value_of(page, "victims-0-link_person") == str(person_id)  # the decision is shown
    response = officer_client.post(edit_url(draft), data=browser_form(page, action="register"))
    assert response.status_code == 302, errors_summary(response)  # and not asked again
    db.session.refresh(draft)
    assert draft.reference and draft.victims[0].person_id == person_id


def test_a_forged_person_is_not_linked(officer_client, agency, officer, create_case):
    create_case(agency, actor=officer)
    foreign = create_case(AgencyFactory()).victims[0].person_id
    response = officer_client.post(NEW, data=posting(victims__0__link_person=str(foreign)))
    assert response.status_code == 200  # still asked: the decision named no match
    assert value_of(response.get_data(as_text=True), "victims-0-link_person") is None
    assert case_count() == 2


def test_a_victim_added_to_a_registered_case_is_checked(
    officer_client, agency, officer, create_case
):
    earlier = create_case(agency, actor=officer)
    case = create_case(
        agency,
        actor=officer,
        case_types=["kta"],
        victims=[VictimData(sex="L", age=9, violence_types=["psikis"])],
    )
    page = officer_client.get(edit_url(case)).get_data(as_text=True)
    page = officer_client.post(edit_url(case), data=browser_form(page, add_victim="")).get_data(
        as_text=True
    )
    new_victim = {
        "victims__1__sex": "P",
        "victims__1__name": "Siti Aminah",
        "victims__1__birth_date": "1994-05-01",
        "victims__1__violence_types": ["fisik"],
        "case_types": ["kta", "ktp"],
        "action": "save",
    }
    for forged_id in ("", "999999"):  # a made-up id does not skip the check
        response = officer_client.post(
            edit_url(case), data=browser_form(page, victims__1__id=forged_id, **new_victim)
        )
        assert response.status_code == 200
        assert earlier.reference in text_of(
            response.get_data(as_text=True), "victims-1-link_person"
        )
        # the victim already on the case is not asked about
        assert text_of(response.get_data(as_text=True), "victims-0-link_person") is None
    db.session.refresh(case)
    assert len(case.victims) == 1


def test_other_agencies_cases_are_not_duplicates(officer_client, create_case):
    create_case(AgencyFactory())
    response = officer_client.post(NEW, data=posting())
    assert response.status_code == 302


# --- editing -----------------------------------------------------------------------------------


def test_the_edit_form_shows_the_case(officer_client, agency, officer, create_case):
    case = create_case(agency, actor=officer, risk="tinggi", witnesses=[("Rina", "0812345678")])
    response = officer_client.get(edit_url(case))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert value_of(page, "version") == str(case.version)
    assert value_of(page, "risk") == "tinggi"
    assert value_of(page, "case_types") == "ktp"
    assert selected_of(page, "channel") == "datang_langsung"
    assert value_of(page, "received_at") == "2025-03-14T09:30"  # shown in WIB
    assert value_of(page, "victims-0-id") == str(case.victims[0].id)
    assert value_of(page, "victims-0-birth_date") == "1994-05-01"
    assert value_of(page, "victims-0-age") == ""  # derived from the birth date
    assert selected_of(page, "perpetrators-0-relationships-0") == "suami_istri"
    assert value_of(page, "witnesses-0-name") == "Rina"
    assert textarea_of(page, "kronologi") == "Korban datang dengan luka memar."
    # the recorded consent is listed, not offered for editing
    assert selected_of(page, "victims-0-consents-0-purpose") is None
    assert msg("Agrees") in text_of(page, "victims-0-consents")
    assert 'value="save"' in page and 'value="register"' not in page


def test_saving_an_edit_keeps_people_and_the_consent_ledger(
    officer_client, agency, officer, create_case
):
    case = create_case(agency, actor=officer)
    victim_id, perpetrator_id = case.victims[0].id, case.perpetrators[0].id
    page = officer_client.get(edit_url(case)).get_data(as_text=True)
    response = officer_client.post(
        edit_url(case),
        data=browser_form(page, victims__0__name="Siti Aminah Lestari", action="save"),
    )
    assert response.status_code == 302, errors_summary(response)
    assert response.location.endswith(f"/kasus/{case.id}")
    db.session.refresh(case)
    assert [v.id for v in case.victims] == [victim_id]
    assert [p.id for p in case.perpetrators] == [perpetrator_id]
    assert case.victims[0].name == "Siti Aminah Lestari"
    assert db.session.query(ConsentEntry).filter_by(victim_id=victim_id).count() == 1


def test_a_new_consent_decision_is_added_to_the_ledger(
    officer_client, agency, officer, create_case
):
    case = create_case(agency, actor=officer)
    victim_id = case.victims[0].id
    page = officer_client.get(edit_url(case)).get_data(as_text=True)
    page = officer_client.post(edit_url(case), data=browser_form(page, add_consent="0")).get_data(
        as_text=True
    )
    data = browser_form(
        page,
        victims__0__consents__0__purpose="dokumentasi",
        victims__0__consents__0__decision="menolak",
        action="save",
    )
    response = officer_client.post(edit_url(case), data=data)
    assert response.status_code == 302, errors_summary(response)
    purposes = db.session.scalars(
        select(ConsentEntry.purpose).where(ConsentEntry.victim_id == victim_id)
    ).all()
    assert sorted(purposes) == ["dokumentasi", "layanan"]


def test_a_victim_with_recorded_decisions_cannot_be_removed(
    officer_client, agency, officer, create_case
):
    case = create_case(
        agency,
        actor=officer,
        case_types=["ktp", "kta"],
        victims=[
            VictimData(
                sex="P",
                name="Siti Aminah",
                birth_date=dt.date(1994, 5, 1),
                violence_types=["fisik"],
                consents=[
                    ConsentData(
                        purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED
                    )
                ],
            ),
            VictimData(sex="L", age=9, violence_types=["psikis"]),
        ],
    )
    page = officer_client.get(edit_url(case)).get_data(as_text=True)
    page = officer_client.post(edit_url(case), data=browser_form(page, remove_victim="0")).get_data(
        as_text=True
    )
    response = officer_client.post(
        edit_url(case), data=browser_form(page, case_types="kta", action="save")
    )
    assert response.status_code == 422
    before, after = msg(
        "Victim %(label)s has recorded consent decisions or services and cannot be removed.",
        label="|",
    ).split("|")
    shown = errors_of(response.get_data(as_text=True), "victims")
    assert shown.startswith(before) and shown.endswith(after)
    db.session.refresh(case)
    assert len(case.victims) == 2


def test_opening_a_childs_case_for_editing_is_recorded(
    officer_client, agency, officer, create_case
):
    case = create_case(
        agency,
        actor=officer,
        case_types=["kta"],
        victims=[
            VictimData(
                sex="P", name="Ani", birth_date=dt.date(2012, 1, 1), violence_types=["seksual"]
            )
        ],
    )
    page = officer_client.get(edit_url(case)).get_data(as_text=True)
    assert value_of(page, "victims-0-name") == "Ani"
    reveals = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "case.reveal_identity", AuditEntry.object_id == str(case.id)
        )
    ).all()
    assert len(reveals) == 1 and reveals[0].actor_id == officer.id


def test_the_second_of_two_concurrent_edits_is_refused_and_nothing_is_lost(
    app, officer_client, agency, officer, create_case
):
    case = create_case(agency, actor=officer)
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    other = app.test_client()
    login_as(other, supervisor)
    first_page = officer_client.get(edit_url(case)).get_data(as_text=True)
    second_page = other.get(edit_url(case)).get_data(as_text=True)
    loaded = value_of(second_page, "version")

    response = officer_client.post(
        edit_url(case), data=browser_form(first_page, risk="tinggi", action="save")
    )
    assert response.status_code == 302, errors_summary(response)

    mine = browser_form(
        second_page,
        kronologi="Catatan supervisor: korban takut pulang.",
        victims__0__occupation="Pedagang",
        action="save",
    )
    response = other.post(edit_url(case), data=mine)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    conflict = text_of(page, "intake-conflict")
    assert str(msg("Risk level")) in conflict
    assert f"{msg('Medium')} {msg('High')}" in conflict  # before → now
    # the second person's input is still in the form, and nothing of it was saved
    assert textarea_of(page, "kronologi") == "Catatan supervisor: korban takut pulang."
    assert value_of(page, "victims-0-occupation") == "Pedagang"
    db.session.refresh(case)
    assert case.kronologi == "Korban datang dengan luka memar." and case.risk is Risk.TINGGI
    assert case.victims[0].occupation is None
    # having seen the change, saving again applies what the form shows
    assert value_of(page, "version") == str(case.version) != loaded
    response = other.post(edit_url(case), data=browser_form(page, risk="tinggi", action="save"))
    assert response.status_code == 302, errors_summary(response)
    db.session.refresh(case)
    assert case.kronologi == "Catatan supervisor: korban takut pulang."
    assert case.risk is Risk.TINGGI and case.victims[0].occupation == "Pedagang"


# --- access ------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(NEW)
    assert response.status_code == 302 and "/masuk" in response.location


@pytest.mark.parametrize(
    "role", [Role.PETUGAS_LAYANAN, Role.ANALIS_DATA, Role.ADMIN, Role.PIMPINAN]
)
def test_roles_without_intake_cannot_open_the_form(client, agency, role):
    login_as(client, UserFactory(roles=[(role, agency)]))
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, data=posting()).status_code == 403
    assert case_count() == 0


def test_without_an_active_agency_the_form_is_refused(client):
    closed = AgencyFactory(active=False)
    login_as(client, UserFactory(roles=[(Role.PETUGAS_PENGADUAN, closed)]))
    assert client.get(NEW).status_code == 403


def test_another_agencys_case_is_not_found(client, agency, officer, create_case):
    case = create_case(agency, actor=officer)
    login_as(client, UserFactory(roles=[(Role.SUPERVISOR, AgencyFactory())]))
    assert client.get(edit_url(case)).status_code == 404
    assert client.post(edit_url(case), data=posting(action="save")).status_code == 404


def test_a_colleagues_complaint_is_not_found_by_another_intake_officer(
    client, agency, officer, create_case
):
    case = create_case(agency, actor=officer)
    login_as(client, UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)]))
    assert client.get(edit_url(case)).status_code == 404


def test_a_case_manager_of_another_case_cannot_edit(client, agency, officer, create_case):
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    case = create_case(
        agency, actor=officer, case_manager=UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    )
    login_as(client, manager)
    assert client.get(edit_url(case)).status_code == 404
    assert client.get("/kasus/999999/ubah").status_code == 404


def errors_summary(response: Any) -> str:
    """The error list at the top of the page ("" when none), to explain a failed assertion."""
    return text_of(response.get_data(as_text=True), "intake-errors") or ""
