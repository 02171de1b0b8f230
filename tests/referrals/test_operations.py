"""Referral operations (app/referrals/operations.py): the whole life of a referral with the
service track following each step, every refusal, drafts, declines and withdrawals with their
deadlines, progress notes, the first opening and the notifications to the other side."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from app.agencies.models import AgencyService
from app.cases.intake import ConsentData
from app.cases.operations import ConflictError, add_consent
from app.core.db import utcnow
from app.core.enums import ReferralState, Role, ServiceType, TrackState
from app.core.errors import DomainError
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.tasks import compose
from app.referrals import operations as ops
from app.referrals.models import Referral, ReferralEvent
from app.referrals.tasks import notify_referral
from app.services.models import ServiceTrack
from app.workflow.models import CaseTransition
from app.workflow.operations import TransitionRefused
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case

NAME = "Kartika Sulistyaningrum Wibisono"
NIK = "3273015507940003"
PHONE = "081298765432"
ADDRESS = "Jalan Cempaka Putih Nomor 17"
R = ReferralState
T = TrackState


# --- setting -----------------------------------------------------------------------------------


@pytest.fixture
def s() -> dict[str, Any]:
    uptd = AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN])
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    puskesmas = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    polres = AgencyFactory(services=[ServiceType.PENEGAKAN_HUKUM])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    other_manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, uptd)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    nurse2 = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    puskesmas_nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, puskesmas)])
    case = create_case(uptd, actor=manager, case_manager=manager)
    victim = case.victims[0]
    victim.name, victim.nik, victim.phone, victim.address = NAME, NIK, PHONE, ADDRESS
    track = create_track(
        case, victim, ServiceType.REHABILITASI_KESEHATAN, provider=rsud, actor=manager
    )
    db.session.flush()
    return {
        "uptd": uptd,
        "rsud": rsud,
        "puskesmas": puskesmas,
        "polres": polres,
        "manager": manager,
        "other_manager": other_manager,
        "supervisor": supervisor,
        "nurse": nurse,
        "nurse2": nurse2,
        "puskesmas_nurse": puskesmas_nurse,
        "case": case,
        "victim": victim,
        "track": track,
    }


def consent(
    victim: Any, agency: Any, actor: Any, decision: str = "setuju", at: dt.datetime | None = None
) -> Any:
    return add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{agency.code}",
            decision=decision,
            given_by="korban",
            at=at or utcnow(),
        ),
        actor=actor,
    )


def send(s: dict[str, Any], *, to: Any = None, actor: Any = None, **kwargs: Any) -> Referral:
    kwargs.setdefault("sharing", ops.Sharing(incident=True))
    kwargs.setdefault("message", "Mohon visum et repertum")
    kwargs.setdefault("send", True)
    # the versions the referral form carries: the track's, and its draft's when there is one
    kwargs.setdefault("expected_version", track_of(s).version)
    if "expected_draft_version" not in kwargs:
        draft = db.session.scalar(
            select(Referral).where(Referral.track_id == s["track"].id, Referral.state == R.DRAF)
        )
        kwargs["expected_draft_version"] = draft.version if draft is not None else None
    return ops.save_referral(
        s["track"].id, to_agency=to or s["rsud"], actor=actor or s["manager"], **kwargs
    )


def sent(s: dict[str, Any], **kwargs: Any) -> Referral:
    consent(s["victim"], kwargs.get("to") or s["rsud"], s["manager"])
    return send(s, **kwargs)


def track_of(s: dict[str, Any]) -> ServiceTrack:
    return db.session.get(ServiceTrack, s["track"].id)


def referral_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Referral))


def kinds(referral: Referral) -> list[str]:
    return list(
        db.session.scalars(
            select(ReferralEvent.kind)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.id)
        )
    )


def response_deadlines(s: dict[str, Any]) -> list[Deadline]:
    return list(
        db.session.scalars(
            select(Deadline)
            .where(
                Deadline.track_id == s["track"].id,
                Deadline.code == DeadlineCode.REFERRAL_RESPONSE,
            )
            .order_by(Deadline.id)
        )
    )


def refused(call: Any, /, *args: Any, **kwargs: Any) -> DomainError:
    """``call`` raises a DomainError (TransitionRefused is one) and writes nothing."""
    before = db.session.scalar(select(func.count()).select_from(ReferralEvent))
    nested = db.session.begin_nested()
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    nested.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReferralEvent)) == before
    return info.value


# --- the whole life ----------------------------------------------------------------------------


def test_the_whole_life_moves_the_track_and_appends_the_events_in_order(s):
    referral = sent(s)
    assert referral.state is R.DIKIRIM and referral.sent_at is not None
    assert referral.consent_entry_id is not None and referral.override_reason is None
    assert track_of(s).state is T.DIRUJUK and track_of(s).provider_id == s["rsud"].id
    (due,) = response_deadlines(s)
    assert due.responsible_agency_id == s["rsud"].id and due.is_open

    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    assert referral.state is R.DITERIMA and referral.accepted_at is not None
    assert track_of(s).state is T.DITERIMA_PENYEDIA
    assert due.met_at is not None and not due.is_open

    ops.start_referral(referral.id, actor=s["nurse2"], expected_version=referral.version)
    assert referral.state is R.BERJALAN and referral.started_at is not None
    assert track_of(s).state is T.BERJALAN and track_of(s).started_at is not None

    ops.complete_referral(
        referral.id,
        "  Visum selesai, dirawat dua hari  ",
        actor=s["nurse"],
        expected_version=referral.version,
    )
    assert referral.state is R.SELESAI
    assert referral.outcome == "Visum selesai, dirawat dua hari"
    assert referral.ended_at is not None and not referral.is_open
    track = track_of(s)
    assert track.state is T.SELESAI and track.ended_at is not None

    # the referral's own history, in order, each step with its states and its side
    events = list(
        db.session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.id)
        )
    )
    assert [(e.kind, e.from_state, e.to_state) for e in events] == [
        ("send", "draf", "dikirim"),
        ("accept", "dikirim", "diterima"),
        ("start", "diterima", "berjalan"),
        ("complete", "berjalan", "selesai"),
    ]
    assert [e.agency_id for e in events] == [s["uptd"].id] + [s["rsud"].id] * 3
    assert events[0].data["shared"] == ["kejadian"]
    assert events[-1].text == "Visum selesai, dirawat dua hari"

    # the track's history: the same steps through the track workflow
    rows = list(
        db.session.scalars(
            select(CaseTransition)
            .where(CaseTransition.track_id == track.id)
            .order_by(CaseTransition.at, CaseTransition.id)
        )
    )
    assert [(r.event, r.from_state, r.to_state) for r in rows][-4:] == [
        ("refer", "direncanakan", "dirujuk"),
        ("accept", "dirujuk", "diterima_penyedia"),
        ("start", "diterima_penyedia", "berjalan"),
        ("complete_referred", "berjalan", "selesai"),
    ]
    assert rows[-1].data == {"outcome": "Visum selesai, dirawat dua hari"}


# --- consent and override ----------------------------------------------------------------------


def test_sending_without_consent_is_refused_and_writes_nothing(s):
    error = refused(send, s)
    assert isinstance(error, TransitionRefused)
    assert referral_count() == 0
    assert track_of(s).state is T.DIRENCANAKAN
    assert response_deadlines(s) == []


def test_the_consent_to_another_agency_does_not_count(s):
    consent(s["victim"], s["puskesmas"], s["manager"])
    refused(send, s, to=s["rsud"])
    assert track_of(s).state is T.DIRENCANAKAN


def test_a_consent_withdrawn_later_does_not_count(s):
    now = utcnow()
    consent(s["victim"], s["rsud"], s["manager"], at=now - dt.timedelta(hours=2))
    consent(
        s["victim"], s["rsud"], s["manager"], decision="menolak", at=now - dt.timedelta(hours=1)
    )
    refused(send, s)
    assert track_of(s).state is T.DIRENCANAKAN


def test_a_consent_given_again_after_a_refusal_counts(s):
    now = utcnow()
    consent(
        s["victim"], s["rsud"], s["manager"], decision="menolak", at=now - dt.timedelta(hours=2)
    )
    entry = consent(s["victim"], s["rsud"], s["manager"], at=now - dt.timedelta(hours=1))
    referral = send(s)
    assert referral.consent_entry_id == entry.id


def test_a_supervisor_overrides_the_missing_consent_with_a_reason(s):
    referral = send(
        s, actor=s["supervisor"], override_reason="  Korban tidak sadar, butuh visum segera  "
    )
    assert referral.state is R.DIKIRIM
    assert referral.consent_entry_id is None
    assert referral.override_reason == "Korban tidak sadar, butuh visum segera"
    assert referral.override_by_id == s["supervisor"].id
    (event,) = [e for e in referral.events if e.kind == "send"]
    assert event.text == "Korban tidak sadar, butuh visum segera"
    assert track_of(s).state is T.DIRUJUK


def test_an_override_reason_shorter_than_ten_characters_is_refused(s):
    error = refused(send, s, actor=s["supervisor"], override_reason="  darurat  ")
    assert error.field == "override_reason"
    assert referral_count() == 0


def test_a_case_manager_cannot_override_the_consent(s):
    error = refused(
        send, s, actor=s["manager"], override_reason="Korban tidak sadar, butuh visum segera"
    )
    assert error.field == "override_reason"
    assert referral_count() == 0
    assert track_of(s).state is T.DIRENCANAKAN


# --- the provider ------------------------------------------------------------------------------


def test_an_agency_that_does_not_provide_the_service_is_refused(s):
    consent(s["victim"], s["polres"], s["manager"])
    error = refused(send, s, to=s["polres"])
    assert error.field == "to_agency"
    assert referral_count() == 0


def test_the_own_agency_is_refused(s):
    # even when the case's agency provides the service itself
    s["uptd"].services.append(AgencyService(service_type=ServiceType.REHABILITASI_KESEHATAN))
    db.session.flush()
    assert s["uptd"].provides(ServiceType.REHABILITASI_KESEHATAN)
    consent(s["victim"], s["uptd"], s["manager"])
    error = refused(send, s, to=s["uptd"])
    assert error.field == "to_agency"
    assert referral_count() == 0


def test_an_inactive_agency_is_refused(s):
    consent(s["victim"], s["puskesmas"], s["manager"])
    s["puskesmas"].active = False
    db.session.flush()
    assert refused(send, s, to=s["puskesmas"]).field == "to_agency"


def test_only_the_case_side_sends(s):
    consent(s["victim"], s["rsud"], s["manager"])
    refused(send, s, actor=s["nurse"])
    refused(send, s, actor=s["other_manager"])  # another case manager's case
    assert referral_count() == 0


# --- the receiving side's refusals -------------------------------------------------------------


def test_declining_needs_a_reason(s):
    referral = sent(s)
    for reason in (None, "", "   "):
        refused(
            ops.decline_referral,
            referral.id,
            reason,
            actor=s["nurse"],
            expected_version=referral.version,
        )
    assert referral.state is R.DIKIRIM
    assert track_of(s).state is T.DIRUJUK


def test_completing_needs_an_outcome(s):
    referral = sent(s)
    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.start_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    for outcome in (None, "", "  "):
        refused(
            ops.complete_referral,
            referral.id,
            outcome,
            actor=s["nurse"],
            expected_version=referral.version,
        )
    assert referral.state is R.BERJALAN
    assert track_of(s).state is T.BERJALAN


def test_only_the_receiving_agency_answers(s):
    referral = sent(s)
    refused(
        ops.accept_referral,
        referral.id,
        actor=s["puskesmas_nurse"],
        expected_version=referral.version,
    )
    refused(
        ops.accept_referral, referral.id, actor=s["manager"], expected_version=referral.version
    )  # the sender
    refused(
        ops.accept_referral, referral.id, actor=s["supervisor"], expected_version=referral.version
    )
    refused(
        ops.decline_referral,
        referral.id,
        "Penuh",
        actor=s["manager"],
        expected_version=referral.version,
    )
    assert referral.state is R.DIKIRIM
    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    refused(
        ops.start_referral,
        referral.id,
        actor=s["puskesmas_nurse"],
        expected_version=referral.version,
    )
    refused(ops.start_referral, referral.id, actor=s["manager"], expected_version=referral.version)
    ops.start_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    refused(
        ops.complete_referral,
        referral.id,
        "Selesai",
        actor=s["manager"],
        expected_version=referral.version,
    )
    refused(
        ops.complete_referral,
        referral.id,
        "Selesai",
        actor=s["puskesmas_nurse"],
        expected_version=referral.version,
    )
    assert referral.state is R.BERJALAN


def test_steps_out_of_order_are_refused(s):
    referral = sent(s)
    refused(ops.start_referral, referral.id, actor=s["nurse"], expected_version=referral.version)
    refused(
        ops.complete_referral,
        referral.id,
        "Selesai",
        actor=s["nurse"],
        expected_version=referral.version,
    )
    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    refused(ops.accept_referral, referral.id, actor=s["nurse"], expected_version=referral.version)
    refused(
        ops.decline_referral,
        referral.id,
        "Sudah diterima",
        actor=s["nurse"],
        expected_version=referral.version,
    )
    refused(
        ops.complete_referral,
        referral.id,
        "Selesai",
        actor=s["nurse"],
        expected_version=referral.version,
    )
    ops.start_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    refused(ops.start_referral, referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.complete_referral(
        referral.id, "Selesai", actor=s["nurse"], expected_version=referral.version
    )
    for step in (ops.accept_referral, ops.start_referral):
        refused(step, referral.id, actor=s["nurse"], expected_version=referral.version)
    refused(
        ops.withdraw_referral,
        referral.id,
        "Sudah selesai",
        actor=s["manager"],
        expected_version=referral.version,
    )
    assert referral.state is R.SELESAI and track_of(s).state is T.SELESAI


def test_a_draft_cannot_be_answered(s):
    draft = send(s, send=False)
    assert draft.state is R.DRAF
    refused(ops.accept_referral, draft.id, actor=s["nurse"], expected_version=draft.version)
    refused(
        ops.decline_referral, draft.id, "Tidak", actor=s["nurse"], expected_version=draft.version
    )
    assert track_of(s).state is T.DIRENCANAKAN


def test_a_stale_version_is_a_conflict(s):
    referral = sent(s)
    seen = referral.version
    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=seen)
    assert referral.version > seen
    with pytest.raises(ConflictError):
        ops.start_referral(referral.id, actor=s["nurse2"], expected_version=seen)
    with pytest.raises(ConflictError):
        ops.withdraw_referral(referral.id, "Salah kirim", actor=s["manager"], expected_version=seen)
    assert referral.state is R.DITERIMA


def test_a_stale_draft_is_a_conflict(s):
    draft = send(s, send=False)
    seen = draft.version
    send(s, send=False, message="Diubah orang lain", expected_draft_version=seen)
    assert draft.version > seen
    consent(s["victim"], s["rsud"], s["manager"])
    with pytest.raises(ConflictError):
        send(s, expected_draft_version=seen)
    assert draft.state is R.DRAF


# --- drafts, one open referral, decline and withdraw -------------------------------------------


def test_a_draft_then_sending_reuses_the_draft(s):
    draft = send(s, send=False, sharing=ops.Sharing(identity=True), message="Konsep pertama")
    assert draft.state is R.DRAF and draft.sent_at is None
    assert track_of(s).state is T.DIRENCANAKAN
    assert response_deadlines(s) == []
    consent(s["victim"], s["rsud"], s["manager"])
    referral = send(s, sharing=ops.Sharing(incident=True), message="Mohon visum")
    assert referral.id == draft.id and referral_count() == 1
    assert referral.state is R.DIKIRIM
    assert (referral.share_identity, referral.share_incident) == (False, True)
    assert referral.message == "Mohon visum"
    assert kinds(referral) == ["draft", "send"]


def test_only_one_referral_of_a_track_is_open(s):
    first = sent(s)
    consent(s["victim"], s["puskesmas"], s["manager"])
    refused(send, s, to=s["puskesmas"])
    refused(send, s, to=s["puskesmas"], send=False)
    assert referral_count() == 1 and first.state is R.DIKIRIM


def test_after_a_decline_the_track_is_planned_again_and_goes_elsewhere(s):
    first = sent(s)
    ops.decline_referral(
        first.id, "  Tempat tidur penuh  ", actor=s["nurse"], expected_version=first.version
    )
    assert first.state is R.DITOLAK and first.decline_reason == "Tempat tidur penuh"
    assert first.ended_at is not None
    assert track_of(s).state is T.DIRENCANAKAN
    (due,) = response_deadlines(s)
    assert due.met_at is not None  # the answer was given, in time

    second = sent(s, to=s["puskesmas"])
    assert second.id != first.id and second.state is R.DIKIRIM
    assert track_of(s).provider_id == s["puskesmas"].id
    assert track_of(s).state is T.DIRUJUK
    assert [d.responsible_agency_id for d in response_deadlines(s)] == [
        s["rsud"].id,
        s["puskesmas"].id,
    ]
    # the first agency no longer acts on the track
    refused(ops.accept_referral, first.id, actor=s["nurse"], expected_version=first.version)
    ops.accept_referral(second.id, actor=s["puskesmas_nurse"], expected_version=second.version)
    assert track_of(s).state is T.DITERIMA_PENYEDIA


def test_withdrawing_needs_a_reason_and_only_the_case_side(s):
    referral = sent(s)
    refused(
        ops.withdraw_referral,
        referral.id,
        None,
        actor=s["manager"],
        expected_version=referral.version,
    )
    refused(
        ops.withdraw_referral,
        referral.id,
        "  ",
        actor=s["manager"],
        expected_version=referral.version,
    )
    refused(
        ops.withdraw_referral,
        referral.id,
        "Bukan urusan",
        actor=s["nurse"],
        expected_version=referral.version,
    )
    refused(
        ops.withdraw_referral,
        referral.id,
        "Bukan kasusnya",
        actor=s["other_manager"],
        expected_version=referral.version,
    )
    assert referral.state is R.DIKIRIM


def test_withdrawing_cancels_the_answer_deadline_but_not_the_tppo_start(s):
    case = create_case(
        s["uptd"], actor=s["manager"], case_manager=s["manager"], case_types=["tppo"]
    )
    case.victims[0].tppo_cara = ["penipuan"]
    db.session.flush()
    track = create_track(
        case,
        case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=s["rsud"],
        actor=s["manager"],
    )
    s = {**s, "case": case, "victim": case.victims[0], "track": track}
    (tppo,) = db.session.scalars(
        select(Deadline).where(
            Deadline.track_id == track.id, Deadline.code == DeadlineCode.TPPO_SERVICE_START
        )
    )
    referral = sent(s)
    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.withdraw_referral(
        referral.id,
        "Korban pindah ke luar kota",
        actor=s["manager"],
        expected_version=referral.version,
    )
    assert referral.state is R.DITARIK
    assert referral.withdraw_reason == "Korban pindah ke luar kota"
    assert track_of(s).state is T.DIRENCANAKAN
    assert tppo.is_open and tppo.cancelled_at is None and tppo.completed_at is None


def test_withdrawing_before_the_answer_cancels_the_answer_deadline(s):
    referral = sent(s)
    (due,) = response_deadlines(s)
    ops.withdraw_referral(
        referral.id,
        "Salah lembaga tujuan",
        actor=s["supervisor"],
        expected_version=referral.version,
    )
    assert due.cancelled_at is not None and due.met_at is None and not due.is_open
    assert track_of(s).state is T.DIRENCANAKAN
    assert [e.kind for e in referral.events][-1] == "withdraw"
    # the receiver can no longer answer
    refused(ops.accept_referral, referral.id, actor=s["nurse"], expected_version=referral.version)


# --- progress notes and the first opening ------------------------------------------------------


def test_progress_notes_by_both_sides_while_open(s):
    referral = sent(s)
    mine = ops.add_progress_note(referral.id, "Jadwal kontrol besok", actor=s["manager"])
    theirs = ops.add_progress_note(referral.id, "Sudah dijadwalkan", actor=s["nurse"])
    assert (mine.kind, mine.agency_id) == ("note", s["uptd"].id)
    assert (theirs.kind, theirs.agency_id) == ("note", s["rsud"].id)
    refused(ops.add_progress_note, referral.id, "Ingin tahu", actor=s["puskesmas_nurse"])
    refused(ops.add_progress_note, referral.id, "Ingin tahu", actor=s["other_manager"])
    refused(ops.add_progress_note, referral.id, "   ", actor=s["manager"])
    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.start_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.add_progress_note(referral.id, "Perawatan hari pertama", actor=s["nurse"])
    ops.complete_referral(
        referral.id, "Selesai dirawat", actor=s["nurse"], expected_version=referral.version
    )
    refused(ops.add_progress_note, referral.id, "Terlambat", actor=s["nurse"])
    refused(ops.add_progress_note, referral.id, "Terlambat", actor=s["manager"])
    assert [k for k in kinds(referral) if k == "note"] == ["note"] * 3


def test_no_notes_on_a_draft(s):
    draft = send(s, send=False)
    refused(ops.add_progress_note, draft.id, "Catatan", actor=s["manager"])


def test_the_first_opening_is_kept(s):
    referral = sent(s)
    assert referral.first_opened_at is None
    ops.record_opened(referral, actor=s["nurse"])
    first = referral.first_opened_at
    assert first is not None
    ops.record_opened(referral, actor=s["nurse2"])
    ops.record_opened(referral, actor=s["nurse"])
    assert db.session.get(Referral, referral.id).first_opened_at == first
    assert kinds(referral).count("opened") == 1


# --- notifications -----------------------------------------------------------------------------


def notes(key: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.key == key).order_by(Notification.user_id)
        )
    )


def assert_no_identity(app: Any) -> None:
    everything = list(db.session.scalars(select(Notification)))
    with app.test_request_context():
        for note in everything:
            subject, body = compose(note, "id")
            text = " ".join([subject, body, note.reference or "", note.key or "", note.kind])
            for secret in (NAME, NIK, PHONE, ADDRESS, "Siti Aminah", "Joko"):
                assert secret not in text, (note.kind, text)


def test_notifications_go_to_the_other_side_once_and_name_no_one(app, s):
    referral = sent(s)
    key = f"referral:{referral.id}:sent"
    assert notify_referral.run(referral.id, "sent") == 2
    told = notes(key)
    assert {n.user_id for n in told} == {s["nurse"].id, s["nurse2"].id}
    assert {(n.kind, n.case_id, n.reference) for n in told} == {
        ("referral_received", None, s["case"].reference)
    }
    assert notify_referral.run(referral.id, "sent") == 0  # idempotent
    assert len(notes(key)) == 2

    ops.accept_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    assert notify_referral.run(referral.id, "accepted") == 1
    (note,) = notes(f"referral:{referral.id}:accepted")
    assert (note.user_id, note.kind, note.case_id) == (
        s["manager"].id,
        "referral_accepted",
        s["case"].id,
    )
    assert notify_referral.run(referral.id, "accepted") == 0

    ops.start_referral(referral.id, actor=s["nurse"], expected_version=referral.version)
    ops.complete_referral(
        referral.id, "Visum selesai", actor=s["nurse"], expected_version=referral.version
    )
    assert notify_referral.run(referral.id, "completed") == 1
    (note,) = notes(f"referral:{referral.id}:completed")
    assert (note.user_id, note.kind) == (s["manager"].id, "referral_completed")
    assert notify_referral.run(referral.id, "completed") == 0
    assert_no_identity(app)


def test_a_decline_is_told_to_the_case_manager_and_the_sender(app, s):
    referral = sent(s, actor=s["supervisor"])
    ops.decline_referral(
        referral.id,
        "Dokter forensik tidak ada",
        actor=s["nurse"],
        expected_version=referral.version,
    )
    assert notify_referral.run(referral.id, "declined") == 2
    told = notes(f"referral:{referral.id}:declined")
    assert {n.user_id for n in told} == {s["manager"].id, s["supervisor"].id}
    assert {n.kind for n in told} == {"referral_declined"}
    assert notify_referral.run(referral.id, "declined") == 0
    assert_no_identity(app)


def test_an_override_referral_tells_the_receiver_without_identity(app, s):
    referral = send(
        s,
        actor=s["supervisor"],
        sharing=ops.Sharing(identity=True, incident=True),
        override_reason="Korban tidak sadar, butuh visum segera",
    )
    assert notify_referral.run(referral.id, "sent") == 2
    assert_no_identity(app)


def test_a_note_is_told_to_the_other_side_only(s):
    referral = sent(s)
    mine = ops.add_progress_note(referral.id, "Mohon kabar", actor=s["manager"])
    assert notify_referral.run(referral.id, f"note:{mine.id}") == 2
    assert {n.user_id for n in notes(f"referral:{referral.id}:note:{mine.id}")} == {
        s["nurse"].id,
        s["nurse2"].id,
    }
    theirs = ops.add_progress_note(referral.id, "Sudah dijadwalkan", actor=s["nurse"])
    assert notify_referral.run(referral.id, f"note:{theirs.id}") == 1
    (note,) = notes(f"referral:{referral.id}:note:{theirs.id}")
    assert note.user_id == s["manager"].id
    assert notify_referral.run(referral.id, f"note:{theirs.id}") == 0
