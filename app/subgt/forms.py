"""The board's filters (a GET form) and the coordination note form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import Optional

from app.core.enums import ServiceType, TrackState
from app.core.forms import Form
from app.core.i18n import lazy_gettext as _l
from app.core.labels import label
from app.subgt.queries import BoardFilters

ALL_STATES = "semua"


class BoardFilterForm(Form):
    """The filters of the board, read from the query string (no CSRF: a GET form)."""

    class Meta:
        csrf = False

    service_type = SelectField(_l("Service"), validators=[Optional()])
    state = SelectField(_l("State"), validators=[Optional()])
    provider = SelectField(_l("Provider"), validators=[Optional()])
    overdue = BooleanField(_l("Overdue only"))

    def __init__(
        self,
        *args: Any,
        service_types: Iterable[ServiceType] = (),
        agencies: Iterable[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.service_type.choices = [
            ("", _l("All")),
            *((s.value, label(s)) for s in service_types),
        ]
        self.state.choices = [
            ("", _l("Not ended")),
            (ALL_STATES, _l("All, including ended")),
            *((s.value, label(s)) for s in TrackState),
        ]
        self.provider.choices = [("", _l("All")), *((str(i), name) for i, name in agencies)]

    def filters(self) -> BoardFilters:
        """What was chosen; an unknown value counts as not chosen."""
        service_values = {value for value, _ in self.service_type.choices}
        provider_values = {value for value, _ in self.provider.choices}
        service = self.service_type.data
        state = self.state.data
        provider = self.provider.data
        return BoardFilters(
            service_type=ServiceType(service) if service and service in service_values else None,
            state=TrackState(state) if state in {s.value for s in TrackState} else None,
            include_ended=state == ALL_STATES,
            provider_id=int(provider) if provider and provider in provider_values else None,
            overdue_only=bool(self.overdue.data),
        )

    @property
    def filtered(self) -> bool:
        return self.filters() != BoardFilters()


class CoordinationNoteForm(Form):
    # required and at most 2000 characters: checked by the operation (one message, 422)
    body = TextAreaField(_l("Coordination note"), render_kw={"rows": 3, "maxlength": 2000})
    escalate = BooleanField(_l("Escalate to the supervisors of both agencies"))
