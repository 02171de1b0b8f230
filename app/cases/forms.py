"""Forms of the case list and the case page (the intake form has its own module)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.cases.intake import JAKARTA
from app.cases.labels import consent_purpose_label as purpose_label
from app.core.bounds import MAX_PAGE
from app.core.enums import (
    CONSENT_PURPOSES_FIXED,
    CaseState,
    CaseType,
    ConsentDecision,
    ConsentGiver,
    Risk,
    ServiceType,
    ViolenceType,
)
from app.core.forms import BoundedDateField, BoundedDateTimeLocalField, Form
from app.core.i18n import lazy_gettext as _l
from app.core.labels import choices

if TYPE_CHECKING:
    from app.auth.models import User

REQUIRED = _l("This field is required.")


def consent_purpose_choices() -> list[tuple[str, str]]:
    """The purposes one records here; referral consents (``rujukan:<agency>``) are recorded
    when a referral is made."""
    fixed = [(p, purpose_label(p)) for p in CONSENT_PURPOSES_FIXED]
    per_service = [(f"layanan:{s.value}", purpose_label(f"layanan:{s.value}")) for s in ServiceType]
    return fixed + per_service


def _any(enum_cls: Any) -> list[tuple[str, Any]]:
    return [("", _l("All")), *choices(enum_cls)]


class CaseListForm(Form):
    """The filters of the case list, read from the query string (no CSRF: a GET form). The
    search term ``q`` is never read from the query string: a victim's name in a URL would stay
    in browser history, proxies and server logs; searches are posted (``CaseSearchForm``)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    state = SelectField(_l("State"), validators=[Optional()])
    case_type = SelectField(_l("Case type"), validators=[Optional()])
    risk = SelectField(_l("Risk"), validators=[Optional()])
    violence_type = SelectField(_l("Violence type"), validators=[Optional()])
    received_from = BoundedDateField(_l("Received from"), validators=[Optional()])
    received_to = BoundedDateField(_l("Received until"), validators=[Optional()])
    case_manager = SelectField(_l("Case manager"), validators=[Optional()])
    overdue = BooleanField(_l("First response overdue"))
    sort = HiddenField()

    def __init__(self, *args: Any, managers: Sequence[User] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = _any(CaseState)
        self.case_type.choices = _any(CaseType)
        self.risk.choices = _any(Risk)
        self.violence_type.choices = _any(ViolenceType)
        self.case_manager.choices = [
            ("", _l("All")),
            *((str(u.id), u.name) for u in managers or []),
        ]


class CaseSearchForm(CaseListForm):
    """The case list posted to ``/kasus/cari``: the search term with the filters, CSRF-checked,
    the page in the body too (so a searched name never reaches a URL)."""

    class Meta:
        @property
        def csrf(self) -> bool:  # as every FlaskForm: on unless the deployment turns it off
            return bool(current_app.config.get("WTF_CSRF_ENABLED", True))

    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])


class NoteForm(Form):
    body = TextAreaField(
        _l("Note"), validators=[DataRequired(REQUIRED), Length(max=10_000)], render_kw={"rows": 4}
    )
    corrects_id = HiddenField()


class ConsentForm(Form):
    purpose = SelectField(_l("Purpose"), validators=[InputRequired(REQUIRED)])
    decision = SelectField(
        _l("Decision"), choices=choices(ConsentDecision), validators=[InputRequired(REQUIRED)]
    )
    given_by = SelectField(
        _l("Given by"), choices=choices(ConsentGiver), validators=[InputRequired(REQUIRED)]
    )
    given_by_name = StringField(
        _l("Name of the guardian"), validators=[Optional(), Length(max=200)]
    )
    at = BoundedDateTimeLocalField(
        _l("Decided at"),
        format="%Y-%m-%dT%H:%M",
        default=lambda: dt.datetime.now(JAKARTA).replace(second=0, microsecond=0, tzinfo=None),
        validators=[InputRequired(REQUIRED)],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.purpose.choices = consent_purpose_choices()

    def decided_at(self) -> dt.datetime:
        """The decision time the person typed, read as Asia/Jakarta time."""
        typed: dt.datetime | None = self.at.data
        assert typed is not None
        return typed.replace(tzinfo=JAKARTA).astimezone(dt.UTC)


class AttachmentForm(Form):
    file = FileField(_l("File"), validators=[FileRequired(REQUIRED)])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=500)])


class ConfirmForm(Form):
    """A button that only needs the CSRF token (reveal an identity)."""
