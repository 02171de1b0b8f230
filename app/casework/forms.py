"""The form of the printable case summary: the sections to include and the child victims whose
identity to reveal in it."""

from __future__ import annotations

from typing import Any

from wtforms.validators import InputRequired

from app.casework.summary import SECTIONS
from app.core.forms import Form, MultiCheckboxField
from app.core.i18n import lazy_gettext as _l

# what the form starts with: everything but the notes (internal working notes stay in the
# agency unless someone chooses to hand them over)
DEFAULT_SECTIONS = tuple(key for key, _title in SECTIONS if key != "catatan")


class SummaryForm(Form):
    sections = MultiCheckboxField(
        _l("Sections to include"),
        choices=list(SECTIONS),
        validators=[InputRequired(_l("Choose at least one section to print."))],
    )
    reveal = MultiCheckboxField(_l("Show the identity of"), choices=[])

    def __init__(self, *args: Any, revealable: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reveal.choices = revealable
