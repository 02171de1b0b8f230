"""Form fields shared by the domains' forms."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, DateTimeLocalField, SelectMultipleField
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
    "MultiCheckboxField",
    "coerce_id",
    "field_error",
    "in_id_range",
    "parse_id",
]


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """A multiple choice shown as checkboxes (the ``field`` macro renders it by type name)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _check_year(field: Any) -> None:
    if not year_in_range(field.data):
        field.data = None
        raise ValueError(YEAR_OUT_OF_RANGE)


class BoundedDateField(DateField):  # type: ignore[misc]
    """A date whose year is within ``app.core.bounds`` (1900-2100); another year is a field
    error, as a date that does not parse is."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        _check_year(self)


class BoundedDateTimeLocalField(DateTimeLocalField):  # type: ignore[misc]
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
