"""The referral forms (sending, answering, notes). Each carries the version the person saw."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from app.core.enums import ConsentGiver
from app.core.forms import Form, coerce_id
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices


class ReferralForm(Form):
    version = HiddenField()  # of the track
    draft_version = HiddenField()  # of the track's draft referral, when the form showed one
    to_agency = SelectField(_l("Refer to"), coerce=coerce_id, validate_choice=False)
    message = TextAreaField(
        _l("Message to the receiving agency"),
        validators=[Length(max=2000)],
        render_kw={"rows": 3},
    )
    share_identity = BooleanField(_l("Identity and contact of the victim"))
    share_incident = BooleanField(_l("Incident summary"))
    incident_summary = TextAreaField(
        _l("Incident summary for the receiving agency"),
        validators=[Length(max=2000)],
        render_kw={"rows": 4},
    )
    share_assessment = BooleanField(_l("Assessment findings relevant to this service"))
    attachments = SelectMultipleField(_l("Attachments"), coerce=coerce_id, validate_choice=False)
    override_reason = TextAreaField(
        _l("Supervisor override: why send without the victim's consent"),
        validators=[Length(max=1000)],
        render_kw={"rows": 2},
    )
    consent_now = BooleanField(
        _l("The victim (or guardian) agrees now to this referral and to what is shared")
    )
    given_by = SelectField(_l("Agreed by"), choices=choices(ConsentGiver), validate_choice=False)
    given_by_name = StringField(_l("Name of the guardian"), validators=[Length(max=200)])
    action = HiddenField()  # "send" or "draft" (the button pressed)


class ReferralStepForm(Form):
    version = HiddenField()
    reason = TextAreaField(_l("Reason"), validators=[Length(max=1000)], render_kw={"rows": 2})
    outcome = TextAreaField(
        _l("Outcome of the service"), validators=[Length(max=1000)], render_kw={"rows": 2}
    )


class ReferralNoteForm(Form):
    note = TextAreaField(_l("Progress note"), validators=[Length(max=2000)], render_kw={"rows": 2})
