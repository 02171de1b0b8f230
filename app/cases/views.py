"""The case list and the case page: people, consent ledger, services, files, notes, timeline.

Every route about one case is a ``case_route``: the case is loaded through ``queries`` (outside
the user's scope: 404) and its ``can`` predicate checked (refused: 404 too, so nothing is
revealed); a write calls one operation. The case page itself is a view-model the domains
contribute to (``app.cases.page``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_number
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import Field

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
)
from app.cases.intake import ConsentData
from app.cases.models import Attachment, Case, Victim
from app.cases.page import edit_url, may_see_identity, render_case_page
from app.cases.routing import case_route
from app.core.bounds import parse_page
from app.core.db import utcnow
from app.core.errors import DomainError
from app.core.forms import field_error, parse_id
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.core.permissions import requires
from app.core.web import send_private_stream
from app.deadlines.rules import DEFAULT_RULES, FIRST_RESPONSE_BY_RISK

if TYPE_CHECKING:
    from app.auth.models import User

PageResponse = tuple[str, int]

PER_PAGE = 25
SORT_COLUMNS = {
    # column: the direction of its first click
    "reference": "reference",
    "received_at": "-received_at",
    "risk": "-risk",
    "state": "state",
}


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _victim_or_404(case: Case, victim_id: int) -> Victim:
    victim = queries.victim_of(case, victim_id)
    if victim is None:
        abort(404)
    return victim


# --- the list ----------------------------------------------------------------------------


def _filters(form: CaseListForm) -> queries.CaseFilters:
    def ok(field: Field) -> Any:
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
    args: dict[str, Any] = {
        k: v for k, v in request.args.items() if k not in ("page", "after", "before", "sort", "q")
    }
    return {
        column: url_for("cases.index", **args, sort=target)
        for column, target in _sort_targets(current).items()
    }


def _draft_url(case: Case) -> str:
    """A draft opens in the intake form when it exists, else on the case page."""
    return edit_url(case) or url_for("cases.detail", case_id=case.id)


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


def _page_urls(page: queries.CasePage) -> tuple[str | None, str | None]:
    """The addresses of the previous and the next page of the list: the filters and the sort,
    with the keyset of the page's first or last row."""
    args: dict[str, Any] = {
        k: v for k, v in request.args.items() if k not in ("page", "after", "before", "q")
    }
    prev_url = url_for("cases.index", **args, before=page.prev_cursor) if page.has_prev else None
    next_url = url_for("cases.index", **args, after=page.next_cursor) if page.has_next else None
    return prev_url, next_url


def _render_list(
    user: User,
    form: CaseListForm,
    *,
    page_number: int,
    searched: bool,
    after: str | None = None,
    before: str | None = None,
) -> str:
    filters = _filters(form)
    now = utcnow()
    page = queries.page_of_cases_for(
        user, filters, per_page=PER_PAGE, page=page_number, after=after, before=before, now=now
    )
    filtered = searched or any(
        v for k, v in request.args.items() if k not in ("page", "after", "before", "sort", "q")
    )
    prev_url, next_url = (None, None) if searched else _page_urls(page)
    return render_template(
        "cases/index.html",
        form=form,
        page=page,
        prev_url=prev_url,
        next_url=next_url,
        count_cap=format_number(queries.COUNT_CAP),
        filters=filters,
        filtered=filtered,
        searched=searched,
        victim_counts=queries.victim_counts([c.id for c in page.items]),
        overdue=queries.overdue_case_ids([c.id for c in page.items], now),
        sort_urls=_sort_urls(filters.sort),
        sort_targets=_sort_targets(filters.sort),
        draft_url=_draft_url,
        new_case="intake.quick" in current_app.view_functions and permissions.can_create_case(user),
        limits={risk: DEFAULT_RULES[code].limit for risk, code in FIRST_RESPONSE_BY_RISK.items()},
    )


@bp.route("/kasus")
@requires("cases:view_own")
def index() -> str | Response:
    if "q" in request.args:
        # A search term never travels in a URL (history, logs): dropped, the filters kept.
        kept: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("q", "page")}
        return redirect(url_for("cases.index", **kept), 303)
    user = _me()
    form = CaseListForm(formdata=request.args, managers=queries.case_manager_choices(user))
    form.validate()
    return _render_list(
        user,
        form,
        page_number=parse_page(request.args.get("page")),
        searched=False,
        after=request.args.get("after"),
        before=request.args.get("before"),
    )


@bp.route("/kasus/cari", methods=["POST"])
@requires("cases:view_own")
def search() -> str | Response:
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
        kept: dict[str, Any] = {k: request.form[k] for k in FILTER_FIELDS if request.form.get(k)}
        if sort_to in queries.SORTS:
            kept["sort"] = sort_to
        return redirect(url_for("cases.index", **kept), 303)
    page_number = form.page.data if form.page.data and not form.page.errors else 1
    return _render_list(user, form, page_number=page_number, searched=True)


# --- the case page (app/cases/page.py builds it) ---------------------------------------------


@bp.route("/kasus/<int:case_id>")
@case_route("cases:view_own", people=False)
def detail(case: Case) -> PageResponse:
    # ``?layanan=<track id>``: the page drawing that service's forms (a case with many services
    # draws only some of them at once)
    return render_case_page(case, track=request.args.get("layanan", type=int))


@bp.route("/kasus/<int:case_id>/korban/<int:victim_id>/identitas", methods=["POST"])
@case_route("cases:view_own", can=permissions.can_reveal_identity)
def reveal_identity(case: Case, victim_id: int) -> PageResponse | Response:
    """Show a child victim's identity in this response only; the reveal is recorded."""
    user = _me()
    victim = _victim_or_404(case, victim_id)
    if not may_see_identity(user, case, victim):
        abort(404)  # e.g. restricted: only the case manager and the supervisors
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not victim.is_child:
        return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"korban-{victim.id}"))
    ops.record_identity_reveal(case, victim, actor=user)
    return render_case_page(case, revealed=frozenset({victim.id}))


@bp.route("/kasus/<int:case_id>/korban/<int:victim_id>/persetujuan", methods=["POST"])
@case_route("cases:view_own", can=permissions.can_edit_case)
@once_per_form
def add_consent(case: Case, victim_id: int) -> PageResponse | Response:
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
            ops.add_consent(victim, consent, actor=_me())
        except DomainError as exc:
            field_error(form, exc, "purpose", prefix="consent-")
        else:
            flash(_("The consent decision has been recorded."), "success")
            return redirect(
                url_for("cases.detail", case_id=case.id, _anchor=f"persetujuan-{victim.id}")
            )
    return render_case_page(case, consent_form=form, consent_victim=victim, status=422)


@bp.route("/kasus/<int:case_id>/catatan", methods=["POST"])
@case_route("cases:view_own", can=permissions.can_add_note)
@once_per_form
def add_note(case: Case) -> PageResponse | Response:
    form = NoteForm()
    corrects = None
    if form.corrects_id.data:
        parsed = parse_id(form.corrects_id.data)
        corrects = queries.note_of(case, parsed) if parsed is not None else None
        if corrects is None:
            abort(404)
    if form.validate_on_submit():
        try:
            note = ops.add_note(case, form.body.data or "", actor=_me(), corrects=corrects)
        except DomainError as exc:
            field_error(form, exc, "body")
        else:
            flash(
                _("The correction has been added.") if corrects else _("The note has been added."),
                "success",
            )
            return redirect(url_for("cases.detail", case_id=case.id, _anchor=f"note-{note.id}"))
    return render_case_page(case, note_form=form, status=422)


@bp.route("/kasus/<int:case_id>/lampiran", methods=["POST"])
@case_route("cases:view_own", can=permissions.can_edit_case)
@once_per_form
def upload_attachment(case: Case) -> PageResponse | Response:
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
                actor=_me(),
                description=form.description.data,
            )
        except DomainError as exc:
            field_error(form, exc, "file")
        else:
            flash(_("The file has been attached."), "success")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="lampiran"))
    return render_case_page(case, attachment_form=form, status=422)


@bp.route("/kasus/<int:case_id>/lampiran/<int:attachment_id>")
@case_route("cases:view_own")
def download_attachment(case: Case, attachment_id: int) -> Response:
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
