"""Administration of agencies and task forces (GT P2TPPO) with their Sub GTs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.agencies import bp
from app.agencies import operations as ops
from app.agencies.forms import (
    AgencyCreateForm,
    AgencyEditForm,
    AgencyFilterForm,
    MemberAddForm,
    MemberRemoveForm,
    TaskForceCreateForm,
)
from app.agencies.models import Agency, SubTaskForce, TaskForce
from app.agencies.permissions import can_manage_agencies, can_manage_task_forces
from app.agencies.queries import (
    SEARCH_MAX,
    SEARCH_MIN,
    AgencyFilters,
    agency_region_options,
    coordinators_of,
    get_agency,
    get_sub_task_force_of,
    get_task_force,
    list_agencies,
    list_task_forces,
    member_candidates,
    regions_without_task_force,
    search_agencies,
    services_reviewed_by,
    sub_task_forces_of_agency,
)
from app.core.bounds import parse_id, parse_page
from app.core.enums import AgencyType, ServiceType
from app.core.errors import DomainError
from app.core.forms import field_error
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.core.labels import label
from app.core.permissions import requires

if TYPE_CHECKING:
    from app.auth.models import User


def _actor() -> User:
    return cast("User", current_user._get_current_object())


# --- agencies -------------------------------------------------------------------------------


def _agency_or_404(agency_id: int) -> Agency:
    agency = get_agency(agency_id)
    if agency is None:
        abort(404)
    return agency


def _filters(form: AgencyFilterForm) -> AgencyFilters:
    form.validate()

    def ok(name: str) -> Any:
        field = getattr(form, name)
        return field.data if field.data and not field.errors else None

    status = ok("status")
    return AgencyFilters(
        search=ok("q"),
        type=AgencyType(ok("type")) if ok("type") else None,
        service_type=ServiceType(ok("service")) if ok("service") else None,
        region_code=ok("region"),
        active=None if status is None else status == "active",
    )


@bp.route("/admin/lembaga")
@requires("agencies:manage")
def index() -> Any:
    form = AgencyFilterForm(request.args)
    page = list_agencies(_filters(form), page=parse_page(request.args.get("page")))
    return render_template(
        "agencies/index.html", form=form, page=page, service_types=list(ServiceType)
    )


def _render_agency_form(form: FlaskForm, agency: Agency | None, status: int = 200) -> Any:
    return render_template(
        "agencies/agency_form.html",
        form=form,
        agency=agency,
        region_options=agency_region_options(),
    ), status


@bp.route("/admin/lembaga/baru", methods=["GET", "POST"])
@requires("agencies:manage")
@once_per_form
def create() -> Any:
    form = AgencyCreateForm()
    if form.validate_on_submit():
        try:
            agency = ops.create_agency(
                form.code.data or "",
                form.name.data or "",
                form.type.data or "",
                form.region.data or "",
                form.services.data or [],
                actor=_actor(),
            )
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(_("The agency %(code)s has been created.", code=agency.code), "success")
            return redirect(url_for("agencies.detail", agency_id=agency.id))
    return _render_agency_form(form, None, 422 if form.errors else 200)


@bp.route("/admin/lembaga/<int:agency_id>")
@requires("agencies:manage")
def detail(agency_id: int) -> Any:
    agency = _agency_or_404(agency_id)
    services = [s for s in ServiceType if s in agency.service_types]
    return render_template(
        "agencies/detail.html",
        agency=agency,
        services=services,
        sub_task_forces=sub_task_forces_of_agency(agency),
        can_manage_task_forces=can_manage_task_forces(current_user),
    )


@bp.route("/admin/lembaga/<int:agency_id>/ubah", methods=["GET", "POST"])
@requires("agencies:manage")
def edit(agency_id: int) -> Any:
    agency = _agency_or_404(agency_id)
    if request.method == "GET":
        form = AgencyEditForm(
            data={
                "name": agency.name,
                "type": agency.type.value,
                "region": agency.region.code,
                "services": [s.value for s in agency.service_types],
                "active": agency.active,
                "version": agency.version,
            }
        )
        return _render_agency_form(form, agency)
    form = AgencyEditForm()
    if form.validate_on_submit():
        try:
            ops.update_agency(
                agency,
                name=form.name.data or "",
                type=form.type.data or "",
                region=form.region.data or "",
                services=form.services.data or [],
                active=bool(form.active.data),
                expected_version=parse_id(form.version.data) or 0,
                actor=_actor(),
            )
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(_("The agency has been saved."), "success")
            return redirect(url_for("agencies.detail", agency_id=agency.id))
    return _render_agency_form(form, agency, 422)


# --- task forces ----------------------------------------------------------------------------


def _task_force_or_404(task_force_id: int) -> TaskForce:
    task_force = get_task_force(task_force_id)
    if task_force is None:
        abort(404)
    return task_force


@bp.route("/admin/gugus-tugas")
@requires("taskforces:manage")
def task_forces() -> Any:
    rows = list_task_forces()
    member_counts = {
        tf.id: len({m.agency_id for stf in tf.sub_task_forces for m in stf.members}) for tf in rows
    }
    return render_template(
        "agencies/task_forces.html", task_forces=rows, member_counts=member_counts
    )


def _task_force_create_form() -> TaskForceCreateForm:
    form = TaskForceCreateForm()
    form.region.choices = [("", "—")] + [
        (r.code, f"{r.code} {r.name} ({label(r.level)})") for r in regions_without_task_force()
    ]
    return form


@bp.route("/admin/gugus-tugas/baru", methods=["GET", "POST"])
@requires("taskforces:manage")
@once_per_form
def task_force_create() -> Any:
    form = _task_force_create_form()
    if form.validate_on_submit():
        try:
            task_force = ops.create_task_force(
                form.region.data or "", name=form.name.data or None, actor=_actor()
            )
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(_("The task force has been created with its six Sub GTs."), "success")
            return redirect(url_for("agencies.task_force_detail", task_force_id=task_force.id))
    return render_template("agencies/task_force_create.html", form=form), (
        422 if form.errors else 200
    )


def _member_add_form(sub_task_force: SubTaskForce) -> MemberAddForm:
    form = MemberAddForm(prefix=f"stf{sub_task_force.id}")
    form.agency.choices = [("", "—")] + [
        (str(a.id), f"{a.code} — {a.name}") for a in member_candidates(sub_task_force)
    ]
    return form


def _render_task_force(
    task_force: TaskForce, add_forms: dict[int, MemberAddForm] | None = None, status: int = 200
) -> Any:
    forms = dict(add_forms or {})
    for stf in task_force.sub_task_forces:
        forms.setdefault(stf.id, _member_add_form(stf))
    return render_template(
        "agencies/task_force_detail.html",
        task_force=task_force,
        add_forms=forms,
        remove_form=MemberRemoveForm(),
        coordinators=coordinators_of(task_force),
        reviewed={stf.id: services_reviewed_by(stf.key) for stf in task_force.sub_task_forces},
        members={
            stf.id: sorted((m.agency for m in stf.members), key=lambda a: a.code)
            for stf in task_force.sub_task_forces
        },
        can_manage_agencies=can_manage_agencies(current_user),
    ), status


@bp.route("/admin/gugus-tugas/<int:task_force_id>")
@requires("taskforces:manage")
def task_force_detail(task_force_id: int) -> Any:
    return _render_task_force(_task_force_or_404(task_force_id))


def _sub_task_force_or_404(task_force: TaskForce, sub_task_force_id: int) -> SubTaskForce:
    sub_task_force = get_sub_task_force_of(task_force, sub_task_force_id)
    if sub_task_force is None:
        abort(404)
    return sub_task_force


@bp.route(
    "/admin/gugus-tugas/<int:task_force_id>/sub-gugus-tugas/<int:sub_task_force_id>/anggota",
    methods=["POST"],
)
@requires("taskforces:manage")
def member_add(task_force_id: int, sub_task_force_id: int) -> Any:
    task_force = _task_force_or_404(task_force_id)
    sub_task_force = _sub_task_force_or_404(task_force, sub_task_force_id)
    form = _member_add_form(sub_task_force)
    if form.validate_on_submit():
        agency = get_agency(parse_id(form.agency.data) or 0)
        if agency is None:
            abort(404)
        try:
            ops.add_member(sub_task_force, agency, actor=_actor())
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(
                _(
                    "%(agency)s has joined the Sub GT %(subgt)s.",
                    agency=agency.code,
                    subgt=label(sub_task_force.key),
                ),
                "success",
            )
            return redirect(
                url_for(
                    "agencies.task_force_detail",
                    task_force_id=task_force.id,
                    _anchor=f"subgt-{sub_task_force.id}",
                )
            )
    return _render_task_force(task_force, {sub_task_force_id: form}, 422)


@bp.route(
    "/admin/gugus-tugas/<int:task_force_id>/sub-gugus-tugas/<int:sub_task_force_id>/anggota/hapus",
    methods=["POST"],
)
@requires("taskforces:manage")
def member_remove(task_force_id: int, sub_task_force_id: int) -> Response:
    task_force = _task_force_or_404(task_force_id)
    sub_task_force = _sub_task_force_or_404(task_force, sub_task_force_id)
    form = MemberRemoveForm()
    if not form.validate_on_submit():
        abort(400)
    agency = get_agency(parse_id(form.agency_id.data) or 0)
    if agency is None:
        abort(404)
    try:
        ops.remove_member(sub_task_force, agency, actor=_actor())
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(
            _(
                "%(agency)s has left the Sub GT %(subgt)s.",
                agency=agency.code,
                subgt=label(sub_task_force.key),
            ),
            "success",
        )
    return redirect(
        url_for(
            "agencies.task_force_detail",
            task_force_id=task_force_id,
            _anchor=f"subgt-{sub_task_force_id}",
        )
    )


# --- the agency search of the case page's forms -------------------------------------------------


@bp.route("/lembaga/cari")
@requires("cases:manage")
def search() -> tuple[Response, int] | Response:
    """Active agencies by code or name prefix, with their services, for the forms that choose a
    provider, a referral's receiver or a transfer's (the case page lists the agencies near the
    case; this finds any other). The agency directory only: no case, no person. ``q``: 2 to 80
    characters; ``layanan``: only agencies providing that service type."""
    text = (request.args.get("q") or "").strip()
    if not SEARCH_MIN <= len(text) <= SEARCH_MAX:
        return _search_refused(
            _(
                "Type %(min)d to %(max)d characters of the agency's name or code.",
                min=SEARCH_MIN,
                max=SEARCH_MAX,
            )
        )
    wanted = (request.args.get("layanan") or "").strip()
    try:
        service_type = ServiceType(wanted) if wanted else None
    except ValueError:
        return _search_refused(_("Unknown service type."))
    found, more = search_agencies(text, service_type=service_type)
    return jsonify(
        {
            "agencies": [
                {
                    "id": agency.id,
                    "code": agency.code,
                    "name": agency.name,
                    "type": agency.type.value,
                    "type_label": label(agency.type),
                    "region": {"code": agency.region.code, "name": agency.region.name},
                    "services": [s.value for s in agency.service_types],
                }
                for agency in found
            ],
            "more": more,
        }
    )


def _search_refused(message: str) -> tuple[Response, int]:
    return jsonify({"error": message}), 400
