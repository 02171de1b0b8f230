"""The biopsikososial assessment form: one block per area, a summary and "complete"."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, FormField, HiddenField, RadioField, TextAreaField
from wtforms.validators import Length, Optional

from app.core.enums import AssessmentArea, NeedLevel
from app.core.forms import Form, SubForm
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices


class FindingForm(SubForm):
    level = RadioField(_l("Level of need"), choices=[], validators=[Optional()])
    needs = TextAreaField(_l("Needs"), validators=[Length(max=4000)], render_kw={"rows": 2})
    risks = TextAreaField(_l("Risks"), validators=[Length(max=4000)], render_kw={"rows": 2})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.level.choices = choices(NeedLevel)


class AssessmentForm(Form):
    version = HiddenField()
    summary = TextAreaField(
        _l("Summary and recommended services"),
        validators=[Length(max=4000)],
        render_kw={"rows": 4},
    )
    complete = BooleanField(_l("The assessment is complete"))


for _area in AssessmentArea:
    setattr(AssessmentForm, _area.value, FormField(FindingForm, label=_area.value))
