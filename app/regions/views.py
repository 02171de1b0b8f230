"""Administration of regions (``/admin/wilayah``) and population figures (``/admin/penduduk``)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_number
from flask_login import current_user
from werkzeug.wrappers import Response

from app.core.bounds import parse_page
from app.core.enums import RegionLevel
from app.core.errors import DomainError
from app.core.forms import field_error, parse_id
from app.core.i18n import gettext as _
from app.core.idempotency import once_per_form
from app.core.permissions import requires
from app.regions import bp
from app.regions import operations as ops
from app.regions.forms import (
    DeleteForm,
    PopulationCreateForm,
    PopulationEditForm,
    RegionCreateForm,
    RegionEditForm,
)
from app.regions.models import Population, Region
from app.regions.permissions import can_manage_population, can_manage_regions
from app.regions.queries import (
    ancestors,
    child_counts,
    get_population,
    get_region,
    get_region_by_code,
    list_regions,
    population_rows,
    population_summary,
    population_years,
)

PER_PAGE = 50


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "format_number": format_number,
        "can_manage_regions": can_manage_regions,
        "can_manage_population": can_manage_population,
    }


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return parse_id(value)


# --- regions -----------------------------------------------------------------------------


def _region_or_404(region_id: int) -> Region:
    region = get_region(region_id)
    if region is None:
        abort(404)
    return region


@bp.route("/admin/wilayah")
@requires("regions:manage")
def index() -> Any:
    level = request.args.get("tingkat", "").strip()
    level = level if level in {m.value for m in RegionLevel} else ""
    search = request.args.get("q", "").strip()[:100]
    parent_id = _int_arg("induk")
    parent = _region_or_404(parent_id) if parent_id is not None else None
    page = list_regions(
        level=level or None,
        parent_id=parent_id,
        search=search or None,
        page=parse_page(request.args.get("page")),
        per_page=PER_PAGE,
    )
    return render_template(
        "regions/index.html",
        page=page,
        parent=parent,
        trail=ancestors(parent) if parent else [],
        level=level,
        search=search,
        levels=list(RegionLevel),
        counts=child_counts(r.id for r in page.items),
    )


@bp.route("/admin/wilayah/baru", methods=["GET", "POST"])
@requires("regions:manage")
@once_per_form
def create() -> Any:
    parent_id = _int_arg("induk")
    parent = _region_or_404(parent_id) if parent_id is not None else None
    form = RegionCreateForm()
    if request.method == "GET" and parent is not None:
        child_level = _child_level(parent)
        if child_level is not None:
            form.level.data = child_level.value
        form.parent_code.data = parent.code
        form.code.data = parent.code + "."
    if form.validate_on_submit():
        try:
            region = ops.create_region(
                form.code.data or "",
                form.name.data or "",
                form.level.data or "",
                form.parent_code.data or None,
                actor=current_user._get_current_object(),
            )
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(_("The region %(code)s has been created.", code=region.code), "success")
            return redirect(url_for("regions.edit", region_id=region.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "regions/create.html",
        form=form,
        parent=parent,
        trail=[*ancestors(parent), parent] if parent else [],
    ), status


def _child_level(region: Region) -> RegionLevel | None:
    levels = list(RegionLevel)
    index = levels.index(region.level)
    return levels[index + 1] if index + 1 < len(levels) else None


@bp.route("/admin/wilayah/<int:region_id>", methods=["GET", "POST"])
@requires("regions:manage")
def edit(region_id: int) -> Any:
    region = _region_or_404(region_id)
    if request.method == "GET":
        form = RegionEditForm(data={"name": region.name, "version": region.version})
        return _render_edit(region, form)
    form = RegionEditForm()
    if form.validate_on_submit():
        version = parse_id(form.version.data) or 0
        try:
            ops.update_region(
                region,
                name=form.name.data or "",
                expected_version=version,
                actor=current_user._get_current_object(),
            )
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(_("The region has been saved."), "success")
            return redirect(url_for("regions.edit", region_id=region.id))
    return _render_edit(region, form, status=422)


def _render_edit(region: Region, form: RegionEditForm, status: int = 200) -> Any:
    return render_template(
        "regions/edit.html",
        region=region,
        form=form,
        trail=ancestors(region),
        child_count=child_counts([region.id]).get(region.id, 0),
        child_level=_child_level(region),
    ), status


# --- population --------------------------------------------------------------------------


def _this_year() -> int:
    return dt.datetime.now(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).year


def _year_arg() -> int | None:
    year = _int_arg("tahun")
    return year if year is not None and ops.YEAR_MIN <= year <= ops.YEAR_MAX else None


def _population_url(region: Region, year: int) -> str:
    return url_for("regions.population", wilayah=region.code, tahun=year)


@bp.route("/admin/penduduk")
@requires("population:manage")
def population() -> Any:
    code = request.args.get("wilayah", "").strip()[:20]
    region = get_region_by_code(code) if code else None
    if region is None:
        return render_template(
            "regions/population.html",
            code=code,
            region=None,
            unknown=bool(code),
        ), 404 if code else 200
    years = population_years(region.id)
    year = _year_arg() or (years[0] if years else _this_year())
    return render_template(
        "regions/population.html",
        code=code,
        region=region,
        unknown=False,
        year=year,
        years=years,
        rows=population_rows(region.id, year),
        summary=population_summary(region.id, year),
        trail=ancestors(region),
        delete_form=DeleteForm(),
    )


@bp.route("/admin/penduduk/wilayah/<int:region_id>/baru", methods=["GET", "POST"])
@requires("population:manage")
@once_per_form
def population_create(region_id: int) -> Any:
    region = _region_or_404(region_id)
    year = _year_arg() or _this_year()
    form = PopulationCreateForm()
    if request.method == "GET":
        form.year.data = year
    if form.validate_on_submit():
        try:
            pop = ops.create_population(
                region,
                form.year.data,
                form.sex.data or "",
                form.age_from.data,
                form.age_to.data,
                form.count.data,
                actor=current_user._get_current_object(),
            )
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(_("The population figure has been added."), "success")
            return redirect(_population_url(region, pop.year))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "regions/population_create.html", form=form, region=region, year=form.year.data or year
    ), status


def _population_or_404(population_id: int) -> Population:
    pop = get_population(population_id)
    if pop is None:
        abort(404)
    return pop


@bp.route("/admin/penduduk/<int:population_id>", methods=["GET", "POST"])
@requires("population:manage")
def population_edit(population_id: int) -> Any:
    pop = _population_or_404(population_id)
    form = PopulationEditForm(data={"count": pop.count} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            ops.update_population(
                pop, count=form.count.data, actor=current_user._get_current_object()
            )
        except DomainError as exc:
            field_error(form, exc)
        else:
            flash(_("The population figure has been saved."), "success")
            return redirect(_population_url(pop.region, pop.year))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("regions/population_edit.html", form=form, pop=pop), status


@bp.route("/admin/penduduk/<int:population_id>/hapus", methods=["POST"])
@requires("population:manage")
def population_delete(population_id: int) -> Response:
    pop = _population_or_404(population_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    region, year = pop.region, pop.year
    try:
        ops.delete_population(pop, actor=current_user._get_current_object())
    except DomainError as exc:
        flash(str(exc.message), "error")
    else:
        flash(_("The population figure has been deleted."), "success")
    return redirect(_population_url(region, year))
