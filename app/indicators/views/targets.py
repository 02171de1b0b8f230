"""Yearly targets (domain.md §6.5): the targets page of one region and year, and targets
uploaded as a CSV file (the file of a Renstra or Perjanjian Kinerja: years x indicators x
regions), with the checks of ``flask indicators targets import``.

An upload takes two steps, because a data officer replacing official targets wants to see what
the file does before it does it (a year column shifted by one would silently overwrite a whole
Renstra):

1. **Unggah** — the file is checked and nothing is written: the page lists the targets that would
   be added or changed (stored value → new value), counts those already stored, and names every
   bad line as ``baris L: alasan``. A file with any bad line cannot be applied.
2. **Terapkan** — the same content comes back with the preview's digest; every line is checked
   again and written, audit-logged line by line. If the stored targets changed since the preview
   (a colleague saved some), nothing is written and the new preview is shown.

Permission and scope: ``indicators:manage``, and only the regions the targets page offers the
user (``Reach.target_regions``); a line for another region is a bad line. A refused save is
answered with an error status, whose transaction the commit point rolls back: nothing of it is
kept.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import zlib
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from app.core.errors import DomainError
from app.core.i18n import gettext as _
from app.core.permissions import requires
from app.indicators import bp, queries
from app.indicators import operations as ops
from app.indicators.definitions import current_definitions
from app.indicators.forms import (
    TargetApplyForm,
    TargetUploadForm,
    decimal_text,
    parse_decimal,
    target_form,
)
from app.indicators.models import IndicatorDefinition
from app.indicators.periods import JAKARTA
from app.indicators.scope import MANAGE, reach_of
from app.indicators.views.common import (
    BREAKDOWN_PREFIX,
    definition_name,
    me,
    region_or_404,
    unit_name,
)

# A page request must end well within the server's timeout (gunicorn: 60 s); every changed line
# is a write and a sealed audit entry. Larger files go through the command.
UPLOAD_MAX_LINES = 5000
UPLOAD_MAX_BYTES = 2 * 1024 * 1024
# The previewed file travels back compressed in a form field, under Werkzeug's limit for a
# field (MAX_FORM_MEMORY_SIZE, 500 kB); targets files compress about tenfold.
CARRY_MAX_CHARS = 450_000
SHOWN_MAX = 1000  # rows of the preview's tables; the counts are always complete


def _pack(content: bytes) -> str:
    return base64.b64encode(zlib.compress(content, 9)).decode("ascii")


def _unpack(text: str) -> bytes | None:
    """The content of a preview's form, or None when it was tampered with or is too large."""
    try:
        packed = base64.b64decode(text.encode("ascii"), validate=True)
        inflate = zlib.decompressobj()
        content = inflate.decompress(packed, UPLOAD_MAX_BYTES + 1)
    except (binascii.Error, UnicodeEncodeError, zlib.error):
        return None
    if len(content) > UPLOAD_MAX_BYTES or not inflate.eof:
        return None
    return content


def _shown_name(filename: str | None) -> str:
    return Path(filename or "").name[:100] or "targets.csv"


# --- the targets page ---------------------------------------------------------------------------


def _target_definitions(year: int) -> list[IndicatorDefinition]:
    return [
        d
        for d in current_definitions(dt.date(year, 1, 1))
        if d.direction in ("higher", "lower") and not d.code.startswith(BREAKDOWN_PREFIX)
    ]


@bp.route("/indikator/target", methods=["GET", "POST"])
@requires(MANAGE)
def targets() -> Any:
    user = me()
    reach = reach_of(user, MANAGE)
    source = request.form if request.method == "POST" else request.args
    region = region_or_404(reach, source.get("region"))
    if region is None:  # targets belong to a region; the national level has none
        if not reach.home:
            abort(404)
        region = reach.home[0]
    try:
        year = int(source.get("year") or dt.datetime.now(JAKARTA).year)
    except ValueError:
        abort(400)
    if not 2000 <= year <= 2100:
        abort(400)
    definitions = _target_definitions(year)
    status, error = 200, None
    if request.method == "POST":
        form = target_form(definitions, request.form)
        if form.validate():
            values: dict[str, decimal.Decimal | None] = {
                d.code: parse_decimal(getattr(form, d.code).data) for d in definitions
            }
            try:
                saved = ops.save_targets(values, region, year, actor=user)
            except DomainError as refused:
                status, error = 422, str(refused.message)
            else:
                flash(_("%(n)d targets saved.", n=saved), "success")
                return redirect(url_for("indicators.targets", region=region.code, year=year))
        else:
            status, error = 422, _("Nothing was saved: correct the marked fields.")
    else:
        form = target_form(definitions)
        form.year.data = year
        stored = queries.targets_of(region.id, year)
        for d in definitions:
            getattr(form, d.code).data = decimal_text(stored.get(d.code))
    return render_template(
        "indicators/targets.html",
        form=form,
        definitions=definitions,
        region=region,
        regions=reach.target_regions(),
        year=year,
        name=definition_name,
        unit=unit_name,
        error=error,
    ), status


# --- a file of targets --------------------------------------------------------------------------


@bp.route("/indikator/target/unggah", methods=["POST"])
@requires(MANAGE)
def targets_upload() -> Any:
    user = me()
    regions = reach_of(user, MANAGE).target_regions()
    if not regions:
        abort(404)
    applying = "content" in request.form
    stale = False
    if applying:
        apply_form = TargetApplyForm()
        content = _unpack(apply_form.content.data or "") if apply_form.validate() else None
        if content is None or _too_large(content):
            abort(400)
        name = _shown_name(apply_form.name.data)
    else:
        upload_form = TargetUploadForm()
        if not upload_form.validate():
            return _preview(None, "", [(None, e) for e in upload_form.file.errors], 422)
        upload = upload_form.file.data
        name = _shown_name(upload.filename)
        # never more than the limit (and one byte to tell) in memory
        content = upload.stream.read(UPLOAD_MAX_BYTES + 1)
        if _too_large(content):
            return _preview(None, name, [(None, _too_large_message())], 422)
    result = ops.import_targets(content, name=name, actor=user, regions=regions, write=applying)
    if applying:
        if result.ok and result.digest == apply_form.digest.data:
            flash(
                _(
                    "Targets from %(name)s saved: %(created)d new, %(updated)d changed, "
                    "%(unchanged)d unchanged.",
                    name=name,
                    created=result.count("created"),
                    updated=result.count("updated"),
                    unchanged=result.count("unchanged"),
                ),
                "success",
            )
            first = result.changes[0] if result.changes else None
            if first is None:
                return redirect(url_for("indicators.targets"))
            return redirect(
                url_for("indicators.targets", region=first.region.code, year=first.year)
            )
        stale = result.ok  # answered 409 or 422: nothing of a refused file is kept
    packed = _pack(content)
    if result.ok and result.changes and len(packed) > CARRY_MAX_CHARS:
        return _preview(None, name, [(None, _too_large_message())], 422)
    status = 200 if result.ok else 422
    if stale:
        status = 409
    return _preview(result, name, result.errors, status, packed=packed, stale=stale)


def _too_large(content: bytes) -> bool:
    return len(content) > UPLOAD_MAX_BYTES or content.count(b"\n") > UPLOAD_MAX_LINES + 1


def _too_large_message() -> str:
    return str(
        _(
            "The file is too large for the page (at most %(n)d lines): split it, or ask for "
            "it to be imported with flask indicators targets import.",
            n=UPLOAD_MAX_LINES,
        )
    )


def _preview(
    result: ops.TargetImport | None,
    name: str,
    errors: list[tuple[int | None, str]],
    status: int,
    *,
    packed: str = "",
    stale: bool = False,
) -> Any:
    form = TargetApplyForm(formdata=None)
    if result is not None:
        form.content.data, form.digest.data, form.name.data = packed, result.digest, name
    definitions = {d.code: d for d in current_definitions(dt.date(ops.TARGET_LAST_YEAR, 1, 1))}
    changes = result.changes if result is not None else []
    return render_template(
        "indicators/targets_upload.html",
        result=result,
        name=name,
        errors=errors[:SHOWN_MAX],
        more_errors=max(0, len(errors) - SHOWN_MAX),
        changes=changes[:SHOWN_MAX],
        more_changes=max(0, len(changes) - SHOWN_MAX),
        definitions=definitions,
        indicator_name=definition_name,
        unit=unit_name,
        number=decimal_text,
        form=form,
        stale=stale,
        upload_form=TargetUploadForm(formdata=None),
    ), status
