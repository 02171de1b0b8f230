"""The intake form: register a complaint, keep a draft, edit a case (domain.md §2).

One page serves every path. A POST is one of:

* a row button (``add_victim``, ``remove_perpetrator`` = 0, …): the form comes back with one row
  more or less, nothing is looked up and nothing is saved. With htmx (``HX-Request``) only the
  form is sent back;
* ``action=check_duplicates``: the form comes back with the other cases of the same person —
  those in the user's scope by reference, the others only as "possible duplicate elsewhere —
  ask a supervisor". Each check is audit-logged and rate-limited per user (429 past the limit);
* ``action=save_draft`` / ``register`` / ``save``: the rules of ``check_intake`` are shown next
  to their fields (422), an undecided duplicate is asked about (200), a stale edit is refused
  with what changed (409), else the one operation runs and the page redirects to the case.

On a case whose victim is restricted from the user (``privacy.queries.may_see_identity``) the
identities are masked and saved again as stored (``forms.Masking``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.audit.web import record_whatever_the_answer
from app.auth.models import User
from app.cases import operations as ops
from app.cases import permissions, queries
from app.cases.intake import Intake, check_intake
from app.cases.labels import consent_purpose_label
from app.cases.models import Case
from app.cases.page import may_see_identity
from app.cases.routing import case_route
from app.core import ratelimit
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
from app.core.errors import ConcurrentChange, DomainError
from app.core.formatting import format_day, format_moment
from app.core.forms import parse_id
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.idempotency import once_per_form
from app.core.labels import label
from app.core.permissions import requires
from app.core.web import all_or_nothing
from app.intake import bp
from app.intake.forms import (
    IntakeForm,
    Masking,
    add_error,
    add_row,
    attach_problems,
    case_to_intake_form_data,
    error_summary,
    form_to_intake,
    jakarta_to_utc,
    new_intake_form_data,
    new_quick_form_data,
    remove_row,
    row_action,
)
from app.regions.queries import region_options
from app.workflow import registration

REGION_OPTIONS_LIMIT = 3000


def _me() -> User:
    return cast(User, current_user._get_current_object())


# --- what differs between a new complaint, a draft and a registered case ----------------------


@dataclass
class Page:
    mode: str  # "new", "draft" or "edit"
    agencies: list[Any] = field(default_factory=list)  # new: where the user may register
    case: Case | None = None
    # identities of the case the user may not see (a data-subject restriction): masked
    masking: Masking = field(default_factory=Masking)
    # the quick intake (``/kasus/cepat``): only what the first minutes need, registered at once
    quick: bool = False

    @property
    def submits(self) -> tuple[str, ...]:
        if self.quick:
            return ("register",)
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
            return registration.register_case(
                intake,
                agency=agency,
                actor=actor,
                draft=submit != "register",
                recheck_duplicates=True,
                quick=self.quick,
            )
        if self.mode == "draft" and submit == "register":
            return registration.submit_draft(
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
    """Another registered case of the agency, in the user's own scope, where the same person is
    a victim. Only the reference, date and state are shown: nothing about the other case's
    people."""

    person_id: int | None
    cases: list[tuple[str, dt.datetime, CaseState]] = field(default_factory=list)
    matched_on: set[str] = field(default_factory=set)
    likely: bool = False  # likely the same person (NIK, or name and birth date); else possibly


@dataclass
class RowDuplicates:
    """What the check says of one victim row: the matches in the user's scope (a question:
    the same person?), and whether there are others outside it — of those only "possible
    duplicate elsewhere — ask a supervisor", never which case, agency, date or state."""

    matches: list[PersonMatch] = field(default_factory=list)
    elsewhere: bool = False


class CheckPaused(Exception):
    """The user has looked up too many identities lately (``DUPLICATE_CHECK_RATE_LIMIT``)."""


def _looked_up(form: IntakeForm, page: Page, agency: Any) -> list[Any]:
    """The victim rows the check looks up: those with a NIK or a name and a birth date, of a
    new complaint or a draft, or added now to a registered case."""
    if agency is None:
        return []
    rows = []
    for entry in form.victims.entries:
        f = entry.form
        if not page.checks_duplicates_of(parse_id(f.id.data)):
            continue
        if (f.name.data and f.birth_date.data) or f.nik.data:
            rows.append(entry)
    return rows


def _keep_links(form: IntakeForm, page: Page) -> None:
    """A victim already on a registered case keeps the person it is."""
    existing = {v.id: v for v in page.case.victims} if page.case is not None else {}
    for entry in form.victims.entries:
        f = entry.form
        victim_id = parse_id(f.id.data)
        if victim_id is not None and not page.checks_duplicates_of(victim_id):
            known = existing[victim_id]
            f.link_person.data = str(known.person_id) if known.person_id else ""


def _duplicates(form: IntakeForm, page: Page, agency: Any) -> dict[str, RowDuplicates]:
    """The check of each victim row (by row name), and each row's link decision kept only when
    it still names a match in the user's scope ("" = not decided).

    Every check is audit-logged (``case.duplicate_check``: how many rows were looked up, the
    matching cases in and out of the user's scope — never a NIK or name) and counted against
    ``DUPLICATE_CHECK_RATE_LIMIT`` per user, one per row looked up; past it ``CheckPaused``."""
    _keep_links(form, page)
    rows = _looked_up(form, page, agency)
    if not rows:
        return {}
    user = _me()
    kind, where = ("case", page.case.id) if page.case is not None else ("agency", agency.id)
    limit = current_app.config["DUPLICATE_CHECK_RATE_LIMIT"]
    if not ratelimit.hit(limit, "duplicate-check", f"user:{user.id}", cost=len(rows)):
        # nothing looked up; the attempt is kept (many of them is worth a supervisor's look)
        record_whatever_the_answer(
            user, "case.duplicate_check", kind, where, {"rows": len(rows), "paused": True}
        )
        raise CheckPaused
    hits_by_row = {
        entry.name: queries.find_duplicates(
            agency.id,
            name=entry.form.name.data or None,
            birth_date=entry.form.birth_date.data,
            nik=entry.form.nik.data or None,
            exclude_case_id=page.case.id if page.case is not None else None,
        )
        for entry in rows
    }
    matched = {hit.case.id for hits in hits_by_row.values() for hit in hits}
    visible = queries.in_scope(user, matched)
    found: dict[str, RowDuplicates] = {}
    for entry in rows:
        result = RowDuplicates()
        by_person: dict[int | None, PersonMatch] = {}
        for hit in hits_by_row[entry.name]:
            if hit.case.id not in visible:
                result.elsewhere = True
                continue
            match = by_person.setdefault(hit.person_id, PersonMatch(hit.person_id))
            if all(reference != hit.case.reference for reference, _, _ in match.cases):
                match.cases.append((hit.case.reference or "", hit.case.received_at, hit.case.state))
            match.matched_on.add(hit.matched_on)
            match.likely = match.likely or hit.likely
        result.matches = list(by_person.values())
        f = entry.form
        # a decision may only name a match the user was shown (or "new")
        allowed = {"new"} | {str(p) for p in by_person if p is not None}
        if (f.link_person.data or "") not in allowed:
            f.link_person.data = ""
        if result.matches or result.elsewhere:
            found[entry.name] = result
    record_whatever_the_answer(
        user,
        "case.duplicate_check",
        kind,
        where,
        {
            "rows": len(rows),
            "cases": sorted(matched & visible),
            "elsewhere": len(matched - visible),
            "elsewhere_cases": sorted(matched - visible),
        },
    )
    return found


def _first_question(
    form: IntakeForm, duplicates: dict[str, RowDuplicates], *, undecided_only: bool
) -> str | None:
    """The link decision to bring into view: the first victim with matches in the user's scope
    (not decided yet, when ``undecided_only``)."""
    for entry in form.victims.entries:
        found = duplicates.get(entry.name)
        if found is None or not found.matches:
            continue
        if not (undecided_only and entry.form.link_person.data):
            return str(entry.form.link_person.name)
    return None


def _first_elsewhere(form: IntakeForm, duplicates: dict[str, RowDuplicates]) -> str | None:
    for entry in form.victims.entries:
        found = duplicates.get(entry.name)
        if found is not None and found.elsewhere:
            return str(entry.form.link_person.name)
    return None


# --- helpers ---------------------------------------------------------------------------------


def _region_options(agency: Any) -> list[tuple[str, str]]:
    """Suggestions for the region fields: the regions of the agency's own area."""
    if agency is None:
        return []
    return region_options(agency.region.code, limit=REGION_OPTIONS_LIMIT)


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
            return format_moment(dt.datetime.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    if key == "incident_date":
        try:
            return format_day(dt.date.fromisoformat(value))
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
    duplicates: dict[str, RowDuplicates],
    focus: str | None = None,
    notice: str | None = None,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    partial = request.headers.get("HX-Request") == "true"
    if page.quick:
        template = "intake/_quick_form.html" if partial else "intake/quick.html"
    else:
        template = "intake/_form.html" if partial else "intake/intake.html"
    ledger = {v.id: list(v.consents) for v in page.case.victims} if page.case is not None else {}
    # what the user may not see is emptied before anything is drawn
    masked = page.masking.blank(form)
    response = make_response(
        render_template(
            template,
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
            if partial or page.quick
            else _region_options(agency or next(iter(page.agencies), None)),
            action_url=request.path,
            error_summary=error_summary(form),
            purpose_label=consent_purpose_label,
            masked=masked,
            hidden_rows=page.masking.hidden_rows(form),
            people_masked=page.masking.people,
            # the quick form's folded "received at" line, in the user's date style
            received_at_utc=jakarta_to_utc(form.received_at.data),
        ),
        status,
    )
    response.vary.add("HX-Request")
    return response


# --- the routes --------------------------------------------------------------------------------


PAUSED = _l(
    "You have run many duplicate checks in the last hour: the check is paused and nothing was "
    "saved. Try again later, or ask a supervisor."
)


def _submitted(page: Page) -> Any:
    """Handle a POST of the intake form (see the module's docstring)."""
    formdata: MultiDict[str, str] = MultiDict(request.form.items(multi=True))
    # masked identities are never taken from the post: the stored ones are saved again
    formdata = page.masking.restore(formdata)
    action = row_action(formdata)
    if (
        action is not None
        and action[0].startswith("remove_")
        and not page.masking.keeps_row(formdata, *action)
    ):
        formdata = remove_row(formdata, *action)
    form = IntakeForm(formdata=formdata)
    page.prepare(form)
    focus = add_row(form, *action) if action and action[0].startswith("add_") else None
    agency = page.agency(form)
    submit = formdata.get("action", "")
    if action is not None or submit not in (*page.submits, "check_duplicates"):
        # rows added or removed: nothing looked up, the decisions already made are kept
        return _render(page, form, agency=agency, duplicates={}, focus=focus)
    try:
        duplicates = _duplicates(form, page, agency)
    except CheckPaused:
        return _render(
            page,
            form,
            agency=agency,
            duplicates={},
            notice=str(PAUSED),
            focus="intake-notice",
            status=429,
        )
    if submit == "check_duplicates":
        notice = None
        focus = _first_question(form, duplicates, undecided_only=False)
        if focus is None:
            focus = _first_elsewhere(form, duplicates)
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
        quick=page.quick,
    )
    attach_problems(form, problems, conversion)
    if agency is None:
        add_error(form, "agency", _l("Choose the agency that receives the complaint."))
    missing = page.masking.missing(formdata)
    for victim in missing:
        add_error(
            form,
            "victims",
            _l(
                "Victim %(label)s cannot be removed here: the identity is restricted at the "
                "victim's request, and only the case manager or a supervisor may change it.",
                label=victim.label,
            ),
        )
    if not typed_well or problems or agency is None or missing:
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
        # all or nothing: a refusal, or a concurrent save found at the flush, keeps no change
        with all_or_nothing():
            case = page.save(submit, conversion.intake, agency, version)
    except ops.ConflictError as exc:
        return _conflict(page, form, agency, duplicates, exc.message, exc.changes)
    except ConcurrentChange:
        return _conflict(page, form, agency, duplicates, _l("Someone else saved this case."), {})
    except DomainError as exc:
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
    duplicates: dict[str, RowDuplicates],
    message: Any,
    changes: dict[str, list[Any]],
) -> Any:
    """Someone else saved first: nothing of this save is kept, the person's input stays in the
    form, and the form now carries the current version so that saving again applies it (the
    case as stored: loaded by this request, and loaded again when the refused save had changed
    it)."""
    assert page.case is not None
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


@bp.route("/kasus/cepat", methods=["GET", "POST"])
@requires("cases:create")
@once_per_form
def quick() -> Any:
    """The quick intake: risk, case types, channel and reporter, and per victim the name or
    initials, sex, age or birth date and the consent to services — registered at once, with
    the same rules, clocks, audit and duplicate check as the full form. What the first
    minutes do not need is completed later from the case page, which lists it."""
    agencies = permissions.intake_agencies(_me())
    if not agencies:
        abort(403)
    page = Page("new", agencies=agencies, quick=True)
    if request.method == "POST":
        return _submitted(page)
    form = IntakeForm(formdata=None, data=new_quick_form_data())
    page.prepare(form)
    return _render(page, form, agency=page.agency(form), duplicates={})


@bp.route("/kasus/<int:case_id>/ubah", methods=["GET", "POST"])
@case_route("cases:view_own", can=permissions.can_edit_case)
@once_per_form
def edit(case: Case) -> Any:
    user = _me()
    # the case page's rule: a restricted victim's identity only for the case manager and the
    # supervisors; for anyone else it is masked on the form too, and kept as stored
    hidden = frozenset(v.id for v in case.victims if not may_see_identity(user, case, v))
    page = Page(
        "draft" if case.state is CaseState.DRAFT else "edit",
        case=case,
        masking=Masking(case, hidden),
    )
    if request.method == "POST":
        return _submitted(page)
    form = IntakeForm(formdata=None, data=case_to_intake_form_data(case))
    page.prepare(form)
    notice = None
    try:
        duplicates = _duplicates(form, page, case.agency)
    except CheckPaused:
        duplicates, notice = {}, str(PAUSED)
    for victim in case.victims:  # the form shows a child's identity: every showing is recorded
        if victim.is_child and victim.id not in hidden:
            ops.record_identity_reveal(case, victim, actor=user)
    return _render(page, form, agency=case.agency, duplicates=duplicates, notice=notice)
