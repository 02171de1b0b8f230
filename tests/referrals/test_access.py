"""Who reaches what of a referred case: the receiving agency sees only the sections shared with
it and nothing of the case itself; other agencies reach no referral; the sending routes are the
case side's; a receiving agency that does not answer in time is chased, once."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from app.assessments.operations import FindingData, save_assessment
from app.cases.intake import ConsentData
from app.cases.operations import add_attachment, add_consent
from app.core.db import utcnow
from app.core.enums import AssessmentArea, Role, ServiceType
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.deadlines.tasks import ESCALATION_GRACE, check_overdue
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.tasks import link_path
from app.referrals import operations as ops
from app.referrals.queries import RELEVANT_AREAS
from app.workflow.operations import apply_case_event
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.factories.files import png_bytes
from tests.fixtures import login_as

MINUTE = dt.timedelta(minutes=1)
PNG = png_bytes()
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"

NAME = "Kartika Sulistyaningrum Wibisono"
NIK = "3273015507940003"
PHONE = "081298765432"
ADDRESS = "Jalan Cempaka Putih Nomor 17"
KRONOLOGI = "Korban dipukul dengan gagang sapu di dapur oleh suaminya."
# what the sender writes for the receiving agency (the referral's own summary)
INCIDENT_SUMMARY = "Memar di lengan kiri setelah kekerasan fisik, perlu visum."
SUMMARY = "Ringkasan asesmen yang tidak dibagikan kepada siapa pun."
SHARED_FILE = "foto-luka-lengan.png"
UNSHARED_FILE = "surat-keterangan-rt.pdf"
# the needs written for each assessment area: distinctive, to be looked for on the pages
NEEDS = {
    AssessmentArea.FISIK: "Luka memar di lengan perlu visum",
    AssessmentArea.PSIKOLOGIS: "Trauma berat perlu konseling psikolog",
    AssessmentArea.SOSIAL: "Dukungan keluarga besar lemah",
    AssessmentArea.EKONOMI: "Tidak punya penghasilan sendiri",
    AssessmentArea.PENDIDIKAN: "Ingin melanjutkan kejar paket",
    AssessmentArea.HUKUM: "Perlu pendampingan laporan ke Unit PPA",
    AssessmentArea.SPIRITUAL: "Ingin bimbingan rohaniwan",
}


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


@pytest.fixture
def s() -> dict[str, Any]:
    uptd = AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN])
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    puskesmas = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    other_uptd = AgencyFactory(services=[ServiceType.PENGADUAN])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, uptd)])
    intake_officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, uptd)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    puskesmas_nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, puskesmas)])
    other_manager = UserFactory(roles=[(Role.MANAJER_KASUS, other_uptd)])
    other_supervisor = UserFactory(roles=[(Role.SUPERVISOR, other_uptd)])

    case = create_case(uptd, actor=manager, case_manager=manager, kronologi=KRONOLOGI)
    victim = case.victims[0]
    victim.name, victim.nik, victim.phone, victim.address = NAME, NIK, PHONE, ADDRESS
    db.session.flush()
    apply_case_event(case.id, "start_identification", actor=manager, expected_version=case.version)
    apply_case_event(case.id, "start_assessment", actor=manager, expected_version=case.version)
    save_assessment(
        case,
        victim,
        [FindingData(area=a, level="sedang", needs=n) for a, n in NEEDS.items()],
        SUMMARY,
        complete=True,
        actor=manager,
    )
    shared = add_attachment(case, SHARED_FILE, PNG, actor=manager)
    unshared = add_attachment(case, UNSHARED_FILE, PDF, actor=manager)
    track = create_track(
        case, victim, ServiceType.REHABILITASI_KESEHATAN, provider=rsud, actor=manager
    )
    add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{rsud.code}", decision="setuju", given_by="korban", at=utcnow()
        ),
        actor=manager,
    )
    db.session.flush()
    return locals()


def refer(s: dict[str, Any], **sharing: Any) -> Any:
    if sharing.get("incident"):
        sharing.setdefault("incident_summary", INCIDENT_SUMMARY)
    return ops.save_referral(
        s["track"].id,
        to_agency=s["rsud"],
        sharing=ops.Sharing(**sharing),
        message="Mohon pemeriksaan",
        actor=s["manager"],
        send=True,
        expected_version=s["track"].version,
    )


def page_of(client: Any, user: Any, url: str) -> str:
    login_as(client, user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


SECRETS = (
    NAME,
    NIK,
    PHONE,
    ADDRESS,
    KRONOLOGI,
    INCIDENT_SUMMARY,
    SUMMARY,
    SHARED_FILE,
    UNSHARED_FILE,
)


# --- what the receiving agency sees ------------------------------------------------------------


def test_sharing_nothing_shows_nothing_of_the_person_or_the_case(client, s):
    referral = refer(s)
    page = page_of(client, s["nurse"], f"/rujukan/{referral.id}")
    assert "Mohon pemeriksaan" in page and s["case"].reference in page
    for secret in (*SECRETS, *NEEDS.values()):
        assert secret not in page, secret
    inbox = client.get("/rujukan").get_data(as_text=True)
    assert s["case"].reference in inbox
    for secret in (*SECRETS, *NEEDS.values()):
        assert secret not in inbox, secret


def test_sharing_the_identity_only_shows_the_person_not_the_incident(client, s):
    referral = refer(s, identity=True)
    page = page_of(client, s["nurse"], f"/rujukan/{referral.id}")
    for shown in (NAME, NIK, PHONE, ADDRESS):
        assert shown in page, shown
    for secret in (KRONOLOGI, SUMMARY, SHARED_FILE, UNSHARED_FILE, *NEEDS.values()):
        assert secret not in page, secret


def test_sharing_the_incident_shows_the_senders_summary_never_the_kronologi(client, s):
    """The incident section is the summary the sender wrote for this referral: the case's
    chronology (the whole confidential narrative) never reaches the receiving agency."""
    referral = refer(s, incident=True)
    page = page_of(client, s["nurse"], f"/rujukan/{referral.id}")
    assert INCIDENT_SUMMARY in page
    for secret in (KRONOLOGI, NAME, NIK, PHONE, ADDRESS, SUMMARY, *NEEDS.values()):
        assert secret not in page, secret


def test_sharing_the_assessment_shows_only_the_findings_relevant_to_the_service(client, s):
    referral = refer(s, assessment=True)
    page = page_of(client, s["nurse"], f"/rujukan/{referral.id}")
    relevant = RELEVANT_AREAS[ServiceType.REHABILITASI_KESEHATAN]
    assert AssessmentArea.HUKUM not in relevant
    for area, needs in NEEDS.items():
        if area in relevant:
            assert needs in page, area
        else:
            assert needs not in page, area
    assert NEEDS[AssessmentArea.HUKUM] not in page
    for secret in (NAME, NIK, KRONOLOGI, SUMMARY):
        assert secret not in page, secret


def test_only_the_shared_attachment_can_be_downloaded(client, s):
    referral = refer(s, attachment_ids=(s["shared"].id,))
    page = page_of(client, s["nurse"], f"/rujukan/{referral.id}")
    assert SHARED_FILE in page and UNSHARED_FILE not in page
    ok = client.get(f"/rujukan/{referral.id}/lampiran/{s['shared'].id}")
    assert ok.status_code == 200 and ok.data == PNG
    assert client.get(f"/rujukan/{referral.id}/lampiran/{s['unshared'].id}").status_code == 404
    assert client.get(f"/rujukan/{referral.id}/lampiran/999999").status_code == 404
    # nor through the case's own download route
    assert client.get(f"/kasus/{s['case'].id}/lampiran/{s['shared'].id}").status_code in (403, 404)


# --- which referrals the receiving agency reaches ----------------------------------------------


def test_a_draft_another_agencys_referral_and_a_guessed_id_are_404(client, s):
    draft = ops.save_referral(
        s["track"].id,
        to_agency=s["rsud"],
        sharing=ops.Sharing(identity=True),
        message=None,
        actor=s["manager"],
        send=False,
        expected_version=s["track"].version,
    )
    login_as(client, s["nurse"])
    assert client.get(f"/rujukan/{draft.id}").status_code == 404
    assert client.post(f"/rujukan/{draft.id}/terima", data={"version": "1"}).status_code == 404
    assert draft.id not in _inbox_ids(client)
    assert client.get("/rujukan/987654").status_code == 404

    # a referral sent to the puskesmas is not the RSUD's
    other_case = create_case(s["uptd"], actor=s["manager"], case_manager=s["manager"])
    other_track = create_track(
        other_case,
        other_case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=s["puskesmas"],
        actor=s["manager"],
    )
    theirs = ops.save_referral(
        other_track.id,
        to_agency=s["puskesmas"],
        sharing=ops.Sharing(),
        message=None,
        actor=s["supervisor"],
        send=True,
        override_reason="Korban tidak sadar, butuh visum segera",
        expected_version=other_track.version,
    )
    assert client.get(f"/rujukan/{theirs.id}").status_code == 404
    assert theirs.id not in _inbox_ids(client)


def _inbox_ids(client: Any) -> list[int]:
    ids: list[int] = []
    for tab in ("baru", "segera", "terlambat", "berjalan", "selesai"):
        page = client.get(f"/rujukan?tab={tab}").get_data(as_text=True)
        ids += [int(x) for x in re.findall(r'data-referral="(\d+)"', page)]
    return ids


def case_routes(s: dict[str, Any], referral: Any) -> list[tuple[str, str]]:
    c, v, t = s["case"].id, s["victim"].id, s["track"].id
    return [
        ("GET", f"/kasus/{c}"),
        ("GET", f"/kasus/{c}/ubah"),
        ("POST", f"/kasus/{c}/ubah"),
        ("POST", f"/kasus/{c}/catatan"),
        ("GET", f"/kasus/{c}/korban/{v}/asesmen"),
        ("POST", f"/kasus/{c}/korban/{v}/asesmen"),
        ("POST", f"/kasus/{c}/korban/{v}/identitas"),
        ("POST", f"/kasus/{c}/korban/{v}/persetujuan"),
        ("POST", f"/kasus/{c}/lampiran"),
        ("GET", f"/kasus/{c}/lampiran/{s['shared'].id}"),
        ("GET", f"/kasus/{c}/lampiran/{s['unshared'].id}"),
        ("POST", f"/kasus/{c}/langkah/start_intervention"),
        ("POST", f"/kasus/{c}/layanan/{t}/start"),
        ("POST", f"/kasus/{c}/layanan/{t}/accept"),
        ("POST", f"/kasus/{c}/layanan/{t}/rujukan"),
        ("POST", f"/kasus/{c}/manajer"),
        ("POST", f"/kasus/{c}/pelimpahan"),
        ("POST", f"/kasus/{c}/pelimpahan/1/tarik"),
        ("POST", f"/kasus/{c}/rencana"),
        ("POST", f"/kasus/{c}/rujukan/{referral.id}/catatan"),
        ("POST", f"/kasus/{c}/rujukan/{referral.id}/tarik"),
    ]


def test_the_receiving_staff_reach_nothing_of_the_case(client, s):
    referral = refer(s, identity=True, incident=True, assessment=True)
    login_as(client, s["nurse"])
    for method, url in case_routes(s, referral):
        response = client.open(url, method=method, data={"version": "1", "note": "x"})
        assert response.status_code in (403, 404), (method, url, response.status_code)
        assert NAME not in response.get_data(as_text=True)
    assert db.session.get(type(referral), referral.id).state.value == "dikirim"


def referral_routes(referral: Any, attachment: Any) -> list[tuple[str, str]]:
    r = referral.id
    return [
        ("GET", f"/rujukan/{r}"),
        ("POST", f"/rujukan/{r}/terima"),
        ("POST", f"/rujukan/{r}/tolak"),
        ("POST", f"/rujukan/{r}/mulai"),
        ("POST", f"/rujukan/{r}/selesai"),
        ("POST", f"/rujukan/{r}/catatan"),
        ("GET", f"/rujukan/{r}/lampiran/{attachment.id}"),
    ]


def test_a_third_agency_receiving_referrals_gets_404_everywhere(client, s):
    referral = refer(s, identity=True, attachment_ids=(s["shared"].id,))
    login_as(client, s["puskesmas_nurse"])
    for method, url in referral_routes(referral, s["shared"]):
        response = client.open(
            url,
            method=method,
            data={"version": str(referral.version), "reason": "x", "outcome": "x", "note": "x"},
        )
        assert response.status_code == 404, (method, url, response.status_code)
    fresh = db.session.get(type(referral), referral.id)
    assert fresh.state.value == "dikirim" and fresh.first_opened_at is None
    assert [e.kind for e in fresh.events] == ["send"]


def test_the_case_side_has_no_receiving_pages(client, s):
    referral = refer(s, identity=True, attachment_ids=(s["shared"].id,))
    login_as(client, s["manager"])
    for method, url in referral_routes(referral, s["shared"]):
        response = client.open(url, method=method, data={"version": str(referral.version)})
        assert response.status_code in (403, 404), (method, url, response.status_code)


# --- the sending routes ------------------------------------------------------------------------


def sending_routes(s: dict[str, Any], referral: Any) -> list[tuple[str, dict[str, Any]]]:
    c = s["case"].id
    return [
        (
            f"/kasus/{c}/layanan/{s['track'].id}/rujukan",
            {"to_agency": s["rsud"].id, "action": "send", "share_identity": "y"},
        ),
        (f"/kasus/{c}/rujukan/{referral.id}/tarik", {"reason": "Ditarik orang luar"}),
        (f"/kasus/{c}/rujukan/{referral.id}/catatan", {"note": "Catatan orang luar"}),
    ]


@pytest.mark.parametrize("who", ["other_manager", "other_supervisor"])
def test_the_sending_routes_are_404_for_other_agencies(client, s, who):
    referral = refer(s)
    login_as(client, s[who])
    for url, data in sending_routes(s, referral):
        data = {**data, "version": str(referral.version)}
        assert client.post(url, data=data).status_code == 404, url
    fresh = db.session.get(type(referral), referral.id)
    assert fresh.state.value == "dikirim"
    assert [e.kind for e in fresh.events] == ["send"]


@pytest.mark.parametrize("who", ["intake_officer", "nurse", "puskesmas_nurse"])
def test_the_sending_routes_are_403_without_cases_manage(client, s, who):
    referral = refer(s)
    login_as(client, s[who])
    for url, data in sending_routes(s, referral):
        data = {**data, "version": str(referral.version)}
        assert client.post(url, data=data).status_code == 403, url
    assert [e.kind for e in db.session.get(type(referral), referral.id).events] == ["send"]


def test_the_case_side_withdraws_and_writes_notes_through_its_routes(client, s):
    referral = refer(s)
    login_as(client, s["manager"])
    c = s["case"].id
    response = client.post(f"/kasus/{c}/rujukan/{referral.id}/catatan", data={"note": "Kabar?"})
    assert response.status_code == 302
    response = client.post(
        f"/kasus/{c}/rujukan/{referral.id}/tarik",
        data={"reason": "Korban pindah kota", "version": str(referral.version)},
    )
    assert response.status_code == 302
    fresh = db.session.get(type(referral), referral.id)
    assert fresh.state.value == "ditarik"
    assert [e.kind for e in fresh.events] == ["send", "note", "withdraw"]


# --- an answer not given in time ---------------------------------------------------------------


def receiving_side_notes(s: dict[str, Any]) -> list[Notification]:
    people = [s["nurse"].id]
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id.in_(people), Notification.kind.like("deadline_%"))
            .order_by(Notification.id)
        )
    )


def answer_deadline(s: dict[str, Any]) -> Deadline:
    return db.session.scalars(
        select(Deadline).where(
            Deadline.track_id == s["track"].id, Deadline.code == DeadlineCode.REFERRAL_RESPONSE
        )
    ).one()


def test_a_missed_answer_is_marked_and_told_to_the_receiving_staff_once(app, s):
    """The answer's deadline names no person: the receiving agency's referral staff are told,
    by a message that leads to the referral (they cannot open the case); a second run of the
    check tells nobody again."""
    referral = refer(s)
    due = answer_deadline(s)
    assert due.responsible_agency_id == s["rsud"].id and due.responsible_user_id is None
    later = due.due_at + MINUTE
    check_overdue.run(now=due.due_at - MINUTE)
    assert receiving_side_notes(s) == [] and answer_deadline(s).missed_at is None

    check_overdue.run(now=later)
    due = answer_deadline(s)
    assert due.missed_at == due.due_at and due.notified_at is not None
    told = receiving_side_notes(s)
    assert [(n.user_id, n.kind, n.case_id) for n in told] == [
        (s["nurse"].id, "deadline_missed", None)
    ]
    assert told[0].reference == s["case"].reference
    with app.test_request_context():
        assert link_path(told[0]) == f"/rujukan/{referral.id}"

    everything = db.session.query(Notification).count()
    check_overdue.run(now=later)
    assert db.session.query(Notification).count() == everything
    assert receiving_side_notes(s) == told


def test_a_missed_answer_is_escalated_once_to_both_agencies_supervisors(app, s):
    rsud_supervisor = UserFactory(roles=[(Role.SUPERVISOR, s["rsud"])])
    referral = refer(s)
    due = answer_deadline(s)
    check_overdue.run(now=due.due_at + MINUTE)
    assert not db.session.scalars(
        select(Notification).where(Notification.kind == "deadline_escalated")
    ).all()

    much_later = due.due_at + ESCALATION_GRACE + MINUTE
    check_overdue.run(now=much_later)
    assert answer_deadline(s).escalated_at is not None
    escalated = {
        n.user_id: n
        for n in db.session.scalars(
            select(Notification).where(
                Notification.kind == "deadline_escalated",
                Notification.reference == s["case"].reference,
                Notification.key.like(f"referral:{referral.id}:%"),
            )
        )
    }
    assert set(escalated) == {rsud_supervisor.id}  # outside the case's agency: by the referral
    assert escalated[rsud_supervisor.id].case_id is None
    ours = db.session.scalars(
        select(Notification).where(
            Notification.kind == "deadline_escalated",
            Notification.user_id == s["supervisor"].id,
        )
    ).all()
    assert ours and all(n.case_id == s["case"].id for n in ours)  # the sending side's supervisor

    everything = db.session.query(Notification).count()
    check_overdue.run(now=much_later + MINUTE)
    assert db.session.query(Notification).count() == everything


# --- sharing ends with the referral ------------------------------------------------------------

NOTE = "Pasien datang untuk kontrol pertama"
OUTCOME = "Visum selesai dan hasilnya dikirim ke penyidik"
ENDED = "Berbagi data berakhir"


def _refer_everything(s: dict[str, Any]) -> Any:
    referral = refer(
        s, identity=True, incident=True, assessment=True, attachment_ids=(s["shared"].id,)
    )
    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.add_progress_note(referral.id, NOTE, actor=s["nurse"])
    return referral


def _withdrawn(s: dict[str, Any]) -> Any:
    referral = refer(
        s, identity=True, incident=True, assessment=True, attachment_ids=(s["shared"].id,)
    )
    ops.add_progress_note(referral.id, NOTE, actor=s["nurse"])
    return ops.withdraw_referral(
        referral.id,
        "Korban pindah ke kota lain",
        actor=s["manager"],
        expected_version=referral.version,
    )


def _declined(s: dict[str, Any]) -> Any:
    referral = refer(
        s, identity=True, incident=True, assessment=True, attachment_ids=(s["shared"].id,)
    )
    ops.add_progress_note(referral.id, NOTE, actor=s["nurse"])
    return ops.decline_referral(
        referral.id,
        "Dokter forensik tidak ada",
        actor=s["nurse"],
        expected_version=referral.version,
    )


def _completed(s: dict[str, Any], days_ago: int) -> Any:
    referral = _refer_everything(s)
    ops.start_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.complete_referral(referral.id, OUTCOME, actor=s["nurse"], expected_version=referral.version)
    referral.ended_at = utcnow() - dt.timedelta(days=days_ago)
    db.session.flush()
    return referral


SHARED = (NAME, NIK, PHONE, ADDRESS, INCIDENT_SUMMARY, SHARED_FILE, NEEDS[AssessmentArea.FISIK])


def _sender_still_sees_everything(app: Any, s: dict[str, Any]) -> None:
    client = app.test_client()  # the sending agency, in a browser of its own
    page = page_of(client, s["manager"], f"/kasus/{s['case'].id}")
    for shown in (NAME, KRONOLOGI, SHARED_FILE):
        assert shown in page, shown
    own = client.get(f"/kasus/{s['case'].id}/lampiran/{s['shared'].id}")
    assert own.status_code == 200 and own.data == PNG


@pytest.mark.parametrize(
    ("end", "line", "kept"),
    [
        (_withdrawn, "rujukan ditarik", "Korban pindah ke kota lain"),
        (_declined, "rujukan ditolak", "Dokter forensik tidak ada"),
        (lambda s: _completed(s, days_ago=31), "rujukan selesai lebih dari 30 hari lalu", OUTCOME),
    ],
    ids=["withdrawn", "declined", "completed-past-grace"],
)
def test_sharing_ends_when_the_referral_ends(app, client, s, end, line, kept):
    referral = end(s)
    page = page_of(client, s["nurse"], f"/rujukan/{referral.id}")
    for secret in SHARED:
        assert secret not in page, secret
    assert f"{ENDED}: {line}" in page
    # the referral's own history stays: its message, its states and notes, how it ended
    for own in ("Mohon pemeriksaan", s["case"].reference, NOTE, kept):
        assert own in page, own
    download = client.get(f"/rujukan/{referral.id}/lampiran/{s['shared'].id}")
    assert download.status_code == 404
    _sender_still_sees_everything(app, s)


def test_a_completed_referral_shares_during_the_grace_period(client, s):
    referral = _completed(s, days_ago=29)
    page = page_of(client, s["nurse"], f"/rujukan/{referral.id}")
    for shown in SHARED:
        assert shown in page, shown
    assert ENDED not in page and OUTCOME in page
    assert KRONOLOGI not in page
    ok = client.get(f"/rujukan/{referral.id}/lampiran/{s['shared'].id}")
    assert ok.status_code == 200 and ok.data == PNG


def test_the_grace_period_is_a_setting(app, client, s, monkeypatch):
    monkeypatch.setitem(app.config, "REFERRAL_SHARING_GRACE_DAYS", 7)
    referral = _completed(s, days_ago=8)
    page = page_of(client, s["nurse"], f"/rujukan/{referral.id}")
    assert NAME not in page and "rujukan selesai lebih dari 7 hari lalu" in page
    assert client.get(f"/rujukan/{referral.id}/lampiran/{s['shared'].id}").status_code == 404


def test_sharing_active_follows_the_state_and_the_grace_period(app, s):
    from app.referrals.queries import sharing_active

    now = utcnow()
    referral = _refer_everything(s)
    assert sharing_active(referral, now)
    ops.start_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.complete_referral(referral.id, OUTCOME, actor=s["nurse"], expected_version=referral.version)
    ended = referral.ended_at
    assert sharing_active(referral, ended + dt.timedelta(days=30) - MINUTE)
    assert not sharing_active(referral, ended + dt.timedelta(days=30))
