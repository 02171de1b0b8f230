"""Form fields shared by the domains' forms."""

from __future__ import annotations

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """A multiple choice shown as checkboxes (the ``field`` macro renders it by type name)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


MAX_ID = 2_147_483_647  # the largest value of an integer column


def parse_id(value: object) -> int | None:
    """A record id or version typed into a form or an address: ASCII digits only (``"²"`` is a
    digit to ``str.isdigit`` but not to ``int``), within the integer column's range; else None."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def in_id_range(value: int | None) -> bool:
    """An id that can be looked up (a WTForms ``coerce=int`` field accepts any size)."""
    return value is not None and 0 < value <= MAX_ID
