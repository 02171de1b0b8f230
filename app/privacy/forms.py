"""Forms of the data-subject rights page."""

from __future__ import annotations

import datetime as dt

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.cases.intake import JAKARTA
from app.core.forms import BoundedDateTimeLocalField, Form
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices
from app.privacy.models import RequestKind

REQUIRED = _l("This field is required.")


class RequestForm(Form):
    kind = SelectField(
        _l("Request"), choices=choices(RequestKind), validators=[InputRequired(REQUIRED)]
    )
    requester = StringField(
        _l("Who asked, and how"),
        description=_l(
            "For example “the victim herself, in person” or “guardian, by letter”. No names, "
            "numbers or addresses beyond what is needed."
        ),
        validators=[DataRequired(REQUIRED), Length(max=500)],
    )
    received_at = BoundedDateTimeLocalField(
        _l("Received at"),
        format="%Y-%m-%dT%H:%M",
        default=lambda: dt.datetime.now(JAKARTA).replace(second=0, microsecond=0, tzinfo=None),
        validators=[InputRequired(REQUIRED)],
    )

    def received_utc(self) -> dt.datetime:
        typed: dt.datetime | None = self.received_at.data
        assert typed is not None
        return typed.replace(tzinfo=JAKARTA).astimezone(dt.UTC)


class ReasonForm(Form):
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(REQUIRED), Length(max=1000)], render_kw={"rows": 2}
    )


class ActForm(Form):
    """A confirmation button (CSRF only)."""
