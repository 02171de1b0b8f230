"""Registering a complaint: the case's first engine event (``engine.register``), so it sits on
the workflow. The intake form and ``flask cases import`` (``app.intake``) register through it,
and so does accepting a transfer (``operations.accept_transfer``: the receiving agency's own
case). The case record itself — its people, consent, duplicate check — is filled by
``app.cases.operations``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from app.agencies.models import Agency
from app.audit.operations import record
from app.auth.models import User
from app.cases.intake import Intake, check_intake, raise_first
from app.cases.models import Case
from app.cases.notifications import notify_supervisors_high_risk
from app.cases.operations import (
    Actor,
    check_version,
    fill_case,
    fill_new_case,
    next_reference,
    recheck_duplicate_niks,
    workflow_key_for,
)
from app.cases.permissions import intake_agencies
from app.cases.queries import known_region_codes
from app.core.db import utcnow
from app.core.enums import CaseState, Risk
from app.core.errors import DomainError
from app.core.i18n import lazy_gettext as _l
from app.deadlines.operations import deadlines_for_registration
from app.extensions import db
from app.regions.models import Region
from app.workflow import engine


def register_case(
    intake: Intake,
    *,
    agency: Agency,
    actor: Actor,
    draft: bool = False,
    external_id: str | None = None,
    now: dt.datetime | None = None,
    transition_kind: str = "workflow",
    recheck_duplicates: bool = False,
    quick: bool = False,
) -> Case:
    """Register a complaint (``diterima``), or keep it as a draft without a reference.

    ``quick`` (the quick intake): the victims' types of violence may come later
    (``check_intake``); everything else — reference, clocks, audit, notifications — is the same.

    ``transition_kind="import"`` records the registration as imported history (``flask cases
    import``): a transition from nothing to ``diterima``, under the rules of a legacy record
    (interfaces.md §3: what old records lack is a data-quality finding, not a refusal).
    ``recheck_duplicates`` (the intake form): a victim whose NIK the agency has registered
    already, with no decision on it, is refused (``recheck_duplicate_niks``)."""
    now = now or utcnow()
    if (
        isinstance(actor, User)
        and transition_kind != "import"
        and agency.id not in {a.id for a in intake_agencies(actor)}
    ):
        # a person registers for an agency where they take complaints (intake officer, case
        # manager, supervisor); an import's history is recorded under the actor it names
        raise DomainError(_l("You cannot register complaints for this agency."), field="agency")
    raise_first(
        check_intake(
            intake,
            now=now,
            draft=draft,
            region_codes=known_region_codes(intake),
            legacy=transition_kind == "import",
            quick=quick,
        )
    )
    if recheck_duplicates and not draft:
        recheck_duplicate_niks(intake, agency, None, actor=actor)
    case = Case(
        agency=agency,
        reference=None if draft else next_reference(agency, intake.received_at),  # type: ignore[arg-type]
        registered_by_id=actor.id,
        external_id=external_id,
        workflow_key=workflow_key_for(intake.case_types),
        workflow_version=1,
    )
    engine.open_draft(case)
    if not draft:
        imported = transition_kind == "import"
        engine.register(case, actor=actor, imported=imported, at=intake.received_at)
    db.session.add(case)
    fill_case(case, intake, agency, actor)
    if not draft and transition_kind != "import":  # imported history starts no clocks
        _start_deadlines(case)
    db.session.flush()
    record(
        actor,
        "case.draft" if draft else "case.register",
        "case",
        case.id,
        {"agency": agency.code, "reference": case.reference, "risk": case.risk and case.risk.value},
    )
    if not draft and case.risk is Risk.TINGGI and transition_kind != "import":
        notify_supervisors_high_risk(case)  # imported history is not news to anyone
    return case


def register_imported_case(
    intake: Intake,
    *,
    agency: Agency,
    actor: Actor,
    reference: str,
    external_id: str,
    region: Callable[[str | None], Region | None],
) -> Case:
    """``register_case(..., transition_kind="import")`` for one case of an import's batch
    (``flask cases import``): the caller checked the record (``check_intake`` with the legacy
    rules and the history's), reserved its ``reference`` (``next_references``) and resolves
    region codes (``region``). Nothing is flushed or recorded here: the batch records each
    one's ``case.register`` entry (``registered_entry``) and writes its cases together."""
    case = Case(
        agency=agency,
        reference=reference,
        registered_by_id=actor.id,
        external_id=external_id,
        workflow_key=workflow_key_for(intake.case_types),
        workflow_version=1,
    )
    engine.open_draft(case)
    engine.register(case, actor=actor, imported=True, at=intake.received_at)
    db.session.add(case)
    fill_new_case(case, intake, agency, actor, region=region)
    return case


def registered_entry(case: Case, actor: Actor) -> None:
    """The audit entry of a registration (as ``register_case`` writes it), once ``case`` has
    its id."""
    record(
        actor,
        "case.register",
        "case",
        case.id,
        {
            "agency": case.agency.code,
            "reference": case.reference,
            "risk": case.risk and case.risk.value,
        },
    )


def _start_deadlines(case: Case) -> None:
    db.session.flush()
    deadlines_for_registration(case, at=utcnow())


def submit_draft(
    case: Case,
    intake: Intake,
    *,
    expected_version: int,
    actor: Actor,
    now: dt.datetime | None = None,
    recheck_duplicates: bool = False,
) -> Case:
    """Complete a draft: every rule now applies, and the case gets its reference.
    ``recheck_duplicates``: as for ``register_case``."""
    if case.state is not CaseState.DRAFT:
        raise DomainError(_l("This complaint is already registered."))
    check_version(case, expected_version)
    raise_first(check_intake(intake, now=now or utcnow(), region_codes=known_region_codes(intake)))
    if recheck_duplicates:
        recheck_duplicate_niks(intake, case.agency, case, actor=actor)
    reference = next_reference(case.agency, intake.received_at)  # type: ignore[arg-type]
    # registered with its reference (CHECK reference_unless_draft): one flush
    engine.register(case, actor=actor)
    case.reference = reference
    fill_case(case, intake, case.agency, actor)
    db.session.flush()
    _start_deadlines(case)
    record(actor, "case.register", "case", case.id, {"reference": case.reference})
    if case.risk is Risk.TINGGI:
        notify_supervisors_high_risk(case)
    return case
