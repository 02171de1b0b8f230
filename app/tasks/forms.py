from __future__ import annotations

from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import Length, Optional

from app.core.forms import BoundedDateField, Form
from app.core.i18n import lazy_gettext as _l
from app.tasks.models import NOTE_MAX


class FollowUpForm(Form):
    due_on = BoundedDateField(_l("Follow up on"), validators=[Optional()])
    track_id = SelectField(_l("About"), validate_choice=False, default="")
    note = StringField(
        _l("Short note (optional)"),
        validators=[Length(max=NOTE_MAX)],
        description=_l("Only you see it, in Simpul; reminders never include it."),
        render_kw={"maxlength": NOTE_MAX},
    )


class FollowUpStepForm(Form):
    version = HiddenField()
