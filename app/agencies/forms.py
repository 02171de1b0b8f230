from __future__ import annotations

from typing import Any

from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.core.enums import AgencyType, ServiceType
from app.core.forms import Form, MultiCheckboxField
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices

REQUIRED = _l("This field is required.")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class AgencyFormBase(Form):
    name = StringField(
        _l("Name"), filters=[_strip], validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    type = SelectField(
        _l("Type"), choices=[("", "—"), *choices(AgencyType)], validators=[InputRequired(REQUIRED)]
    )
    region = StringField(
        _l("Region (Kemendagri code)"),
        filters=[_strip],
        validators=[DataRequired(REQUIRED), Length(max=13)],
        render_kw={"list": "region-options", "autocomplete": "off"},
        description=_l(
            "The code of the province, regency/city or district where the agency "
            "is located, e.g. 32.73 or 32.73.01."
        ),
    )
    services = MultiCheckboxField(_l("Services provided"), choices=choices(ServiceType))


class AgencyCreateForm(AgencyFormBase):
    code = StringField(
        _l("Code"),
        filters=[_upper],
        validators=[DataRequired(REQUIRED), Length(max=40)],
        description=_l(
            "Capital letters, digits and dashes, e.g. UPTDPPA-3273. It cannot be "
            "changed later: case references start with it."
        ),
    )


class AgencyEditForm(AgencyFormBase):
    version = HiddenField()
    active = BooleanField(_l("Active (may receive cases and referrals)"))


class AgencyFilterForm(Form):
    """The filters of the agency list (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), filters=[_strip], validators=[Optional(), Length(max=100)])
    type = SelectField(
        _l("Type"), choices=[("", _l("All types")), *choices(AgencyType)], validators=[Optional()]
    )
    service = SelectField(
        _l("Service"),
        choices=[("", _l("All services")), *choices(ServiceType)],
        validators=[Optional()],
    )
    region = StringField(
        _l("Region code"), filters=[_strip], validators=[Optional(), Length(max=13)]
    )
    status = SelectField(
        _l("Status"),
        choices=[
            ("", _l("Active and inactive")),
            ("active", _l("Active")),
            ("inactive", _l("Inactive")),
        ],
        validators=[Optional()],
    )


class TaskForceCreateForm(Form):
    region = SelectField(_l("Region"), coerce=str, validators=[DataRequired(REQUIRED)])
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[Optional(), Length(max=200)],
        description=_l('Leave empty for "GT P2TPPO" followed by the region\'s name.'),
    )


class MemberAddForm(Form):
    agency = SelectField(_l("Add a member agency"), coerce=str, validators=[DataRequired(REQUIRED)])


class MemberRemoveForm(Form):
    agency_id = HiddenField(validators=[DataRequired()])
