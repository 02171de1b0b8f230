"""The base of every form, and form fields shared by the domains' forms.

Neither Flask-WTF nor WTForms ships type information, so their classes are ``Any`` to mypy:
subclassing them is allowed here, once, with the reason; the domains' forms subclass ``Form``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, SelectMultipleField
from wtforms import Form as WTForm
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.bounds import (
    MAX_ID,
    YEAR_OUT_OF_RANGE,
    coerce_id,
    in_id_range,
    parse_id,
    year_in_range,
)
from app.core.errors import DomainError

__all__ = [
    "MAX_ID",
    "BoundedDateField",
    "BoundedDateTimeLocalField",
    "Form",
    "MultiCheckboxField",
    "SubForm",
    "coerce_id",
    "field_error",
    "in_id_range",
    "parse_id",
]


ExtraValidators = Mapping[str, Sequence[Any]] | None


class Form(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types: FlaskForm is Any
    """Flask-WTF's form (CSRF token, the request's data), with the checks the views call typed.
    The fields a form declares stay untyped (WTForms ships no types)."""

    if TYPE_CHECKING:

        def validate_on_submit(self, extra_validators: ExtraValidators = None) -> bool: ...

        def validate(self, extra_validators: ExtraValidators = None) -> bool: ...

        def is_submitted(self) -> bool: ...


class SubForm(WTForm):  # type: ignore[misc]  # WTForms ships no types: its Form is Any
    """A form nested in another (``FormField``, ``FieldList``): its fields only, the CSRF token
    is the enclosing form's."""


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]  # WTForms ships no types
    """A multiple choice shown as checkboxes (the ``field`` macro renders it by type name)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _check_year(field: Any) -> None:
    if not year_in_range(field.data):
        field.data = None
        raise ValueError(YEAR_OUT_OF_RANGE)


class BoundedDateField(DateField):  # type: ignore[misc]  # WTForms ships no types
    """A date whose year is within ``app.core.bounds`` (1900-2100); another year is a field
    error, as a date that does not parse is."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        _check_year(self)


class BoundedDateTimeLocalField(DateTimeLocalField):  # type: ignore[misc]  # WTForms: no types
    """A local date and time whose year is within ``app.core.bounds`` (1900-2100), so reading
    it as Asia/Jakarta time and turning it into UTC never leaves what a datetime can hold."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        _check_year(self)


def field_error(
    form: Any, exc: DomainError, default: str | None = None, *, prefix: str = ""
) -> None:
    """Show an operation's refusal (``DomainError``) on the form field it names (``exc.field``,
    less ``prefix``), else on the field ``default``, else above the form (``form_errors``): the
    one way views turn a refusal into a field error. A dotted or dashed name (``physical-level``)
    reaches into a subform."""
    name = (exc.field or "").removeprefix(prefix)
    target: Any = form if name else None
    for part in name.replace(".", "-").split("-") if name else ():
        target = getattr(target, part, None)
        if target is None:
            break
    if target is None or not hasattr(target, "errors") or target is form:
        target = getattr(form, default) if default else None
    if target is None:
        form.form_errors.append(str(exc.message))
        return
    errors = target.errors if isinstance(target.errors, list) else list(target.errors)
    target.errors = [*errors, str(exc.message)]
