"""The casework panel of the case page: the stage, what is still needed to move on, the
steps this user may take (with what each asks for), the assessments, the plan and a card per
service track. Read-only: built from the same definitions and facts the engine uses, so a button
is offered exactly when the engine would take the step (approvals aside: those the form asks
for)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.agencies.models import Agency
from app.agencies.queries import Nearby, nearby_agencies
from app.assessments.models import Assessment
from app.auth.models import User
from app.cases.models import Case, Victim, consent_in_force
from app.cases.queries import consent_ledgers
from app.core.enums import (
    CASE_CLOSED,
    TRACK_ENDED,
    CaseState,
    ConsentDecision,
    ServiceType,
    TrackState,
    TransferState,
)
from app.core.i18n import lazy_gettext as _l
from app.extensions import db
from app.privacy.queries import restricted_among
from app.referrals.queries import referrals_of_case, suggested_summary
from app.services.models import ServiceTrack
from app.services.queries import service_tracks_of
from app.workflow.facts import case_facts, track_facts
from app.workflow.labels import CASE_STAGES, event_label
from app.workflow.models import CaseTransfer, CaseTransition
from app.workflow.operations import (
    AMENDING,
    PLANNING,
    REASONS,
)
from app.workflow.permissions import (
    MANAGE,
    SUPERVISE,
    may_take_case_step,
    may_take_track_step,
)
from app.workflow.queries import (
    case_manager_candidates,
    transfer_targets,
    transfers_of,
    transitions_of,
)
from workflows.definition import Transition
from workflows.referral_v1 import TRACK_EVENT
from workflows.registry import get_workflow

# Track events taken through a referral (its form on the track card, or the receiver's inbox).
# (``start`` stays: the case's own agency starts its own tracks from the card.)
REFERRAL_EVENTS = frozenset(TRACK_EVENT.values()) - {"start"}

# Events that get their own form elsewhere on the page (or are not taken from the case page).
SEPARATE = frozenset({"register", "transfer"})
# Events that leave the main path: shown apart, in a "more" menu.
SIDE = frozenset({"close", "reopen"})


def taken_by(user: User, case: Case, t: Transition[Any, Any], allowed: bool) -> Any:
    """Who may take the step ``t``, truthfully: "you" when this user may; else the role(s) the
    permission needs where it counts, naming the case manager when there is one."""
    if allowed:
        return _l("you")
    if t.permission == MANAGE:
        if case.case_manager is not None and case.case_manager_id != user.id:
            return _l("the case manager (%(name)s) or a supervisor", name=case.case_manager.name)
        return _l("a case manager or a supervisor")
    if t.permission == SUPERVISE:
        return _l("a supervisor")
    return _l("someone with the permission %(p)s", p=t.permission)


@dataclass
class Action:
    event: str
    label: Any
    allowed: bool  # the user holds the permission where it counts
    blocked: list[str]  # why the step is not possible yet (empty: it is)
    requires_reason: bool
    approval: str | None = None
    asks_note: bool = False
    side: bool = False
    taken_by: Any = ""  # who may take it ("you", or the role(s): see ``taken_by``)


@dataclass
class TrackCard:
    track: ServiceTrack
    history: list[CaseTransition]
    actions: list[Action]
    referrals: list[Any] = field(default_factory=list)  # newest first
    can_refer: bool = False
    referral_targets: list[Agency] = field(default_factory=list)
    consented: frozenset[str] = frozenset()  # agency codes with rujukan consent in force
    # the first draft of the incident summary the sender edits (never the chronology)
    suggested_summary: str = ""
    # the victim's identity is restricted at their request: it cannot be shared
    identity_restricted: bool = False
    # its forms (the steps, the referral and its notes) are drawn on this view of the page;
    # when not, the card links to the view that draws them (see ``TRACK_FORMS``)
    forms: bool = True
    manage_referrals: bool = False

    @property
    def has_forms(self) -> bool:
        """Whether the card offers this user anything to do (a step, a referral, a note)."""
        return (
            any(a.allowed for a in self.actions)
            or self.can_refer
            or (self.manage_referrals and any(r.is_open for r in self.referrals))
        )

    @property
    def draft(self) -> Any:
        return next((r for r in self.referrals if r.state == "draf"), None)

    @property
    def open_referral(self) -> Any:
        return next((r for r in self.referrals if r.is_open), None)


@dataclass
class VictimAssessment:
    victim: Victim
    assessment: Assessment | None

    @property
    def complete(self) -> bool:
        return self.assessment is not None and self.assessment.completed_at is not None


@dataclass
class Panel:
    case: Case
    state: CaseState
    stage: Any
    closed: bool
    actions: list[Action]
    needs: list[str]
    assessments: list[VictimAssessment]
    can_assess: bool
    can_plan: bool
    providers: dict[str, list[Agency]]
    tracks: list[TrackCard]
    transfer: CaseTransfer | None
    can_transfer: bool
    can_withdraw_transfer: bool
    transfers: list[CaseTransfer] = field(default_factory=list)
    can_assign: bool = False
    candidates: list[Any] = field(default_factory=list)
    # the agencies near the case hold more than the forms list: the search finds the others
    more_agencies: bool = False
    transfer_targets: list[Agency] = field(default_factory=list)


def _reasons(decision_reason: str | None) -> list[str]:
    return [str(REASONS.get(decision_reason, decision_reason))] if decision_reason else []


def _case_actions(user: User, case: Case, state: CaseState) -> list[Action]:
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    actions = []
    for t in workflow.events_from(state):
        if t.event in SEPARATE:
            continue
        allowed = may_take_case_step(user, case, t.permission)
        approvals = frozenset({t.approval}) if t.approval else frozenset()
        # the reason or note and the confirmation are asked on the form (as the definition
        # declares them): assume they are given, and report what else is missing
        facts = case_facts(case, reason="…" if t.asks_text else None, approvals=approvals)
        blocked = []
        for guard in t.guards:
            why = guard(facts)
            if why:
                blocked.append(str(REASONS.get(why, why)))
        actions.append(
            Action(
                event=t.event,
                label=event_label(t.event),
                allowed=allowed,
                blocked=blocked,
                requires_reason=t.requires_reason,
                approval=t.approval,
                asks_note=t.requires_note,
                side=t.event in SIDE,
                taken_by=taken_by(user, case, t, allowed),
            )
        )
    return actions


def _track_actions(user: Any, track: ServiceTrack) -> list[Action]:
    workflow = get_workflow("track", track.workflow_version)
    facts = track_facts(track, reason="…", outcome="…")
    actions = []
    for t in workflow.events_from(TrackState(track.state)):
        if t.event in REFERRAL_EVENTS:
            continue  # referrals are sent and answered through the referral, not here
        if t.event == "decline_by_victim":
            blocked: list[str] = []  # the form records the refusal in the consent ledger
        else:
            blocked = [
                str(REASONS.get(why, why))
                for guard in t.guards
                if (why := guard(facts)) is not None
            ]
        actions.append(
            Action(
                event=t.event,
                label=event_label(t.event, track=True),
                allowed=may_take_track_step(user, track, t.permission),
                blocked=blocked,
                requires_reason=t.requires_reason,
            )
        )
    return actions


# At most this many track cards draw their forms on one view of the case page (the steps, the
# referral with its agencies, consent and sharing choices: several KB each); the other cards link
# to the view of the page that draws theirs (``?layanan=<track id>``), so a case with dozens of
# services stays a page of bounded size while every form stays reachable.
TRACK_FORMS = 6

# At most this many agencies in one track card's referral list (its service's providers near the
# case); the search finds any other.
REFERRAL_OPTIONS = 10


def providers_by_service(nearby: Nearby, case: Case) -> dict[str, list[Agency]]:
    """The agencies near the case (other than its own) by the service types they provide, for
    the plan form; every service type is listed (the case's own agency may provide any)."""
    result: dict[str, list[Agency]] = {s.value: [] for s in ServiceType}
    for agency in nearby.agencies:
        if agency.id == case.agency_id:
            continue
        for service in agency.service_types:
            result[ServiceType(service).value].append(agency)
    return result


def _referral_targets(
    case: Case, track: ServiceTrack, draft: Any, providers: dict[str, list[Agency]]
) -> list[Agency]:
    """The agencies a track card offers to refer to: the one already chosen for the track (or
    its draft referral's), wherever it is, then the service's providers near the case."""
    chosen = [
        a
        for a in (getattr(draft, "to_agency", None), track.provider)
        if a is not None and a.id != case.agency_id
    ]
    near = providers.get(track.service_type.value, [])[:REFERRAL_OPTIONS]
    seen: set[int] = set()
    targets = []
    for agency in [*chosen, *near]:
        if agency.id not in seen:
            seen.add(agency.id)
            targets.append(agency)
    return targets


def _consented_agencies(victim_id: int) -> frozenset[str]:
    """Agency codes the victim consented to be referred to (the ``rujukan:`` consent in force);
    from the victim's ledger, read once for the page."""
    entries = [
        e for e in consent_ledgers([victim_id])[victim_id] if e.purpose.startswith("rujukan:")
    ]
    codes = {e.purpose.split(":", 1)[1] for e in entries}
    return frozenset(
        code
        for code in codes
        if (entry := consent_in_force(entries, f"rujukan:{code}")) is not None
        and entry.decision == ConsentDecision.SETUJU
    )


def _card(
    user: Any,
    case: Case,
    track: ServiceTrack,
    history: dict[int, list[CaseTransition]],
    referrals: dict[int, list[Any]],
    manage: bool,
) -> TrackCard:
    """The card without what only its drawn referral form needs (``_referral_form``)."""
    ended = track.state in TRACK_ENDED
    referable = (
        get_workflow("track", track.workflow_version).transition(
            TrackState.DIRUJUK, "referral_declined"
        )
        is not None
    )
    can_refer = (
        manage and referable and track.state is TrackState.DIRENCANAKAN and not case_closed(case)
    )
    return TrackCard(
        track=track,
        history=history.get(track.id, []),
        actions=[] if ended else _track_actions(user, track),
        referrals=referrals.get(track.id, []),
        can_refer=can_refer,
        manage_referrals=manage,
    )


def _referral_form(card: TrackCard, case: Case, providers: dict[str, list[Agency]]) -> None:
    """What the card's referral form lists: the agencies, the consents in force, the first
    draft of the summary, whether the victim's identity may be shared."""
    track = card.track
    card.referral_targets = _referral_targets(case, track, card.draft, providers)
    card.consented = _consented_agencies(track.victim_id)
    card.suggested_summary = suggested_summary(track)
    card.identity_restricted = track.victim_id in restricted_among(case.victims)


def _draw_forms(
    cards: list[TrackCard], focus: int | None, case: Case, providers: dict[str, list[Agency]]
) -> None:
    """Draw the forms of the first ``TRACK_FORMS`` cards that offer something, and of the card
    ``focus`` (asked for, or whose form was refused); the others link to theirs."""
    drawn = 0
    for card in cards:
        if not card.has_forms:
            continue
        if card.track.id != focus:
            if drawn >= TRACK_FORMS:
                card.forms = False
                continue
            drawn += 1
        if card.can_refer:
            _referral_form(card, case, providers)


def case_closed(case: Case) -> bool:
    return CaseState(case.state) in CASE_CLOSED


def build_panel(user: Any, case: Case, *, focus: int | None = None) -> Panel:
    """The panel for ``user``; ``focus`` is a track whose forms are drawn whatever its place."""
    state = CaseState(case.state)
    actions = [] if state is CaseState.DRAFT else _case_actions(user, case, state)
    main = [a for a in actions if not a.side]
    needs: list[str] = []
    for action in main:
        for reason in action.blocked:
            if reason not in needs:
                needs.append(reason)
    consent_ledgers([v.id for v in case.victims])  # every victim's ledger, once for the page
    tracks = sorted(service_tracks_of(case), key=lambda t: (t.victim_id, t.id))
    history: dict[int, list[CaseTransition]] = {t.id: [] for t in tracks}
    if tracks:
        for row in transitions_of(case):
            if row.track_id is not None:
                history.setdefault(row.track_id, []).append(row)
    assessments = {
        a.victim_id: a
        for a in db.session.scalars(select(Assessment).where(Assessment.case_id == case.id))
    }
    manage = may_take_case_step(user, case, "cases:manage")
    supervise = may_take_case_step(user, case, "cases:supervise")
    referrals = referrals_of_case(case) if tracks else {}
    transfers = transfers_of(case)
    transfer = (
        next((t for t in transfers if t.state == TransferState.MENUNGGU), None)
        if state is not CaseState.DRAFT
        else None
    )
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    can_plan = (state in PLANNING and manage) or (state in AMENDING and supervise)
    can_assign = supervise and state is not CaseState.DRAFT and state not in CASE_CLOSED
    can_transfer = (
        transfer is None
        and workflow.transition(state, "transfer") is not None
        and may_take_case_step(user, case, "cases:manage")
    )
    # the agencies near the case, loaded once for every form that names one (the plan, the
    # referrals, the transfer); any other is found by the search
    may_refer = manage and any(t.state is TrackState.DIRENCANAKAN for t in tracks)
    nearby = (
        nearby_agencies([case.agency.region_id, case.incident_region_id])
        if can_plan or can_transfer or may_refer
        else Nearby([], False)
    )
    all_providers = providers_by_service(nearby, case)
    cards = [_card(user, case, t, history, referrals, manage) for t in tracks]
    _draw_forms(cards, focus, case, all_providers)
    return Panel(
        case=case,
        state=state,
        stage=CASE_STAGES.get(state, ""),
        closed=state in CASE_CLOSED,
        actions=actions,
        needs=needs,
        assessments=[VictimAssessment(v, assessments.get(v.id)) for v in case.victims],
        can_assess=state is CaseState.ASESMEN and manage,
        can_plan=can_plan,
        providers=all_providers if can_plan else {},
        tracks=cards,
        transfer=transfer,
        can_transfer=can_transfer,
        can_withdraw_transfer=transfer is not None and manage,
        can_assign=can_assign,
        candidates=case_manager_candidates(case) if can_assign else [],
        transfers=transfers,
        more_agencies=nearby.more,
        transfer_targets=transfer_targets(nearby, case) if can_transfer else [],
    )
