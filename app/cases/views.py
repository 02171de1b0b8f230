"""The case list and the case page: people, consent ledger, services, files, notes, timeline.

Every case is loaded through ``queries`` (outside the user's scope: 404), every write checks a
``permissions`` predicate (refused: 404 too, so nothing is revealed) and calls one operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app.cases import bp, permissions, queries, storage
from app.cases import operations as ops
from app.cases.files import EXTENSIONS
from app.cases.forms import (
    AttachmentForm,
    CaseListForm,
    CaseSearchForm,
    ConfirmForm,
    ConsentForm,
    NoteForm,
    purpose_label,
)
from app.cases.intake import ConsentData
from app.cases.models import Attachment, Case, CaseNote, Victim
from app.core.bounds import parse_page
from app.core.db import utcnow
from app.core.enums import (
    AmpkCategory,
    CaseState,
    ServiceType,
    TppoCara,
    TppoProses,
    TppoTujuan,
    TrackState,
)
from app.core.errors import DomainError
from app.core.forms import parse_id
from app.core.idempotency import once_per_form
from app.core.permissions import requires
from app.core.web import send_private_stream
from app.deadlines.rules import DEFAULT_RULES, FIRST_RESPONSE_BY_RISK
from app.extensions import db

PER_PAGE = 25
SORT_COLUMNS = {
    # column: the direction of its first click
    "reference": "reference",
    "received_at": "-received_at",
    "risk": "-risk",
    "state": "state",
}
VOCABULARIES = {
    "CaseState": CaseState,
    "TrackState": TrackState,
    "AmpkCategory": AmpkCategory,
    "TppoProses": TppoProses,
    "TppoCara": TppoCara,
    "TppoTujuan": TppoTujuan,
    "ServiceType": ServiceType,
}
WORKFLOW_NAMES = {"ktpa": "KtP/A", "tppo": "TPPO"}


def _me() -> Any:
    return current_user._get_current_object()


def _case_or_404(case_id: int) -> Case:
    case = queries.get_case_for(_me(), case_id)
    if case is None:
        abort(404)
    return case


def _victim_or_404(case: Case, victim_id: int) -> Victim:
    victim = queries.victim_of(case, victim_id)
    if victim is None:
        abort(404)
    return victim


def _put_error(form: Any, exc: DomainError, default: str, prefix: str = "") -> None:
    """Show an operation's refusal on the field it names, else on ``default``."""
    name = (exc.field or "").removeprefix(prefix)
    target = getattr(form, name, None) if name else None
    if target is None or not hasattr(target, "errors"):
        target = getattr(form, default)
    target.errors = [*target.errors, str(exc.message)]


def initials(name: str | None) -> str:
    if not name:
        return "—"
    return "".join(part[0].upper() + "." for part in name.split() if part[:1].isalpha()) or "—"


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024, 1))} KB"
    return f"{format_decimal(round(size / 1024 / 1024, 1))} MB"


# --- the list ----------------------------------------------------------------------------


def _filters(form: CaseListForm) -> queries.CaseFilters:
    def ok(field: Any) -> Any:
        return field.data if field.data and not field.errors else None

    manager = ok(form.case_manager)
    sort = form.sort.data if form.sort.data in queries.SORTS else "-received_at"
    return queries.CaseFilters(
        state=ok(form.state),
        case_type=ok(form.case_type),
        risk=ok(form.risk),
        violence_type=ok(form.violence_type),
        received_from=ok(form.received_from),
        received_to=ok(form.received_to),
        case_manager_id=parse_id(manager),
        search=ok(form.q),
        sort=sort,
        overdue=bool(form.overdue.data),
    )


def _sort_targets(current: str) -> dict[str, str]:
    """Each column's sort when its header is clicked: the other direction when it is the
    current one, else the column's first direction."""
    targets = {}
    for column, first in SORT_COLUMNS.items():
        if current == column:
            targets[column] = f"-{column}"
        elif current == f"-{column}":
            targets[column] = column
        else:
            targets[column] = first
    return targets


def _sort_urls(current: str) -> dict[str, str]:
    args = {k: v for k, v in request.args.items() if k not in ("page", "sort", "q")}
    return {
        column: url_for("cases.index", **args, sort=target)
        for column, target in _sort_targets(current).items()
    }


def _edit_url(case: Case) -> str | None:
    """The intake form of the case, once that form exists."""
    if "cases.edit" in current_app.view_functions:
        try:
            return url_for("cases.edit", case_id=case.id)
        except BuildError:
            return None
    return None


def _draft_url(case: Case) -> str:
    """A draft opens in the intake form when it exists, else on the case page."""
    return _edit_url(case) or url_for("cases.detail", case_id=case.id)


FILTER_FIELDS = (
    "state",
    "case_type",
    "risk",
    "violence_type",
    "received_from",
    "received_to",
    "case_manager",
    "overdue",
    "sort",
)


def _render_list(user: Any, form: CaseListForm, *, page_number: int, searched: bool) -> Any:
    filters = _filters(form)
    now = utcnow()
    page = db.paginate(
        queries.list_cases_for(user, filters, now=now),
        page=page_number,
        per_page=PER_PAGE,
        error_out=False,
    )
    filtered = searched or any(v for k, v in request.args.items() if k not in ("page", "sort", "q"))
    return render_template(
        "cases/index.html",
        form=form,
        page=page,
        filters=filters,
        filtered=filtered,
        searched=searched,
        victim_counts=queries.victim_counts([c.id for c in page.items]),
        overdue=queries.overdue_case_ids([c.id for c in page.items], now),
        sort_urls=_sort_urls(filters.sort),
        sort_targets=_sort_targets(filters.sort),
        draft_url=_draft_url,
        new_case="cases.new" in current_app.view_functions and permissions.can_create_case(user),
        limits={risk: DEFAULT_RULES[code].limit for risk, code in FIRST_RESPONSE_BY_RISK.items()},
    )


@bp.route("/kasus")
@requires("cases:view_own")
def index() -> Any:
    if "q" in request.args:
        # A search term never travels in a URL (history, logs): dropped, the filters kept.
        kept = {k: v for k, v in request.args.items() if k not in ("q", "page")}
        return redirect(url_for("cases.index", **kept), 303)
    user = _me()
    form = CaseListForm(formdata=request.args, managers=queries.case_manager_choices(user))
    form.validate()
    return _render_list(
        user, form, page_number=parse_page(request.args.get("page")), searched=False
    )


@bp.route("/kasus/cari", methods=["POST"])
@requires("cases:view_own")
def search() -> Any:
    """The list searched by a term posted in the body (CSRF-checked), rendered directly: no
    redirect and no page link ever carries the term. Without a term: the filters, by GET."""
    user = _me()
    form = CaseSearchForm(managers=queries.case_manager_choices(user))
    form.validate()
    if "csrf_token" in form.errors:
        abort(400)
    sort_to = request.form.get("sort_to")
    if sort_to in queries.SORTS:
        form.sort.data = sort_to
    if not (form.q.data or "").strip():
        kept = {k: request.form[k] for k in FILTER_FIELDS if request.form.get(k)}
        if sort_to in queries.SORTS:
            kept["sort"] = sort_to
        return redirect(url_for("cases.index", **kept), 303)
    page_number = form.page.data if form.page.data and not form.page.errors else 1
    return _render_list(user, form, page_number=page_number, searched=True)


# --- the case page -----------------------------------------------------------------------


def _render_detail(
    case: Case,
    *,
    status: int = 200,
    revealed: Iterable[int] = (),
    note_form: NoteForm | None = None,
    attachment_form: AttachmentForm | None = None,
    consent_form: ConsentForm | None = None,
    consent_victim: Victim | None = None,
    workflow_error: dict[str, Any] | None = None,
) -> Any:
    from app.privacy.queries import may_see_identity
    from app.workflow.diagram import render_svg
    from app.workflow.forms import APPROVAL_TEXT, CaseStepForm
    from app.workflow.panel import build_panel
    from app.workflow.permissions import may_manage, may_supervise
    from app.workflow.views import transfer_targets
    from workflows.registry import get_workflow

    user = _me()
    panel = build_panel(user, case)
    workflow = get_workflow(case.workflow_key, case.workflow_version)
    revealed = set(revealed)
    # a child's identity only when revealed; a restricted victim's only for the case manager and
    # the supervisors (privacy: a data-subject restriction)
    shown = {
        v.id
        for v in case.victims
        if (not v.is_child or v.id in revealed) and may_see_identity(user, case, v)
    }
    tracks = queries.service_tracks_of(case)
    hidden_shelter = queries.shelter_hidden_from(user, case, tracks)
    notes = queries.notes_of(case)
    corrections: dict[int, list[CaseNote]] = {}
    for note in notes:
        if note.corrects_id is not None:
            corrections.setdefault(note.corrects_id, []).append(note)
    consent_forms = {
        v.id: (
            consent_form
            if consent_victim is not None and v.id == consent_victim.id and consent_form
            else ConsentForm(formdata=None, prefix=f"consent{v.id}")
        )
        for v in case.victims
    }
    return render_template(
        "cases/detail.html",
        case=case,
        shown=shown,
        # People around a child (guardians, reporter, witnesses, perpetrators) identify the
        # child too: their names stay masked while any child victim's identity is.
        people_masked=any(v.id not in shown for v in case.victims),
        can_edit=permissions.can_edit_case(user, case),
        can_note=permissions.can_add_note(user, case),
        can_reveal=permissions.can_reveal_identity(user, case),
        overdue=queries.is_first_response_overdue(case, utcnow()),
        notes=notes,
        corrections=corrections,
        attachments=queries.attachments_of(case),
        tracks=tracks,
        timeline=queries.timeline_of(case),
        # where a victim is sheltered, hidden from anyone but the people working on the case
        # and the shelter (break-the-glass, a transfer's reader): the tracks and the agency codes
        hidden_shelter_tracks=hidden_shelter.track_ids,
        note_form=note_form or NoteForm(formdata=None),
        attachment_form=attachment_form or AttachmentForm(formdata=None),
        consent_forms=consent_forms,
        reveal_form=ConfirmForm(formdata=None),
        purpose_label=hidden_shelter.purpose_label(purpose_label),
        initials=initials,
        file_size=file_size,
        format_date=format_date,
        edit_url=_edit_url,
        V=VOCABULARIES,
        max_upload_mb=current_app.config["MAX_UPLOAD_MB"],
        panel=panel,
        workflow_error=workflow_error,
        workflow_name=_(
            "%(name)s pathway, version %(version)d",
            name=WORKFLOW_NAMES.get(case.workflow_key, case.workflow_key),
            version=case.workflow_version,
        ),
        diagram=render_svg(workflow, current=case.state.value),
        step_form_obj=CaseStepForm(formdata=None),
        approval_text=APPROVAL_TEXT,
        transfer_targets=transfer_targets(case) if panel.can_transfer else [],
        can_manage_referrals=may_manage(user, case),
        can_override_consent=may_supervise(user, case),
    ), status


@bp.route("/kasus/<int:case_id>")
@requires("cases:view_own")
def detail(case_id: int) -> Any:
    return _render_detail(_case_or_404(case_id))


@bp.route("/kasus/<int:case_id>/korban/<int:victim_id>/identitas", methods=["POST"])
@requires("cases:view_own")
def reveal_identity(case_id: int, victim_id: int) -> Any:
    """Show a child victim's identity in this response only; the reveal is recorded."""
    case = _case_or_404(case_id)
    user = _me()
    if not permissions.can_reveal_identity(user, case):
        abort(404)
    victim = _victim_or_404(case, victim_id)
    from app.privacy.queries import may_see_identity

    if not may_see_identity(user, case, victim):
        abort(404)  # restricted: only the case manager and the supervisors
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not victim.is_child:
        return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"korban-{victim.id}"))
    ops.record_identity_reveal(case, victim, actor=user)
    return _render_detail(case, revealed={victim.id})


@bp.route("/kasus/<int:case_id>/korban/<int:victim_id>/persetujuan", methods=["POST"])
@requires("cases:view_own")
@once_per_form
def add_consent(case_id: int, victim_id: int) -> Any:
    case = _case_or_404(case_id)
    user = _me()
    if not permissions.can_edit_case(user, case):
        abort(404)
    victim = _victim_or_404(case, victim_id)
    form = ConsentForm(prefix=f"consent{victim.id}")
    if form.validate_on_submit():
        consent = ConsentData(
            purpose=form.purpose.data or "",
            decision=form.decision.data or "",
            given_by=form.given_by.data or "",
            given_by_name=(form.given_by_name.data or "").strip() or None,
            at=form.decided_at(),
        )
        try:
            ops.add_consent(victim, consent, actor=user)
        except DomainError as exc:
            _put_error(form, exc, "purpose", prefix="consent-")
        else:
            flash(_("The consent decision has been recorded."), "success")
            return redirect(
                url_for("cases.detail", case_id=case.id, _anchor=f"persetujuan-{victim.id}")
            )
    return _render_detail(case, consent_form=form, consent_victim=victim, status=422)


@bp.route("/kasus/<int:case_id>/catatan", methods=["POST"])
@requires("cases:view_own")
@once_per_form
def add_note(case_id: int) -> Any:
    case = _case_or_404(case_id)
    user = _me()
    if not permissions.can_add_note(user, case):
        abort(404)
    form = NoteForm()
    corrects = None
    if form.corrects_id.data:
        note_id = form.corrects_id.data
        parsed = parse_id(note_id)
        corrects = queries.note_of(case, parsed) if parsed is not None else None
        if corrects is None:
            abort(404)
    if form.validate_on_submit():
        try:
            note = ops.add_note(case, form.body.data or "", actor=user, corrects=corrects)
        except DomainError as exc:
            _put_error(form, exc, "body")
        else:
            flash(
                _("The correction has been added.") if corrects else _("The note has been added."),
                "success",
            )
            return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"note-{note.id}"))
    return _render_detail(case, note_form=form, status=422)


@bp.route("/kasus/<int:case_id>/lampiran", methods=["POST"])
@requires("cases:view_own")
@once_per_form
def upload_attachment(case_id: int) -> Any:
    case = _case_or_404(case_id)
    user = _me()
    if not permissions.can_edit_case(user, case):
        abort(404)
    form = AttachmentForm()
    if form.validate_on_submit():
        upload = form.file.data
        limit = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
        # Never more than the limit (and one byte to tell) in memory; the operation refuses it.
        content = upload.stream.read(limit + 1)
        try:
            ops.add_attachment(
                case,
                upload.filename or "",
                content,
                actor=user,
                description=form.description.data,
            )
        except DomainError as exc:
            _put_error(form, exc, "file")
        else:
            flash(_("The file has been attached."), "success")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="lampiran"))
    return _render_detail(case, attachment_form=form, status=422)


@bp.route("/kasus/<int:case_id>/lampiran/<int:attachment_id>")
@requires("cases:view_own")
def download_attachment(case_id: int, attachment_id: int) -> Response:
    case = _case_or_404(case_id)
    attachment = queries.attachment_of(case, attachment_id)
    if attachment is None:
        abort(404)
    chunks = open_attachment(attachment)
    ops.record_attachment_download(case, attachment, actor=_me())
    return send_attachment(attachment, chunks)


def open_attachment(attachment: Attachment) -> Iterator[bytes]:
    """The attachment's bytes, checked whole before the download starts: 404 when the file is
    gone, 500 (logged, by id only) when it does not decrypt or is not the recorded bytes."""
    try:
        return storage.open_file(ops.upload_dir(), attachment)
    except FileNotFoundError:
        abort(404)
    except storage.StoredFileError as error:
        current_app.logger.error("attachment file refused: %s", error)
        abort(500)


def send_attachment(attachment: Attachment, chunks: Iterator[bytes]) -> Response:
    """A download named and typed after what the content was recognised as at upload, never the
    uploader's extension (``visum.hta`` that is a PDF is ``visum.pdf``, ``application/pdf``)."""
    mimetype = attachment.content_type
    if mimetype not in EXTENSIONS:
        mimetype = "application/octet-stream"
    return send_private_stream(
        chunks, mimetype=mimetype, download_name=attachment.download_name, size=attachment.size
    )
