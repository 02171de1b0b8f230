from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.breakglass.operations import MAX_REASON_LENGTH, MIN_REASON_LENGTH
from app.core.forms import Form
from app.core.i18n import lazy_gettext as _l

REQUIRED = _l("This field is required.")
REASON_TOO_SHORT = _l("Write the reason in at least %(min)d characters.")
REASON_TOO_LONG = _l("Keep the reason under %(max)d characters.")


class BreakGlassForm(Form):
    reference = StringField(
        _l("Case reference"), validators=[DataRequired(REQUIRED), Length(max=60)]
    )
    reason = TextAreaField(
        _l("Why do you need this case now?"),
        validators=[
            DataRequired(REQUIRED),
            Length(min=MIN_REASON_LENGTH, message=REASON_TOO_SHORT),
            Length(max=MAX_REASON_LENGTH, message=REASON_TOO_LONG),
        ],
    )
