"""A data-subject restriction holds everywhere the identity could show: the intake form (masked,
and kept as stored whatever is posted), the receiving agency's referral page, and the new case a
transfer opens (the restriction follows the person)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.audit.models import AuditEntry
from app.cases.intake import GuardianData, PerpetratorData
from app.core.db import utcnow
from app.core.enums import Role, ServiceType
from app.core.errors import DomainError
from app.extensions import db
from app.intake.forms import remove_row
from app.privacy import operations as ops
from app.privacy import queries
from app.privacy.models import VictimRestriction
from app.referrals import operations as referral_ops
from app.workflow.operations import accept_transfer, request_transfer, transfer_accepted
from app.workflow.tracks import create_track
from tests.cases.test_intake_views import browser_form, text_of
from tests.conftest import make_app
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as
from tests.privacy.conftest import NAME, OTHER, victim

NIK = "3273014404910007"
PHONE = "081322233344"
ADDRESS = "Gang Kenanga Nomor 12 RT 03"
GUARDIAN = "Bambang Sutrisno"
GUARDIAN_PHONE = "081377788899"
WITNESS = "Rina Marlinawati"
WITNESS_PHONE = "081355566677"
PERPETRATOR = "Joko Susilo Wibowo"
OTHER_PHONE = "085711122233"


def make_request(case: Any, v: Any, staff: dict[str, Any]) -> Any:
    return ops.record_request(
        case,
        v,
        kind="pembatasan",
        requester="korban sendiri, datang langsung",
        received_at=utcnow() - dt.timedelta(hours=1),
        actor=staff["supervisor"],
    )


def restrict(case: Any, v: Any, staff: dict[str, Any]) -> None:
    ops.restrict(v, make_request(case, v, staff), actor=staff["supervisor"])


@pytest.fixture
def people_case(agency: Any, staff: dict[str, Any]) -> Any:
    """Registered by the intake officer, nobody manages it yet: the officer may still edit it.
    K1 (restricted in the tests) has a guardian; K2 does not; a witness and a perpetrator."""
    return create_case(
        agency,
        actor=staff["intake"],
        victims=[
            victim(
                NAME,
                NIK,
                phone=PHONE,
                address=ADDRESS,
                guardians=[GuardianData(name=GUARDIAN, relation="ibu", phone=GUARDIAN_PHONE)],
            ),
            victim(OTHER, "3273014404910008", phone=OTHER_PHONE, address="Jalan Mawar 3"),
        ],
        perpetrators=[
            PerpetratorData(name=PERPETRATOR, sex="L", age=40, relationships={1: "lainnya"})
        ],
        witnesses=[(WITNESS, WITNESS_PHONE)],
        reporter_kind="pihak_ketiga",
        reporter_name="Wulan Sekarsari",
        reporter_phone="081299988877",
        reporter_relation="tetangga",
    )


HIDDEN = (
    NAME,
    NIK,
    PHONE,
    ADDRESS,
    GUARDIAN,
    GUARDIAN_PHONE,
    WITNESS,
    WITNESS_PHONE,
    PERPETRATOR,
    "Wulan Sekarsari",
    "081299988877",
)


# --- the intake form -----------------------------------------------------------------------


def test_the_intake_form_masks_a_restricted_victim_from_whoever_may_not_see_it(
    app, client, people_case, staff
):
    k1 = people_case.victims[0]
    restrict(people_case, k1, staff)
    login_as(client, staff["intake"])
    response = client.get(f"/kasus/{people_case.id}/ubah")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for secret in HIDDEN:
        assert secret not in page, secret
    assert OTHER in page and OTHER_PHONE in page  # the other victim is not restricted
    assert "UU 27/2022" in text_of(page, "victims-0-restricted")
    assert text_of(page, "victims-1-restricted") is None

    # the case manager and the supervisors see it, as on the case page
    supervisor = app.test_client()
    login_as(supervisor, staff["supervisor"])
    page = supervisor.get(f"/kasus/{people_case.id}/ubah").get_data(as_text=True)
    for shown in HIDDEN:
        assert shown in page, shown


def test_a_masked_identity_is_kept_as_stored_whatever_is_posted(client, people_case, staff):
    k1, k2 = people_case.victims
    restrict(people_case, k1, staff)
    login_as(client, staff["intake"])
    page = client.get(f"/kasus/{people_case.id}/ubah").get_data(as_text=True)
    posted = browser_form(
        page,
        victims__0__name="Nama Palsu Sekali",
        victims__0__nik="3273019999999999",
        victims__0__phone="080000000000",
        victims__0__guardians__0__name="Orang Lain",
        witnesses__0__name="Saksi Palsu",
        perpetrators__0__name="Pelaku Palsu",
        reporter_name="Pelapor Palsu",
        victims__1__occupation="Pedagang sayur",
        action="save",
    )
    response = client.post(f"/kasus/{people_case.id}/ubah", data=posted)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    k1, k2 = people_case.victims
    assert (k1.name, k1.nik, k1.phone, k1.address) == (NAME, NIK, PHONE, ADDRESS)
    assert [(g.name, g.phone) for g in k1.guardians] == [(GUARDIAN, GUARDIAN_PHONE)]
    assert [(w.name, w.phone) for w in people_case.witnesses] == [(WITNESS, WITNESS_PHONE)]
    assert people_case.perpetrators[0].name == PERPETRATOR
    assert people_case.reporter_name == "Wulan Sekarsari"
    assert k2.occupation == "Pedagang sayur"  # the rest of the form is saved
    assert queries.is_restricted(k1)


def test_a_restricted_victim_cannot_be_removed_by_someone_who_may_not_see_it(
    client, people_case, staff
):
    k1 = people_case.victims[0]
    restrict(people_case, k1, staff)
    login_as(client, staff["intake"])
    url = f"/kasus/{people_case.id}/ubah"
    page = client.get(url).get_data(as_text=True)
    assert 'name="remove_victim" value="0"' not in page
    # the button, forged: ignored
    response = client.post(url, data=browser_form(page, remove_victim="0"))
    assert response.status_code == 200
    assert text_of(response.get_data(as_text=True), "victims-0-restricted") is not None
    # the row left out of the post: refused, nothing saved
    forged = remove_row(MultiDict(browser_form(page, action="save")), "remove_victim", "0")
    response = client.post(url, data=forged)
    assert response.status_code == 422
    assert "K1" in (text_of(response.get_data(as_text=True), "victims-error") or "")
    db.session.expire_all()
    assert [v.name for v in people_case.victims] == [NAME, OTHER]


def test_opening_the_masked_form_reveals_no_restricted_child(client, agency, staff):
    child = create_case(
        agency,
        actor=staff["intake"],
        case_types=["kta"],
        victims=[victim(NAME, NIK, birth_date=dt.date(2013, 2, 3), violence_types=["psikis"])],
    )
    restrict(child, child.victims[0], staff)
    login_as(client, staff["intake"])
    assert client.get(f"/kasus/{child.id}/ubah").status_code == 200
    reveals = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "case.reveal_identity")
    ).all()
    assert reveals == []  # the form showed no identity: nothing revealed


# --- the receiving agency's referral page --------------------------------------------------


@pytest.fixture
def referral_setup(agency: Any, staff: dict[str, Any]) -> dict[str, Any]:
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    case = create_case(
        agency,
        actor=staff["manager"],
        case_manager=staff["manager"],
        victims=[victim(NAME, NIK, phone=PHONE, address=ADDRESS)],
    )
    track = create_track(
        case,
        case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=rsud,
        actor=staff["manager"],
    )
    return {"rsud": rsud, "nurse": nurse, "case": case, "track": track}


def send(setup: dict[str, Any], staff: dict[str, Any], **sharing: Any) -> Any:
    return referral_ops.save_referral(
        setup["track"].id,
        expected_version=setup["track"].version,
        to_agency=setup["rsud"],
        sharing=referral_ops.Sharing(**sharing),
        message="Mohon pemeriksaan",
        actor=staff["supervisor"],
        send=True,
        override_reason="Korban dirawat darurat, belum bisa ditanya",
    )


def test_a_restriction_hides_an_identity_already_shared_with_the_receiver(
    client, referral_setup, staff
):
    referral = send(referral_setup, staff, identity=True)
    login_as(client, referral_setup["nurse"])
    page = client.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    assert NAME in page and NIK in page  # shared, before the restriction

    case = referral_setup["case"]
    restrict(case, case.victims[0], staff)
    page = client.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    for secret in (NAME, NIK, PHONE, ADDRESS):
        assert secret not in page, secret
    assert "UU 27/2022" in text_of(page, "identitas-dibatasi")
    assert text_of(page, "penerima-layanan") is not None  # sex and age band stay


def test_a_restricted_identity_cannot_be_shared(client, referral_setup, staff):
    case = referral_setup["case"]
    restrict(case, case.victims[0], staff)
    with pytest.raises(DomainError) as refused:
        send(referral_setup, staff, identity=True)
    assert refused.value.field == "share_identity"
    login_as(client, staff["manager"])
    page = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    track = referral_setup["track"]
    assert f'id="rsi-{track.id}"' not in page  # the form does not offer it
    assert text_of(page, f"rsi-{track.id}-restricted") is not None


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def test_a_restriction_withholds_the_attachments_already_shared_with_the_receiver(
    client, referral_setup, staff
):
    """A visum or a police report names the person as surely as the identity section: once
    the victim is restricted the receiver neither sees nor downloads what was shared before."""
    from app.cases import operations as case_ops

    case = referral_setup["case"]
    visum = case_ops.add_attachment(case, "visum.pdf", PDF, actor=staff["manager"])
    referral = send(referral_setup, staff, attachment_ids=(visum.id,))
    url = f"/rujukan/{referral.id}/lampiran/{visum.id}"
    login_as(client, referral_setup["nurse"])
    assert "visum.pdf" in client.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    assert client.get(url).status_code == 200  # shared, before the restriction

    restrict(case, case.victims[0], staff)
    page = client.get(f"/rujukan/{referral.id}").get_data(as_text=True)
    assert "visum.pdf" not in page
    assert "UU 27/2022" in text_of(page, "lampiran-dibatasi")
    assert client.get(url).status_code == 404


def test_a_restricted_victims_attachments_cannot_be_shared(client, referral_setup, staff):
    from app.cases import operations as case_ops

    case = referral_setup["case"]
    visum = case_ops.add_attachment(case, "visum.pdf", PDF, actor=staff["manager"])
    restrict(case, case.victims[0], staff)
    with pytest.raises(DomainError) as refused:
        send(referral_setup, staff, attachment_ids=(visum.id,))
    assert refused.value.field == "attachments"
    login_as(client, staff["manager"])
    page = client.get(f"/kasus/{case.id}").get_data(as_text=True)
    track = referral_setup["track"]
    assert f'id="rsf-{track.id}-{visum.id}"' not in page  # the form does not offer it
    assert text_of(page, f"rsf-{track.id}-restricted") is not None


# --- a transfer ----------------------------------------------------------------------------


def test_a_transfer_carries_the_restriction_to_the_new_case(client, case, staff):
    k1 = case.victims[0]
    restrict(case, k1, staff)
    case.case_manager_id = staff["manager"].id
    receiving = AgencyFactory(services=[ServiceType.PENGADUAN])
    receiving_supervisor = UserFactory(roles=[(Role.SUPERVISOR, receiving)])
    transfer = request_transfer(
        case.id,
        receiving,
        "Korban pindah domisili ke kota lain",
        actor=staff["manager"],
        expected_version=case.version,
    )
    accept_transfer(transfer.id, actor=receiving_supervisor, expected_version=transfer.version)
    new = transfer.new_case
    n1, n2 = new.victims
    assert n1.name == NAME and queries.is_restricted(n1) and not queries.is_restricted(n2)
    carried = queries.active_restriction(n1)
    assert carried.carried_from_id == queries.active_restriction(k1).id
    # the restriction follows the person: left out of the indicators there too
    restricted = set(db.session.scalars(select(VictimRestriction.victim_id)))
    assert n1.id in restricted and n2.id not in restricted
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "privacy.restrict", AuditEntry.object_id == str(new.id)
        )
    )
    assert entry.changes["carried_from"] == carried.carried_from_id

    # at the new agency the identity is the new case manager's and supervisors' only
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, receiving)])
    assert not queries.may_see_identity(officer, new, n1)
    assert queries.may_see_identity(officer, new, n2)
    assert queries.may_see_identity(receiving_supervisor, new, n1)
    # the supervisor there is told where it came from, and may lift it (their decision now)
    login_as(client, receiving_supervisor)
    page = client.get(f"/kasus/{new.id}/korban/{n1.id}/hak-subjek").get_data(as_text=True)
    assert case.reference in text_of(page, "pembatasan-dibawa")


def test_building_the_app_connects_the_carrying_over_once(app):
    # the workflow sends transfer_accepted; privacy connects from its init_app, which every
    # application built (web, worker, CLI, tests) runs — built again, still one receiver
    make_app()
    receivers = list(transfer_accepted.receivers_for(object()))
    assert receivers == [ops.carry_on_transfer]


def test_a_victim_with_a_data_subject_request_is_not_removed_even_by_a_supervisor(
    client, people_case, staff
):
    """The request and the restriction stay with the victim row: removing it is refused with a
    reason, never a database error."""
    k1 = people_case.victims[0]
    restrict(people_case, k1, staff)
    login_as(client, staff["supervisor"])
    url = f"/kasus/{people_case.id}/ubah"
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data=browser_form(page, remove_victim="0"))
    assert response.status_code == 200  # the row goes from the form (nothing saved yet)
    response = client.post(url, data=browser_form(response.get_data(as_text=True), action="save"))
    assert response.status_code == 422
    assert "UU 27/2022" in (text_of(response.get_data(as_text=True), "victims-error") or "")
    db.session.expire_all()
    assert [v.name for v in people_case.victims] == [NAME, OTHER]
