from __future__ import annotations

from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.core.enums import RegionLevel, Sex
from app.core.forms import Form
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices

REQUIRED = _l("This field is required.")
WHOLE_NUMBER = _l("Enter a whole number.")


class RegionCreateForm(Form):
    level = SelectField(
        _l("Level"), choices=choices(RegionLevel), validators=[InputRequired(REQUIRED)]
    )
    code = StringField(_l("Kemendagri code"), validators=[DataRequired(REQUIRED), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    parent_code = StringField(
        _l("Code of the parent region"), validators=[Optional(), Length(max=20)]
    )


class RegionEditForm(Form):
    version = HiddenField()
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])


class PopulationCreateForm(Form):
    year = IntegerField(
        _l("Year"), validators=[InputRequired(REQUIRED)], invalid_value_message=WHOLE_NUMBER
    )
    sex = SelectField(_l("Sex"), choices=choices(Sex), validators=[InputRequired(REQUIRED)])
    age_from = IntegerField(
        _l("Lowest age"), validators=[InputRequired(REQUIRED)], invalid_value_message=WHOLE_NUMBER
    )
    age_to = IntegerField(
        _l("Highest age"), validators=[Optional()], invalid_value_message=WHOLE_NUMBER
    )
    count = IntegerField(
        _l("Number of residents"),
        validators=[InputRequired(REQUIRED)],
        invalid_value_message=WHOLE_NUMBER,
    )


class PopulationEditForm(Form):
    count = IntegerField(
        _l("Number of residents"),
        validators=[InputRequired(REQUIRED)],
        invalid_value_message=WHOLE_NUMBER,
    )


class DeleteForm(Form):
    """A bare form: the CSRF token of a delete button."""
