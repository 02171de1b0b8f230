"""The demo's working day (app/demo/day.py, app/demo/figures.py): every role finds work waiting
when it signs in — read from the session's committed demo database (``demo_app``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.cases import storage
from app.cases.models import Attachment, Case, CaseNote, ConsentEntry
from app.core.db import utcnow
from app.core.enums import CaseState, Channel, ReferralState, TrackState, TransferState
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.deadlines.tasks import ESCALATION_GRACE
from app.demo import data
from app.demo.cases import demo_records, host_records
from app.demo.day import DAY_SERVICES, KINDS, PARTNERS, referral_hosts
from app.demo.figures import DATA_OFFICER, TARGETS
from app.extensions import db
from app.indicators.models import IndicatorTarget, IndicatorValue
from app.indicators.periods import JAKARTA, previous_month
from app.notifications.models import Notification
from app.quality.queries import queue_for
from app.referrals.models import Referral
from app.referrals.queries import inbox
from app.regions.queries import get_region_by_code
from app.workflow.models import CaseTransfer
from tests.test_pages import post_form

DAY = dt.timedelta(days=1)

# what each partner agency's referrals are at the end of the day
STATES = {
    ReferralState.DIKIRIM: 2,  # one just sent, one overdue and escalated
    ReferralState.DITERIMA: 1,
    ReferralState.BERJALAN: 1,
    ReferralState.SELESAI: 1,
    ReferralState.DITOLAK: 1,
    ReferralState.DITARIK: 1,
}
TRACK_OF = {
    ReferralState.DIKIRIM: TrackState.DIRUJUK,
    ReferralState.DITERIMA: TrackState.DITERIMA_PENYEDIA,
    ReferralState.BERJALAN: TrackState.BERJALAN,
    ReferralState.SELESAI: TrackState.SELESAI,
    ReferralState.DITOLAK: TrackState.DIRENCANAKAN,
    ReferralState.DITARIK: TrackState.DIRENCANAKAN,
}


def test_the_hosts_of_the_referrals_are_the_same_on_every_load():
    records = [*demo_records(), *host_records(DAY_SERVICES)]
    hosts = referral_hosts(records)
    assert hosts == referral_hosts([*demo_records(), *host_records(DAY_SERVICES)])
    assert len(hosts) == len(PARTNERS) * len(KINDS)
    by_id = {r["external_id"]: r for r in records}
    for host in hosts:
        record = by_id[host.external_id]
        assert record["agency"] == "UPTDPPA-3273" and record["status"] in (
            "intervensi",
            "pemantauan",
        )
        victim = record["victims"][host.position - 1]["key"]
        planned = {s["type"] for s in record.get("services", []) if s["victim"] == victim}
        assert host.partner.service.value not in planned
    # one track per victim and service
    assert len({(h.external_id, h.position, h.partner.service) for h in hosts}) == len(hosts)


@pytest.fixture
def demo(demo_app):
    with demo_app.app_context():
        yield demo_app
        db.session.remove()


def user(email):
    return db.session.scalars(select(User).where(User.email == email)).one()


@pytest.mark.demo_database
def test_every_partner_agency_has_a_referral_in_every_state(demo):
    referrals = db.session.scalars(select(Referral).order_by(Referral.id)).all()
    states = Counter((r.to_agency.code, r.state) for r in referrals)
    for partner in PARTNERS:
        assert {s: states[(partner.code, s)] for s in STATES} == STATES, partner.code
    now = utcnow()
    for r in referrals:
        code = r.to_agency.code
        assert r.from_agency.code == "UPTDPPA-3273"
        assert r.track.state is TRACK_OF[r.state], (code, r.state)
        assert r.track.provider_id == r.to_agency_id
        assert r.to_agency.provides(r.track.service_type)
        # sent with the victim's consent to this referral, recorded before it was sent
        consent = db.session.get(ConsentEntry, r.consent_entry_id)
        assert consent.purpose == f"rujukan:{code}" and consent.decision == "setuju"
        assert consent.victim_id == r.track.victim_id and consent.at <= r.sent_at
        assert r.override_reason is None
        # the events tell the story in order, each by the side that took the step
        times = [e.at for e in r.events]
        assert times == sorted(times) and times[-1] <= now
        assert r.events[0].kind == "send" and r.events[0].at == r.sent_at
        steps = [e.kind for e in r.events if e.kind not in ("opened", "note")]
        expected = {
            ReferralState.DIKIRIM: ["send"],
            ReferralState.DITERIMA: ["send", "accept"],
            ReferralState.BERJALAN: ["send", "accept", "start"],
            ReferralState.SELESAI: ["send", "accept", "start", "complete"],
            ReferralState.DITOLAK: ["send", "decline"],
            ReferralState.DITARIK: ["send", "withdraw"],
        }[r.state]
        assert steps == expected, (code, r.state)
        if r.state is ReferralState.BERJALAN:
            notes = {e.agency_id for e in r.events if e.kind == "note"}
            assert notes == {r.from_agency_id, r.to_agency_id}  # progress notes of both sides
        assert (r.state is ReferralState.SELESAI) == (r.outcome is not None)
        assert (r.state is ReferralState.DITOLAK) == (r.decline_reason is not None)
        assert (r.state is ReferralState.DITARIK) == (r.withdraw_reason is not None)

    # at each agency: one just sent and waiting within its deadline, one overdue and escalated
    for partner in PARTNERS:
        waiting = [
            r
            for r in referrals
            if r.to_agency.code == partner.code and r.state is ReferralState.DIKIRIM
        ]
        answers = [answer_deadline(r) for r in waiting]
        assert sorted(d.escalated_at is not None for d in answers) == [False, True]
        fresh = next(d for d in answers if d.escalated_at is None)
        assert fresh.missed_at is None and fresh.due_at > now and fresh.started_at > now - DAY
        late = next(d for d in answers if d.escalated_at is not None)
        assert late.missed_at == late.due_at and late.due_at <= now - ESCALATION_GRACE


def answer_deadline(referral):
    return db.session.scalars(
        select(Deadline).where(
            Deadline.track_id == referral.track_id,
            Deadline.code == DeadlineCode.REFERRAL_RESPONSE,
        )
    ).one()


@pytest.mark.demo_database
def test_every_partner_agency_has_an_account_that_opens_its_referral_inbox(demo):
    from app.extensions import limiter

    limiter.reset()
    emails = {email: scope for email, _name, _role, scope in data.USERS}
    now = utcnow()
    for partner in PARTNERS:
        assert emails[partner.email] == partner.code
        account = user(partner.email)
        tabs = inbox(account, now).counts
        # waiting: one just sent, one overdue; in progress: accepted, started; finished: the
        # completed, declined and withdrawn ones
        assert (tabs["baru"], tabs["terlambat"]) == (2, 1)
        assert (tabs["berjalan"], tabs["selesai"]) == (2, 3)
        client = demo.test_client()
        response = post_form(
            client, "/masuk", "/masuk", {"email": partner.email, "password": data.DEMO_PASSWORD}
        )
        assert response.status_code == 302
        pages = "".join(
            client.get(f"/rujukan?tab={tab}").get_data(as_text=True)
            for tab in ("baru", "berjalan", "selesai")
        )
        received = db.session.scalars(
            select(Referral).where(Referral.to_agency_id == account.grants[0].agency_id)
        ).all()
        assert len(received) == len(KINDS)
        assert all(r.case.reference in pages for r in received)
        for referral in received:
            assert client.get(f"/rujukan/{referral.id}").status_code == 200


@pytest.mark.demo_database
def test_deadlines_open_met_missed_escalated_and_cancelled(demo):
    now = utcnow()
    deadlines = db.session.scalars(select(Deadline)).all()
    # the demo ran the periodic check once, at the end of its load
    checked = max(d.notified_at for d in deadlines if d.notified_at is not None)

    def state(d):
        if d.cancelled_at is not None:
            return "cancelled"
        if d.escalated_at is not None:
            return "escalated"
        if d.missed_at is not None:
            return "missed late" if d.completed_at is not None else "missed"
        if d.met_at is not None:
            return "met"
        return "open" if d.due_at > checked else "unchecked"

    states = Counter((d.code, state(d)) for d in deadlines)
    answers = {s: n for (code, s), n in states.items() if code is DeadlineCode.REFERRAL_RESPONSE}
    n = len(PARTNERS)
    # per agency: the just-sent answer open; the overdue one escalated; accepted, declined and
    # completed in time met; the one in progress accepted late; the withdrawn one cancelled
    assert answers == {"open": n, "escalated": n, "met": 3 * n, "missed late": n, "cancelled": n}
    first = Counter(
        s for d in deadlines if d.code.value.startswith("first_response") for s in [state(d)]
    )
    # the complaints of the last days and the transferred case
    assert first == {"open": 2, "met": 2, "missed": 1, "escalated": 1}
    assert states[(DeadlineCode.SHELTER_DECISION, "open")] == 1  # the shelter stay in progress
    assert "unchecked" not in {s for _c, s in states}  # the check ran: nothing overdue unmarked
    for d in deadlines:
        assert d.started_at <= checked <= now
        if d.missed_at is not None:
            assert d.missed_at == d.due_at
            # told by the check, or done late (then nobody is chased any more)
            assert (d.notified_at is not None) != (d.completed_at is not None)
        if d.escalated_at is not None:
            assert d.notified_at is not None and d.due_at <= checked - ESCALATION_GRACE

    # the supervisor hears of the escalations, so do the Sub GT coordinators of the services
    kinds = Counter(
        (db.session.get(User, n.user_id).email, n.kind)
        for n in db.session.scalars(select(Notification))
    )
    assert kinds[("supervisor@simpul.demo", "deadline_escalated")] >= n
    assert kinds[("kesehatan@simpul.demo", "deadline_escalated")] == 2  # RSUD, Puskesmas
    assert kinds[("koordinator@simpul.demo", "deadline_escalated")] >= 1
    for partner in PARTNERS:
        assert kinds[(partner.email, "deadline_missed")] == 1
    # "Tenggat saya" of the supervisor: the open first responses and the overdue ones
    from app.deadlines.queries import deadlines_for

    mine = deadlines_for(user("supervisor@simpul.demo"))
    assert any(d.is_overdue(now) for d in mine) and any(not d.is_overdue(now) for d in mine)


@pytest.mark.demo_database
def test_a_transfer_accepted_with_its_receiving_case_and_one_waiting(demo):
    transfers = db.session.scalars(select(CaseTransfer).order_by(CaseTransfer.id)).all()
    assert Counter(t.state for t in transfers) == {
        TransferState.DITERIMA: 1,
        TransferState.MENUNGGU: 1,
    }
    accepted = next(t for t in transfers if t.state is TransferState.DITERIMA)
    original = accepted.case
    received = db.session.get(Case, accepted.new_case_id)
    assert original.state is CaseState.DILIMPAHKAN and original.agency.code == "UPTDPPA-32"
    assert received.transferred_from_id == original.id
    assert received.agency.code == "UPTDPPA-3273" == accepted.to_agency.code
    assert received.channel is Channel.PELIMPAHAN_MASUK
    assert received.reference != original.reference and received.reference.startswith(
        "UPTDPPA-3273-"
    )
    assert received.received_at == accepted.decided_at == original.closed_at
    assert accepted.requested_at < accepted.decided_at <= utcnow()
    # the city took it up: triage by its case manager, a note of the first visit
    assert received.state is CaseState.IDENTIFIKASI
    assert received.case_manager.email == "manajer@simpul.demo"
    assert db.session.scalars(select(CaseNote).where(CaseNote.case_id == received.id)).all()
    assert len(received.victims) == len(original.victims)

    waiting = next(t for t in transfers if t.state is TransferState.MENUNGGU)
    assert waiting.to_agency.code == "UPTDPPA-3273" and waiting.decided_at is None
    assert waiting.case.state not in (CaseState.DILIMPAHKAN,)
    told = db.session.scalars(
        select(Notification).where(Notification.key == f"transfer:{waiting.id}:menunggu")
    ).all()
    assert [db.session.get(User, n.user_id).email for n in told] == ["supervisor@simpul.demo"]


@pytest.mark.demo_database
def test_case_notes_attachments_and_notifications(demo):
    notes = db.session.scalars(select(CaseNote)).all()
    assert len(notes) >= 3 * len(PARTNERS)
    attachments = db.session.scalars(select(Attachment)).all()
    types = Counter(a.content_type for a in attachments)
    assert types["application/pdf"] >= 3 * len(PARTNERS) and types["image/png"] >= len(PARTNERS)
    folder = Path(demo.config["UPLOAD_DIR"] or Path(demo.instance_path) / "uploads")
    for a in attachments:
        content = storage.read_file(folder, a)  # decrypted; on disk it is sealed
        assert not (folder / a.stored_name).read_bytes().startswith(content[:8])
        assert hashlib.sha256(content).hexdigest() == a.sha256 and len(content) == a.size
    shared = [a for r in db.session.scalars(select(Referral)) for a in r.attachments]
    assert len(shared) == 3 * len(PARTNERS)  # the covering letters
    assert all(a.content_type == "application/pdf" for a in shared)

    notified = {n.user_id for n in db.session.scalars(select(Notification))}
    for email in (
        "manajer@simpul.demo",
        "supervisor@simpul.demo",
        "provinsi@simpul.demo",
        "koordinator@simpul.demo",
        "kesehatan@simpul.demo",
        *(p.email for p in PARTNERS),
    ):
        assert user(email).id in notified, email
    # messages name cases by reference only
    assert all(n.reference for n in db.session.scalars(select(Notification)))


@pytest.mark.demo_database
def test_targets_and_the_previous_month_rolled_up(demo):
    city = get_region_by_code(data.KABKOTA[0])
    now = utcnow()
    year = now.astimezone(JAKARTA).year
    targets = db.session.scalars(
        select(IndicatorTarget).where(IndicatorTarget.region_id == city.id)
    ).all()
    assert {(t.code, t.year) for t in targets} == {
        (code, y) for code in TARGETS for y in (year - 1, year)
    }
    assert {t.set_by_id for t in targets} == {user(DATA_OFFICER).id}
    month = previous_month(now)
    for period in (month.code, str(month.year)):
        values = db.session.scalars(
            select(IndicatorValue).where(
                IndicatorValue.region_id == city.id,
                IndicatorValue.period == period,
                IndicatorValue.breakdown == "",
            )
        ).all()
        codes = {v.definition.code for v in values}
        assert set(TARGETS) <= codes and "jumlah_korban" in codes, period
        victims = next(v for v in values if v.definition.code == "jumlah_korban")
        assert victims.numerator > 0, period


@pytest.mark.demo_database
def test_the_data_officer_finds_findings_in_the_quality_queue(demo):
    officer = user("analis@simpul.demo")
    assert {g.agency.code for g in officer.grants} == {"UPTDPPA-3273"}
    page = queue_for(officer)
    assert page.total > 200
    codes = {i.code for row in page.items for i in row.issues}
    # the complaints of the last days come first: unknown incident date and region, a
    # perpetrator without a relationship, a letter entered days after it arrived
    assert {
        "completeness.incident_date",
        "completeness.incident_region",
        "completeness.relationship",
        "timeliness.late_entry",
    } <= codes
    assert all(row.case.agency.code == "UPTDPPA-3273" for row in page.items)
    # the dashboard still reaches the city
    from app.indicators.scope import reach_of

    assert data.KABKOTA[0] in {r.code for r in reach_of(officer).home}


@pytest.mark.demo_database
def test_the_case_manager_finds_her_follow_ups_in_my_tasks(demo):
    from app.tasks.models import FollowUp
    from app.tasks.queries import my_tasks

    manager = user("manajer@simpul.demo")
    follow_ups = db.session.scalars(select(FollowUp).where(FollowUp.user_id == manager.id)).all()
    # the browser tests, on the same database, may add and finish one of their own
    assert len([f for f in follow_ups if f.is_open]) >= 4
    assert any(f.track_id is not None for f in follow_ups)
    tasks = my_tasks(manager)
    shown = {b: [i.kind for i in items] for b, items in tasks.items.items()}
    for bucket in ("overdue", "today", "week"):
        assert "follow_up" in shown[bucket], shown
