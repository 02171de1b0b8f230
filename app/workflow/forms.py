"""The small forms of the workflow panel. Each carries the version the person saw."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.core.enums import ConsentGiver
from app.core.forms import BoundedDateField, Form, coerce_id
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices

REQUIRED = _l("This field is required.")

CLOSURE_KINDS = [
    ("korban_mundur", _l("The victim withdrew")),
    ("tidak_dapat_dihubungi", _l("The victim could not be reached")),
    ("duplikat", _l("Duplicate of another case")),
    ("lainnya", _l("Another reason")),
]

APPROVAL_TEXT = {
    "emergency_handled": _l("The emergency handling is done and the victim is safe for now."),
    "plan_approved": _l(
        "As supervisor, I approve this intervention plan; it was agreed with the victim."
    ),
    "closure_approved": _l(
        "As supervisor, I approve the termination: every service has ended and the monitoring "
        "is done."
    ),
}


class CaseStepForm(Form):
    version = HiddenField()
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)], render_kw={"rows": 2})
    approve = BooleanField(_l("I confirm"))
    # only the close form sends it (checked in the view)
    closure_kind = SelectField(
        _l("Why is the case closed?"), choices=CLOSURE_KINDS, validate_choice=False
    )
    duplicate_reference = StringField(
        _l("Reference of the case it duplicates"), validators=[Optional(), Length(max=60)]
    )


class PlanForm(Form):
    version = HiddenField()
    victim = SelectField(_l("Victim"), coerce=coerce_id, validate_choice=False)
    service_type = SelectField(_l("Service"), validate_choice=False)
    provider = SelectField(
        _l("Provided by"), coerce=coerce_id, validate_choice=False, validators=[Optional()]
    )
    target_date = BoundedDateField(_l("Target date"), validators=[Optional()])


class TrackStepForm(Form):
    version = HiddenField()
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)], render_kw={"rows": 2})
    outcome = TextAreaField(
        _l("Outcome of the service"), validators=[Length(max=500)], render_kw={"rows": 2}
    )
    # only the refusal form sends it (checked with the consent entry)
    given_by = SelectField(
        _l("Refusal stated by"), choices=choices(ConsentGiver), validate_choice=False
    )
    given_by_name = StringField(_l("Name of the guardian"), validators=[Length(max=200)])


class TransferForm(Form):
    version = HiddenField()
    to_agency = SelectField(_l("Receiving agency"), coerce=coerce_id, validate_choice=False)
    reason = TextAreaField(
        _l("Why is the case transferred?"),
        validators=[DataRequired(REQUIRED), Length(max=1000)],
        render_kw={"rows": 2},
    )


class TransferAnswerForm(Form):
    version = HiddenField()
    decision_reason = TextAreaField(
        _l("Reason for declining"), validators=[Length(max=1000)], render_kw={"rows": 2}
    )


class AssignForm(Form):
    version = HiddenField()
    case_manager = SelectField(_l("Case manager"), coerce=coerce_id, validate_choice=False)
