"""Forms of the indicator pages: the dashboard filter (GET, no CSRF), starting a rollup, closing
a period, and the yearly targets (numbers typed the Indonesian way, ``3,20``, or ``3.20``), one by
one or uploaded as a CSV file and applied after a preview."""

from __future__ import annotations

import decimal
import re
from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, Field, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError

from app.core.forms import Form
from app.core.i18n import lazy_gettext as _l
from app.indicators.models import IndicatorDefinition
from app.indicators.operations import MAX_TARGET

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$|^[+-]?\d+(\.\d+)?$")


def parse_decimal(text: str | None) -> decimal.Decimal | None:
    """A number typed as ``3,20`` / ``1.234,50`` (Indonesian) or ``3.20``; ``None`` when empty.
    Raises ``ValueError`` for anything else."""
    raw = (text or "").strip().replace(" ", "")
    if not raw:
        return None
    if not _NUMBER.match(raw):
        raise ValueError(raw)
    if "," in raw:  # Indonesian: dots group thousands, the comma is the decimal mark
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = decimal.Decimal(raw)
    except decimal.InvalidOperation as error:  # pragma: no cover - the pattern rules it out
        raise ValueError(raw) from error
    if not value.is_finite():
        raise ValueError(raw)
    return value


def decimal_text(value: decimal.Decimal | None) -> str:
    """A stored target as it is typed back into the form (``3,2``)."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


class _DecimalInput:
    """Validator: the field holds a number as ``parse_decimal`` reads it, 0 or more, with at most
    4 decimals."""

    def __call__(self, form: Any, field: Field) -> None:
        try:
            value = parse_decimal(field.data)
        except ValueError as error:
            raise ValidationError(_l("Write a number, for example 3,20 or 3.20.")) from error
        if value is None:
            return
        if value < 0:
            raise ValidationError(_l("A target cannot be negative."))
        if value >= MAX_TARGET or value.as_tuple().exponent < -4:  # type: ignore[operator]
            raise ValidationError(_l("Write at most 4 decimals and a smaller number."))


class PeriodRegionForm(Form):
    """The period and region a management action applies to."""

    period = HiddenField(validators=[DataRequired()])
    region = HiddenField(validators=[DataRequired()])


class RollupForm(PeriodRegionForm):
    pass


class CloseForm(PeriodRegionForm):
    confirm = BooleanField(
        _l(
            "I understand: the values of this period are frozen; later corrections become "
            "revisions."
        ),
        validators=[InputRequired(_l("Tick the box to confirm."))],
    )


class TargetYearForm(Form):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])


def target_form(definitions: list[IndicatorDefinition], formdata: Any = None) -> Form:
    """A form with one text field per indicator (named by its code) and the year."""

    class TargetForm(TargetYearForm):
        pass

    for definition in definitions:
        setattr(
            TargetForm,
            definition.code,
            StringField(definition.name_id, validators=[_DecimalInput()]),
        )
    return TargetForm(formdata=formdata) if formdata is not None else TargetForm()


class TargetUploadForm(Form):
    """A CSV file of targets (``region_code,year,code,target``) to check and preview."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])


class TargetApplyForm(Form):
    """Apply a previewed file: its content (compressed, base64) travels back with the preview's
    digest; everything is checked again before anything is written."""

    content = HiddenField(validators=[DataRequired()])
    digest = HiddenField(validators=[DataRequired()])
    name = HiddenField()
