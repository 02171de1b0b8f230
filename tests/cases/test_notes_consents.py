"""Case notes are only added (a correction is a new note pointing at the old one) and the consent
ledger is only appended to (the latest entry for a purpose is in force)."""

import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases import operations as ops
from app.cases.intake import ConsentData, GuardianData, PerpetratorData, VictimData
from app.cases.models import CaseNote, ConsentEntry
from app.core.enums import Role
from app.extensions import db
from tests.factories import UserFactory
from tests.factories.cases import RECEIVED, create_case
from tests.fixtures import login_as


@pytest.fixture
def manager(agency):
    return UserFactory(name="Dewi Manajer", roles=[(Role.MANAJER_KASUS, agency)])


@pytest.fixture
def case(agency, manager):
    return create_case(agency, actor=manager, case_manager=manager)


@pytest.fixture
def signed_in(client, manager):
    login_as(client, manager)
    client.post("/bahasa", data={"locale": "en"})
    return client


def notes_of(case):
    return db.session.scalars(
        select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)
    ).all()


# --- notes ---------------------------------------------------------------------------------


def test_a_note_is_added(signed_in, case, manager):
    response = signed_in.post(f"/kasus/{case.id}/catatan", data={"body": "Korban sudah ditelepon."})
    assert response.status_code == 302
    (note,) = notes_of(case)
    assert response.headers["Location"].endswith(f"/kasus/{case.id}#note-{note.id}")
    assert note.author_id == manager.id and note.body == "Korban sudah ditelepon."
    html = signed_in.get(f"/kasus/{case.id}").get_data(as_text=True)
    assert "Korban sudah ditelepon." in html and f'id="note-{note.id}"' in html
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.note"))


def test_an_empty_note_is_refused(signed_in, case):
    response = signed_in.post(f"/kasus/{case.id}/catatan", data={"body": "   "})
    assert response.status_code == 422
    assert "is-invalid" in response.get_data(as_text=True)
    assert notes_of(case) == []


def test_a_correction_is_a_new_note_and_the_original_stays(signed_in, case, manager):
    original = ops.add_note(case, "Korban berumur 17 tahun.", actor=manager)
    response = signed_in.post(
        f"/kasus/{case.id}/catatan",
        data={"body": "Koreksi: korban berumur 19 tahun.", "corrects_id": str(original.id)},
    )
    assert response.status_code == 302
    first, correction = notes_of(case)
    assert first.id == original.id and first.body == "Korban berumur 17 tahun."
    assert correction.corrects_id == original.id
    html = signed_in.get(f"/kasus/{case.id}").get_data(as_text=True)
    struck = re.search(rf'<del[^>]*data-corrected="{original.id}"[^>]*>(.*?)</del>', html, re.S)
    assert struck and "Korban berumur 17 tahun." in struck.group(1)
    assert f'href="#note-{correction.id}"' in html  # from the corrected note to its correction
    assert f'href="#note-{original.id}"' in html  # and back
    assert "Koreksi: korban berumur 19 tahun." in html


def test_correcting_a_note_of_another_case_is_not_found(signed_in, agency, case, manager):
    other = create_case(agency, actor=manager, case_manager=manager)
    theirs = ops.add_note(other, "Catatan kasus lain.", actor=manager)
    response = signed_in.post(
        f"/kasus/{case.id}/catatan", data={"body": "Koreksi.", "corrects_id": str(theirs.id)}
    )
    assert response.status_code == 404
    assert notes_of(case) == []


@pytest.mark.parametrize("bogus", ["abc", "999999", "-1"])
def test_correcting_an_unknown_note_is_not_found(signed_in, case, bogus):
    response = signed_in.post(
        f"/kasus/{case.id}/catatan", data={"body": "Koreksi.", "corrects_id": bogus}
    )
    assert response.status_code == 404
    assert notes_of(case) == []


def test_notes_cannot_be_edited_or_deleted(app):
    note_rules = [r for r in app.url_map.iter_rules() if "catatan" in r.rule]
    assert "/kasus/<int:case_id>/catatan" in [r.rule for r in note_rules]
    # every note route (case notes, referral progress notes) only adds
    assert all(r.methods == {"POST", "OPTIONS"} for r in note_rules)


def test_a_draft_takes_no_notes(client, agency, manager):
    draft = create_case(agency, actor=manager, draft=True)
    login_as(client, manager)
    assert client.post(f"/kasus/{draft.id}/catatan", data={"body": "x"}).status_code == 404


# --- consent ledger ------------------------------------------------------------------------


def consent_data(victim, **values):
    prefix = f"consent{victim.id}"
    data = {
        "purpose": "layanan",
        "decision": "menolak",
        "given_by": "korban",
        "given_by_name": "",
        "at": "2025-03-15T10:30",
    }
    data.update(values)
    return {f"{prefix}-{k}": v for k, v in data.items()}


def ledger(victim):
    return db.session.scalars(
        select(ConsentEntry).where(ConsentEntry.victim_id == victim.id).order_by(ConsentEntry.id)
    ).all()


def test_a_consent_entry_is_appended_and_the_latest_is_in_force(signed_in, case, manager):
    victim = case.victims[0]
    (first,) = ledger(victim)  # "layanan: setuju" from the intake
    response = signed_in.post(
        f"/kasus/{case.id}/korban/{victim.id}/persetujuan", data=consent_data(victim)
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#persetujuan-{victim.id}")
    old, new = ledger(victim)
    assert old.id == first.id and old.decision.value == "setuju"  # never edited
    assert new.decision.value == "menolak" and new.recorded_by_id == manager.id
    assert new.at.isoformat() == "2025-03-15T03:30:00+00:00"  # typed in WIB, stored UTC
    html = signed_in.get(f"/kasus/{case.id}").get_data(as_text=True)
    assert f'data-consent-in-force="{new.id}"' in html
    assert f'data-consent-in-force="{old.id}"' not in html
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "consent.add"))


def test_entries_for_other_purposes_stay_in_force(signed_in, case):
    victim = case.victims[0]
    signed_in.post(
        f"/kasus/{case.id}/korban/{victim.id}/persetujuan",
        data=consent_data(victim, purpose="dokumentasi", decision="setuju"),
    )
    html = signed_in.get(f"/kasus/{case.id}").get_data(as_text=True)
    for entry in ledger(victim):
        assert f'data-consent-in-force="{entry.id}"' in html


def test_a_guardian_must_be_named(signed_in, case):
    victim = case.victims[0]
    response = signed_in.post(
        f"/kasus/{case.id}/korban/{victim.id}/persetujuan",
        data=consent_data(victim, given_by="wali"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    tag = re.search(rf'<input[^>]*id="consent{victim.id}-given_by_name"[^>]*>', html).group(0)
    assert "is-invalid" in tag  # the refusal is shown on the field it concerns
    after = html[html.index(tag) :][:800]
    assert "Name the guardian who decided." in after
    assert len(ledger(victim)) == 1


def test_the_alleged_perpetrator_cannot_consent_for_a_child(signed_in, agency, manager):
    child = create_case(
        agency,
        actor=manager,
        case_manager=manager,
        case_types=["kta"],
        victims=[
            VictimData(
                sex="P",
                name="Ani",
                age=9,
                violence_types=["seksual"],
                guardians=[GuardianData(name="Slamet Riyadi", relation="ayah")],
                consents=[
                    ConsentData(
                        purpose="layanan",
                        decision="setuju",
                        given_by="wali",
                        given_by_name="Ibu Ani",
                        at=RECEIVED,
                    )
                ],
            )
        ],
        perpetrators=[PerpetratorData(name="Slamet Riyadi", sex="L", age=40)],
        incident_date=None,
    )
    victim = child.victims[0]
    response = signed_in.post(
        f"/kasus/{child.id}/korban/{victim.id}/persetujuan",
        data=consent_data(victim, given_by="wali", given_by_name="slamet  riyadi"),
    )
    assert response.status_code == 422
    assert "cannot give consent" in response.get_data(as_text=True)
    assert len(ledger(victim)) == 1


def test_an_unknown_purpose_is_refused(signed_in, case):
    victim = case.victims[0]
    response = signed_in.post(
        f"/kasus/{case.id}/korban/{victim.id}/persetujuan",
        data=consent_data(victim, purpose="jual_data"),
    )
    assert response.status_code == 422
    assert len(ledger(victim)) == 1


def test_a_consent_for_a_victim_of_another_case_is_not_found(signed_in, agency, case, manager):
    other = create_case(agency, actor=manager, case_manager=manager)
    victim = other.victims[0]
    response = signed_in.post(
        f"/kasus/{case.id}/korban/{victim.id}/persetujuan", data=consent_data(victim)
    )
    assert response.status_code == 404
    assert len(ledger(victim)) == 1
