from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.core.enums import Role
from app.core.forms import Form
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices

REQUIRED = _l("This field is required.")


class LoginForm(Form):
    # autocomplete: password managers and the browser fill them (WCAG 1.3.5)
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(Form):
    locale = SelectField(
        _l("Language"),
        choices=[("id", "Bahasa Indonesia"), ("en", "English")],
        validators=[InputRequired(REQUIRED)],
    )


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_confirm_password(self, field: PasswordField) -> None:
        if field.data != self.new_password.data:
            raise ValidationError(_l("The two passwords are not the same."))


class UserCreateForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])
    name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(REQUIRED), Length(max=256)]
    )


class UserEditForm(Form):
    version = HiddenField()
    email = EmailField(_l("E-mail"), validators=[DataRequired(REQUIRED), Length(max=254)])
    name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    active = BooleanField(_l("Account active"))


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED)])


class GrantForm(Form):
    role = SelectField(_l("Role"), choices=choices(Role), validators=[InputRequired(REQUIRED)])
    agency = SelectField(_l("Agency"), coerce=str, validators=[Optional()])
    sub_task_force = SelectField(
        _l("Sub GT (coordinators only)"), coerce=str, validators=[Optional()]
    )


class RevokeForm(Form):
    grant_id = IntegerField(validators=[InputRequired()])


class CodeForm(Form):
    """The second step of sign-in: a code of the authenticator app or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(REQUIRED), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )


class TotpConfirmForm(Form):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(REQUIRED), Length(max=16)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordConfirmForm(Form):
    """Turning the second factor off or replacing the recovery codes: the password again."""

    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=256)])


class ReauthForm(Form):
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=256)])
    code = StringField(
        _l("Code"),
        validators=[Optional(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false"},
    )
