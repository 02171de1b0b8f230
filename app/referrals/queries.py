"""The read side of referrals: the receiving agency's inbox, and what it may see of a case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from app.agencies.models import Agency
from app.assessments.models import Assessment
from app.auth.grants import holders_of
from app.auth.models import User
from app.cases.models import Attachment, Case, Victim
from app.cases.permissions import can_see_shelter
from app.cases.queries import HiddenShelter, took_over
from app.core.bounds import NumberedPage
from app.core.enums import (
    AgencyType,
    AssessmentArea,
    ReferralState,
    Role,
    ServiceType,
    age_band,
)
from app.core.formatting import format_day
from app.core.i18n import gettext as _
from app.core.labels import label
from app.core.memo import read_once
from app.core.permissions import ROLE_PERMISSIONS
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.privacy.queries import exported, may_see_identity
from app.referrals.models import Referral, ReferralEvent
from app.referrals.permissions import RECEIVE, receiving_agency_ids
from app.services.models import ServiceTrack
from app.services.queries import service_tracks_of

DUE_SOON = dt.timedelta(hours=24)

TABS = ("baru", "segera", "terlambat", "berjalan", "selesai")

# The assessment areas that matter to each service: only these findings are shared.
A = AssessmentArea
RELEVANT_AREAS: dict[ServiceType, tuple[AssessmentArea, ...]] = {
    ServiceType.PENGADUAN: (A.SOSIAL,),
    ServiceType.PENJANGKAUAN: (A.SOSIAL, A.FISIK),
    ServiceType.KEDARURATAN: (A.FISIK, A.PSIKOLOGIS, A.SOSIAL),
    ServiceType.PENAMPUNGAN_SEMENTARA: (A.FISIK, A.PSIKOLOGIS, A.SOSIAL),
    ServiceType.REHABILITASI_KESEHATAN: (A.FISIK, A.PSIKOLOGIS),
    ServiceType.REHABILITASI_SOSIAL: (A.PSIKOLOGIS, A.SOSIAL),
    ServiceType.BANTUAN_HUKUM: (A.HUKUM,),
    ServiceType.PENEGAKAN_HUKUM: (A.HUKUM,),
    ServiceType.MEDIASI: (A.HUKUM, A.SOSIAL),
    ServiceType.PENDAMPINGAN: (A.PSIKOLOGIS, A.SOSIAL),
    ServiceType.PEMULANGAN: (A.SOSIAL, A.EKONOMI),
    ServiceType.REINTEGRASI_SOSIAL: (A.SOSIAL, A.EKONOMI, A.PENDIDIKAN),
    ServiceType.PENDAMPINGAN_ROHANI: (A.SPIRITUAL, A.PSIKOLOGIS),
    ServiceType.PEMBERDAYAAN_EKONOMI: (A.EKONOMI, A.PENDIDIKAN),
    ServiceType.DOKUMEN_KEPENDUDUKAN: (A.HUKUM, A.SOSIAL),
}


def referral_for_receiver(user: User, referral_id: int) -> Referral | None:
    """A referral sent to one of the user's agencies (never a draft), else None (404)."""
    agencies = receiving_agency_ids(user)
    if not agencies:
        return None
    return db.session.scalar(
        select(Referral).where(
            Referral.id == referral_id,
            Referral.to_agency_id.in_(agencies),
            Referral.state != ReferralState.DRAF,
        )
    )


def referral_of(case: Case, referral_id: int) -> Referral | None:
    """The referral when it was made from ``case`` (a case already loaded through the scope);
    another case's id is not found."""
    return db.session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.case_id == case.id)
    )


def receiving_staff(agency_id: int) -> list[User]:
    """Active users who receive the agency's referrals."""
    return holders_of(agency_id, RECEIVE)


def latest_sent_referral(track_id: int) -> int | None:
    """The id of the referral of the track sent last (whose answer a ``referral_response``
    deadline awaits)."""
    return db.session.scalar(
        select(Referral.id)
        .where(Referral.track_id == track_id, Referral.sent_at.is_not(None))
        .order_by(Referral.sent_at.desc(), Referral.id.desc())
        .limit(1)
    )


# The referrals of the inbox's last two tabs; the first three are of those waiting (sent).
IN_PROGRESS = (ReferralState.DITERIMA, ReferralState.BERJALAN)
FINISHED = tuple(
    s for s in ReferralState if s not in (ReferralState.DRAF, ReferralState.DIKIRIM, *IN_PROGRESS)
)
# The finished referrals the inbox lists, the latest first: an agency can have tens of thousands,
# and one declined or withdrawn, or completed past the grace period, shares nothing any more.
FINISHED_LISTED = 1000


@dataclass
class InboxRow:
    referral: Referral
    due_at: dt.datetime | None
    overdue: bool
    due_soon: bool


@dataclass
class Inbox:
    """One page of one tab of the inbox, and how many referrals each tab holds."""

    counts: dict[str, int]
    page: NumberedPage[InboxRow]
    more_finished: bool  # more referrals finished than the inbox lists (the latest)


def _answer_deadlines(track_ids: list[int]) -> dict[int, dt.datetime]:
    """When the answer of each waiting referral is due: the latest ``referral_response``
    deadline of its track, in one read of the two columns needed."""
    if not track_ids:
        return {}
    rows = db.session.execute(
        select(Deadline.track_id, Deadline.due_at)
        .where(
            Deadline.track_id.in_(track_ids),
            Deadline.code == DeadlineCode.REFERRAL_RESPONSE,
        )
        .order_by(Deadline.id)
    )
    return {track_id: due_at for track_id, due_at in rows if track_id is not None}  # the latest


def _inbox_referrals(agencies: Collection[int], states: Collection[ReferralState]) -> Any:
    """The agencies' referrals in these states, newest sent first, with what the inbox shows of
    each read in the same statement (the service of the track, the case's reference, the
    sending agency's name; nothing encrypted)."""
    return (
        select(Referral)
        .where(Referral.to_agency_id.in_(agencies), Referral.state.in_(states))
        .options(
            load_only(
                Referral.case_id,
                Referral.track_id,
                Referral.from_agency_id,
                Referral.to_agency_id,
                Referral.state,
                Referral.sent_at,
                Referral.first_opened_at,
            ),
            joinedload(Referral.track).load_only(ServiceTrack.service_type),
            joinedload(Referral.case).load_only(Case.reference),
            joinedload(Referral.from_agency).load_only(Agency.name),
        )
        .order_by(Referral.sent_at.desc(), Referral.id.desc())
    )


def inbox(
    user: User, now: dt.datetime, tab: str = "baru", page: int = 1, per_page: int = 50
) -> Inbox:
    """The referrals of the user's agencies, by tab: new (waiting for an answer), due soon,
    overdue (the answer's deadline passed), in progress, finished. Waiting ones are in
    "baru" and also in "segera" or "terlambat" when that applies; oldest due first; the others
    newest sent first. Every referral waiting or in progress is listed, however many the agency
    received; of the finished ones the latest ``FINISHED_LISTED``.

    A fixed number of statements whatever their number: the ids of the waiting referrals (all of
    them, to order them by when their answer is due) and their deadlines, the number of those in
    progress and of the finished ones (counted up to the number listed), and the asked page's
    referrals with what the inbox shows of each."""
    counts = dict.fromkeys(TABS, 0)
    agencies = receiving_agency_ids(user)
    if not agencies:
        return Inbox(counts, NumberedPage([], page, 0, per_page), False)
    # the waiting ones as (id, track) only; what is shown is read for the page's rows below
    waiting = db.session.execute(
        select(Referral.id, Referral.track_id)
        .where(Referral.to_agency_id.in_(agencies), Referral.state == ReferralState.DIKIRIM)
        .order_by(Referral.sent_at.desc(), Referral.id.desc())
    ).all()
    deadlines = _answer_deadlines([track_id for _id, track_id in waiting])
    tabs: dict[str, list[tuple[int, dt.datetime | None, bool, bool]]] = {
        "baru": [],
        "segera": [],
        "terlambat": [],
    }
    for referral_id, track_id in waiting:
        due_at = deadlines.get(track_id)
        overdue = due_at is not None and due_at < now
        due_soon = due_at is not None and not overdue and due_at - now <= DUE_SOON
        row = (referral_id, due_at, overdue, due_soon)
        tabs["baru"].append(row)
        if overdue:
            tabs["terlambat"].append(row)
        elif due_soon:
            tabs["segera"].append(row)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    for name, rows in tabs.items():
        rows.sort(key=lambda r: r[1] or far)
        counts[name] = len(rows)
    counts["berjalan"] = (
        db.session.scalar(
            select(func.count()).where(
                Referral.to_agency_id.in_(agencies), Referral.state.in_(IN_PROGRESS)
            )
        )
        or 0
    )
    # the finished ones are counted up to the number listed, however many ended before
    finished = select(Referral.id).where(
        Referral.to_agency_id.in_(agencies), Referral.state.in_(FINISHED)
    )
    counts["selesai"] = (
        db.session.scalar(
            select(func.count()).select_from(finished.limit(FINISHED_LISTED + 1).subquery())
        )
        or 0
    )
    more_finished = counts["selesai"] > FINISHED_LISTED
    counts["selesai"] = min(counts["selesai"], FINISHED_LISTED)
    first = (page - 1) * per_page
    if tab in tabs:
        rows = tabs[tab][first : first + per_page]
        referrals = {
            r.id: r
            for r in db.session.scalars(
                _inbox_referrals(agencies, [ReferralState.DIKIRIM]).where(
                    Referral.id.in_([row[0] for row in rows])
                )
            )
        }
        # one answered between the two reads is left out of this page
        shown = [
            InboxRow(referrals[i], due_at, overdue, soon)
            for i, due_at, overdue, soon in rows
            if i in referrals
        ]
    else:
        states = IN_PROGRESS if tab == "berjalan" else FINISHED
        limit = per_page if tab == "berjalan" else max(0, min(per_page, FINISHED_LISTED - first))
        shown = [
            InboxRow(referral, None, False, False)
            for referral in db.session.scalars(
                _inbox_referrals(agencies, states).offset(first).limit(limit)
            )
        ]
    return Inbox(counts, NumberedPage(shown, page, counts[tab], per_page), more_finished)


# A referral that ended this way stops sharing at once; a completed one after the grace period.
ENDED_AT_ONCE = (ReferralState.DITARIK, ReferralState.DITOLAK)


def sharing_grace() -> dt.timedelta:
    """How long a completed referral keeps sharing (``REFERRAL_SHARING_GRACE_DAYS``)."""
    return dt.timedelta(days=max(0, int(current_app.config["REFERRAL_SHARING_GRACE_DAYS"])))


def sharing_active(referral: Referral, now: dt.datetime) -> bool:
    """Whether the receiving agency may still see what the referral shares: not once it was
    withdrawn or declined, and not longer than the grace period after it was completed. The one
    rule behind the receiver's referral page and its attachment downloads."""
    if referral.state in ENDED_AT_ONCE:
        return False
    if referral.state is ReferralState.SELESAI:
        ended = referral.ended_at
        return ended is not None and now < ended + sharing_grace()
    return True


@dataclass
class SharedIncident:
    """The incident section as the receiving agency reads it: the sender's summary for this
    referral (``None``: none was written) and the facts about this victim. Never the case's
    chronology; the case types only when the victim is the case's only one (they describe the
    whole case, other victims included)."""

    summary: str | None
    case_types: list[Any]
    violence_types: list[Any]
    date: dt.date | None
    date_precision: Any
    place: Any
    region: Any


@dataclass
class SharedView:
    """Exactly what the receiving agency may see of the case (nothing once sharing ended)."""

    referral: Referral
    active: bool  # False: sharing ended (withdrawn, declined, completed past the grace period)
    victim: Victim | None  # with the identity section only, when the viewer may see it
    identity_withheld: bool  # the identity was shared but is restricted at the victim's request
    sex: Any  # the victim's sex and age band: always, to recognise the person served
    age_band: str | None
    incident: SharedIncident | None  # with the incident section only
    assessment: bool  # the assessment section is shared (and sharing is active)
    findings: list[Any]  # assessment findings of the relevant areas
    attachments: list[Attachment]
    attachments_withheld: bool  # shared, but the victim is restricted at their request
    grace_days: int


def shared_view(referral: Referral, now: dt.datetime, user: User) -> SharedView:
    """What ``user`` of the receiving agency sees. The identity passes the one rule of the case
    page too (``privacy.queries.may_see_identity``): a victim whose processing is restricted at
    their request shows no identity here, whatever was shared before the restriction."""
    grace_days = sharing_grace().days
    if not sharing_active(referral, now):
        return SharedView(
            referral, False, None, False, None, None, None, False, [], [], False, grace_days
        )
    person = referral.track.victim
    case = referral.case
    restricted = not may_see_identity(user, case, person)
    victim = None
    withheld = False
    if referral.share_identity:
        if not restricted:
            victim = person
        else:
            withheld = True
    incident = None
    if referral.share_incident:
        incident = SharedIncident(
            summary=referral.incident_summary,
            case_types=list(case.case_types) if len(case.victims) == 1 else [],
            violence_types=[t.type for t in person.violence_types],
            date=case.incident_date,
            date_precision=case.incident_date_precision,
            place=case.incident_place,
            region=case.incident_region,
        )
    findings: list[Any] = []
    if referral.share_assessment:
        assessment = db.session.scalar(
            select(Assessment).where(Assessment.victim_id == referral.track.victim_id)
        )
        if assessment is not None and assessment.completed_at is not None:
            areas = RELEVANT_AREAS.get(referral.track.service_type, ())
            findings = [f for f in assessment.findings if f.area in areas]
    return SharedView(
        referral,
        True,
        victim,
        withheld,
        person.sex,
        age_band(person.age_at_incident),
        incident,
        referral.share_assessment,
        findings,
        [] if restricted else list(referral.attachments),
        restricted and bool(referral.attachments),
        grace_days,
    )


def suggested_summary(track: Any) -> str:
    """A first draft of the incident summary the sender edits before sending: only facts about
    this victim and this service (the service asked for, the violence this victim experienced,
    when — month and year — and where, and the case types when the victim is the case's only
    one). Never the chronology: it is the whole confidential narrative, often about other
    people (a mother's health referral must not carry her child's story)."""
    victim, case = track.victim, track.case
    parts = [_("Service requested: %(service)s.", service=label(track.service_type))]
    if len(case.victims) == 1 and case.case_types:
        parts.append(
            _("Case types: %(types)s.", types=", ".join(label(t) for t in case.case_types))
        )
    if victim.violence_types:
        parts.append(
            _(
                "Violence experienced: %(types)s.",
                types=", ".join(label(t.type) for t in victim.violence_types),
            )
        )
    if case.incident_date is not None:
        precision = getattr(case.incident_date_precision, "value", None)
        when = format_day(case.incident_date, "tahun" if precision == "tahun" else "bulan")
        parts.append(_("Time of the incident: %(when)s.", when=when))
    if case.incident_place is not None:
        parts.append(_("Place of the incident: %(place)s.", place=label(case.incident_place)))
    return " ".join(parts)


def shared_attachment(
    referral: Referral, attachment_id: int, now: dt.datetime, user: User
) -> Attachment | None:
    """A shared attachment ``user`` of the receiving agency may download now, else None (404):
    not once sharing ended, and not while the victim's processing is restricted at their
    request (a document about the person identifies them as the identity section does)."""
    if not sharing_active(referral, now):
        return None
    if not may_see_identity(user, referral.case, referral.track.victim):
        return None
    return next((a for a in referral.attachments if a.id == attachment_id), None)


def referrals_of_case(case: Case) -> dict[int, list[Referral]]:
    """The referrals of a case by track, newest first (the sending side's view; read once per
    page while one is rendered)."""
    return read_once(("case_referrals", case.id), lambda: _referrals_of_case(case))


def _referrals_of_case(case: Case) -> dict[int, list[Referral]]:
    result: dict[int, list[Referral]] = {}
    for referral in db.session.scalars(
        select(Referral)
        .where(Referral.case_id == case.id)
        .options(
            # what the track cards show of each: loaded together, not once per referral
            joinedload(Referral.to_agency),
            selectinload(Referral.attachments),
            selectinload(Referral.events).joinedload(ReferralEvent.agency),
        )
        .order_by(Referral.id.desc())
    ):
        result.setdefault(referral.track_id, []).append(referral)
    return result


def staff_roles() -> list[Role]:
    return [role for role, perms in ROLE_PERMISSIONS.items() if RECEIVE in perms]


def shelter_hidden_from(user: User, case: Case) -> HiddenShelter:
    """Domain.md §3.3: a shelter's location is seen only by its own staff and the people working
    on the case (``app.cases.permissions.can_see_shelter``): the shelter tracks of the case and
    the agencies they were referred to. The case page asks through
    ``app.cases.page.register_shelter_rule``."""
    shelter_tracks = [t for t in service_tracks_of(case) if t.is_shelter]
    if not shelter_tracks:
        return HiddenShelter()
    ids = [t.id for t in shelter_tracks]
    agency_ids = {t.provider_id for t in shelter_tracks if t.provider_id is not None}
    referrals = referrals_of_case(case)
    agency_ids |= {r.to_agency_id for track_id in ids for r in referrals.get(track_id, [])}
    agency_ids.discard(case.agency_id)
    if can_see_shelter(user, case, agency_ids, took_over=took_over(user, case)):
        return HiddenShelter()
    codes = db.session.scalars(
        select(Agency.code).where(
            or_(Agency.id.in_(agency_ids), Agency.type == AgencyType.RUMAH_AMAN)
        )
    )
    return HiddenShelter(frozenset(ids), frozenset(codes))


# --- the data-subject export (registered with app.privacy.queries.register_track_records) -----


def agencies_referred_to(track_ids: Collection[int]) -> list[Agency]:
    """The agencies the tracks were referred to (any referral, a draft included)."""
    return [
        r.to_agency
        for r in db.session.scalars(select(Referral).where(Referral.track_id.in_(track_ids)))
    ]


def exported_referrals(track: ServiceTrack, shelter: bool) -> list[dict[str, Any]]:
    """The track's referrals in a person's export: where (not for a shelter), their state and
    times, what was shared, the consent or the override it was sent under, the outcome."""
    return [
        {
            "to_agency": None if shelter else r.to_agency.name,
            "state": exported(r.state),
            "sent_at": exported(r.sent_at),
            "ended_at": exported(r.ended_at),
            "shared": {
                "identity": r.share_identity,
                "incident": r.share_incident,
                # written for this person's referral (never the chronology)
                "incident_summary": r.incident_summary,
                "assessment": r.share_assessment,
                "attachments": len(r.attachments),
            },
            "consent_entry": r.consent_entry_id,
            "override_reason": r.override_reason,
            "outcome": r.outcome,
        }
        for r in db.session.scalars(
            select(Referral).where(Referral.track_id == track.id).order_by(Referral.id)
        )
    ]
