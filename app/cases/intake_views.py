"""The intake form: register a complaint, keep a draft, edit a case (domain.md §2).

One page serves every path. A POST is one of:

* a row button (``add_victim``, ``remove_perpetrator`` = 0, …): the form comes back with one row
  more or less and nothing is saved. With htmx (``HX-Request``) only the form is sent back;
* ``action=check_duplicates``: the form comes back with the other cases of the same person;
* ``action=save_draft`` / ``register`` / ``save``: the rules of ``check_intake`` are shown next
  to their fields (422), an undecided duplicate is asked about (200), a stale edit is refused
  with what changed (409), else the one operation runs and the page redirects to the case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from app.cases import bp, permissions, queries
from app.cases import operations as ops
from app.cases.intake import Intake, check_intake
from app.cases.intake_forms import (
    IntakeForm,
    add_error,
    add_row,
    attach_problems,
    case_to_intake_form_data,
    error_summary,
    form_to_intake,
    new_intake_form_data,
    remove_row,
    row_action,
)
from app.cases.labels import consent_purpose_label
from app.cases.models import Case
from app.core.db import utcnow
from app.core.enums import (
    CaseState,
    CaseType,
    Channel,
    IncidentPlace,
    Kewenangan,
    Ranah,
    ReporterKind,
    Risk,
)
from app.core.errors import DomainError
from app.core.forms import parse_id
from app.core.idempotency import once_per_form
from app.core.labels import label
from app.core.permissions import requires
from app.extensions import db
from app.regions.queries import regions_query

REGION_OPTIONS_LIMIT = 3000


def _me() -> Any:
    return current_user._get_current_object()


# --- what differs between a new complaint, a draft and a registered case ----------------------


@dataclass
class Page:
    mode: str  # "new", "draft" or "edit"
    agencies: list[Any] = field(default_factory=list)  # new: where the user may register
    case: Case | None = None

    @property
    def submits(self) -> tuple[str, ...]:
        return ("save",) if self.mode == "edit" else ("save_draft", "register")

    def agency(self, form: IntakeForm) -> Any:
        if self.case is not None:
            return self.case.agency
        if len(self.agencies) == 1:
            return self.agencies[0]
        chosen = str(form.agency.data or "")
        return next((a for a in self.agencies if str(a.id) == chosen), None)

    def prepare(self, form: IntakeForm) -> None:
        form.agency.choices = [("", "—")] + [
            (str(a.id), f"{a.code} — {a.name}") for a in self.agencies
        ]

    def checks_duplicates_of(self, victim_id: int | None) -> bool:
        """Every victim of a new complaint or a draft; on a registered case only victims added
        now (the others were checked when the complaint was registered)."""
        if self.mode != "edit" or self.case is None:
            return True
        return all(v.id != victim_id for v in self.case.victims)

    def save(self, submit: str, intake: Intake, agency: Any, version: int) -> Case:
        actor = _me()
        # recheck_duplicates: the duplicate check again, under a lock of each NIK (two intakes
        # of one person sent at the same moment)
        if self.case is None:
            return ops.register_case(
                intake,
                agency=agency,
                actor=actor,
                draft=submit != "register",
                recheck_duplicates=True,
            )
        if self.mode == "draft" and submit == "register":
            return ops.submit_draft(
                self.case, intake, expected_version=version, actor=actor, recheck_duplicates=True
            )
        if self.mode == "draft":
            return ops.save_draft(self.case, intake, expected_version=version, actor=actor)
        return ops.update_case(
            self.case, intake, expected_version=version, actor=actor, recheck_duplicates=True
        )


# --- the duplicate check ----------------------------------------------------------------------


@dataclass
class PersonMatch:
    """Another registered case of the agency where the same person is a victim. Only the
    reference, date and state are shown: nothing about the other case's people."""

    person_id: int | None
    cases: list[tuple[str, dt.datetime, CaseState]] = field(default_factory=list)
    matched_on: set[str] = field(default_factory=set)


def _duplicates(form: IntakeForm, page: Page, agency: Any) -> dict[str, list[PersonMatch]]:
    """The matches of each victim row (by row name), and each row's link decision kept only
    when it still names one of them ("" = not decided)."""
    found: dict[str, list[PersonMatch]] = {}
    existing = {v.id: v for v in page.case.victims} if page.case is not None else {}
    for entry in form.victims.entries:
        f = entry.form
        victim_id = parse_id(f.id.data)
        if not page.checks_duplicates_of(victim_id):
            known = existing[victim_id]  # keeps the person it already is
            f.link_person.data = str(known.person_id) if known.person_id else ""
            continue
        name, birth_date, nik = f.name.data or None, f.birth_date.data, f.nik.data or None
        hits = []
        if agency is not None and ((name and birth_date) or nik):
            hits = queries.find_duplicates(
                agency.id,
                name=name,
                birth_date=birth_date,
                nik=nik,
                exclude_case_id=page.case.id if page.case is not None else None,
            )
        matches: dict[int | None, PersonMatch] = {}
        for hit in hits:
            match = matches.setdefault(hit.person_id, PersonMatch(hit.person_id))
            if all(reference != hit.case.reference for reference, _, _ in match.cases):
                match.cases.append((hit.case.reference or "", hit.case.received_at, hit.case.state))
            match.matched_on.add(hit.matched_on)
        allowed = {"new"} | {str(p) for p in matches if p is not None}
        if (f.link_person.data or "") not in allowed:
            f.link_person.data = ""
        if matches:
            found[entry.name] = list(matches.values())
    return found


def _first_question(
    form: IntakeForm, duplicates: dict[str, list[PersonMatch]], *, undecided_only: bool
) -> str | None:
    """The link decision to bring into view: the first victim with matches (not decided yet,
    when ``undecided_only``)."""
    for entry in form.victims.entries:
        if entry.name in duplicates and not (undecided_only and entry.form.link_person.data):
            return str(entry.form.link_person.name)
    return None


# --- helpers ---------------------------------------------------------------------------------


def _region_options(agency: Any) -> list[tuple[str, str]]:
    """Suggestions for the region fields: the regions of the agency's own area."""
    if agency is None:
        return []
    query = regions_query(search=agency.region.code).limit(REGION_OPTIONS_LIMIT)
    return [(r.code, r.name) for r in db.session.scalars(query)]


CHANGE_LABELS: dict[str, Any] = {
    "received_at": _l("Received at"),
    "channel": _l("Channel"),
    "case_types": _l("Case types"),
    "risk": _l("Risk level"),
    "kewenangan": _l("Competence (kewenangan)"),
    "reporter_kind": _l("Who reports"),
    "incident_date": _l("Date of the incident"),
    "incident_place": _l("Place of the incident"),
    "ranah": _l("Domain (ranah)"),
    "incident_region": _l("Region of the incident (Kemendagri code)"),
    "kronologi": _l("Chronology (kronologi)"),
    "victims": _l("Number of victims"),
    "perpetrators": _l("Number of perpetrators"),
}
CHANGE_VOCABULARIES: dict[str, Any] = {
    "channel": Channel,
    "case_types": CaseType,
    "risk": Risk,
    "kewenangan": Kewenangan,
    "reporter_kind": ReporterKind,
    "incident_place": IncidentPlace,
    "ranah": Ranah,
}


def _shown_value(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(_shown_value(key, v) for v in value)
    if key in CHANGE_VOCABULARIES:
        return label(value, CHANGE_VOCABULARIES[key])
    if key == "received_at":
        try:
            return format_datetime(dt.datetime.fromisoformat(value), "short")
        except (TypeError, ValueError):
            return str(value)
    text = str(value)
    return text if len(text) <= 300 else text[:300] + " …"


def _changes(changes: dict[str, list[Any]]) -> list[tuple[str, str, str]]:
    return [
        (str(CHANGE_LABELS.get(key, key)), _shown_value(key, old), _shown_value(key, new))
        for key, (old, new) in changes.items()
    ]


def _render(
    page: Page,
    form: IntakeForm,
    *,
    agency: Any,
    duplicates: dict[str, list[PersonMatch]],
    focus: str | None = None,
    notice: str | None = None,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    partial = request.headers.get("HX-Request") == "true"
    ledger = {v.id: list(v.consents) for v in page.case.victims} if page.case is not None else {}
    response = make_response(
        render_template(
            "cases/_intake_form.html" if partial else "cases/intake.html",
            form=form,
            page=page,
            case=page.case,
            agency=agency,
            duplicates=duplicates,
            focus=focus,
            notice=notice,
            conflict=conflict,
            ledger=ledger,
            region_options=[]
            if partial
            else _region_options(agency or next(iter(page.agencies), None)),
            action_url=request.path,
            error_summary=error_summary(form),
            purpose_label=consent_purpose_label,
        ),
        status,
    )
    response.vary.add("HX-Request")
    return response


# --- the routes --------------------------------------------------------------------------------


def _submitted(page: Page) -> Any:
    """Handle a POST of the intake form (see the module's docstring)."""
    formdata: MultiDict[str, str] = MultiDict(request.form.items(multi=True))
    action = row_action(formdata)
    if action is not None and action[0].startswith("remove_"):
        formdata = remove_row(formdata, *action)
    form = IntakeForm(formdata=formdata)
    page.prepare(form)
    focus = add_row(form, *action) if action and action[0].startswith("add_") else None
    agency = page.agency(form)
    duplicates = _duplicates(form, page, agency)
    submit = formdata.get("action", "")
    if action is not None or submit not in page.submits:
        notice = None
        if submit == "check_duplicates":
            focus = _first_question(form, duplicates, undecided_only=False)
            if focus is None:
                notice = _("No other case of this agency has the same person as a victim.")
                focus = "intake-notice"
        return _render(page, form, agency=agency, duplicates=duplicates, focus=focus, notice=notice)

    draft = submit == "save_draft"
    typed_well = form.validate()  # only what was typed: dates, numbers, lengths
    conversion = form_to_intake(form, draft=draft)
    problems = check_intake(
        conversion.intake,
        now=utcnow(),
        draft=draft,
        region_codes=queries.known_region_codes(conversion.intake),
    )
    attach_problems(form, problems, conversion)
    if agency is None:
        add_error(form, "agency", _l("Choose the agency that receives the complaint."))
    if not typed_well or problems or agency is None:
        return _render(page, form, agency=agency, duplicates=duplicates, status=422)
    question = None if draft else _first_question(form, duplicates, undecided_only=True)
    if question is not None:
        return _render(
            page,
            form,
            agency=agency,
            duplicates=duplicates,
            focus=question,
            notice=_(
                "The same person may already have a case here. For each victim marked below, "
                "choose whether it is the same person, then save again."
            ),
        )

    version = parse_id(form.version.data) or 0
    try:
        case = page.save(submit, conversion.intake, agency, version)
        db.session.flush()
    except ops.ConflictError as exc:
        return _conflict(page, form, agency, duplicates, exc.message, exc.changes)
    except StaleDataError:
        return _conflict(page, form, agency, duplicates, _l("Someone else saved this case."), {})
    except DomainError as exc:
        db.session.rollback()
        add_error(form, conversion.form_path(exc.field or ""), exc.message)
        return _render(page, form, agency=agency, duplicates=duplicates, status=422)

    if page.mode == "edit":
        flash(_("The changes have been saved."), "success")
    elif draft:
        flash(_("The draft has been saved. It gets a reference when it is registered."), "info")
    else:
        flash(
            _("The complaint is registered as %(reference)s.", reference=case.reference),
            "success",
        )
        if case.risk is Risk.TINGGI:
            flash(_("High risk: the supervisor has been notified."), "warning")
    return redirect(url_for("cases.detail", case_id=case.id))


def _conflict(
    page: Page,
    form: IntakeForm,
    agency: Any,
    duplicates: dict[str, list[PersonMatch]],
    message: Any,
    changes: dict[str, list[Any]],
) -> Any:
    """Someone else saved first: nothing of this save is kept, the person's input stays in the
    form, and the form now carries the current version so that saving again applies it."""
    db.session.rollback()
    assert page.case is not None
    db.session.refresh(page.case)
    form.version.data = str(page.case.version)
    return _render(
        page,
        form,
        agency=agency,
        duplicates=duplicates,
        conflict={"message": message, "changes": _changes(changes)},
        status=409,
    )


@bp.route("/kasus/baru", methods=["GET", "POST"])
@requires("cases:create")
@once_per_form
def new() -> Any:
    agencies = permissions.intake_agencies(_me())
    if not agencies:
        abort(403)
    page = Page("new", agencies=agencies)
    if request.method == "POST":
        return _submitted(page)
    form = IntakeForm(formdata=None, data=new_intake_form_data())
    page.prepare(form)
    return _render(page, form, agency=page.agency(form), duplicates={})


@bp.route("/kasus/<int:case_id>/ubah", methods=["GET", "POST"])
@requires("cases:view_own")
@once_per_form
def edit(case_id: int) -> Any:
    user = _me()
    case = queries.get_case_for(user, case_id)
    if case is None or not permissions.can_edit_case(user, case):
        abort(404)
    page = Page("draft" if case.state is CaseState.DRAFT else "edit", case=case)
    if request.method == "POST":
        return _submitted(page)
    form = IntakeForm(formdata=None, data=case_to_intake_form_data(case))
    page.prepare(form)
    for victim in case.victims:  # the form shows a child's identity: every showing is recorded
        if victim.is_child:
            ops.record_identity_reveal(case, victim, actor=user)
    return _render(page, form, agency=case.agency, duplicates=_duplicates(form, page, case.agency))
