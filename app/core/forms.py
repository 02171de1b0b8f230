"""Form fields shared by the domains' forms."""

from __future__ import annotations

from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """A multiple choice shown as checkboxes (the ``field`` macro renders it by type name)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
