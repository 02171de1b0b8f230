"""The verification form: only the version of the case the person saw (and the CSRF token)."""

from __future__ import annotations

from wtforms import HiddenField

from app.core.forms import Form, parse_id


class VerifyForm(Form):
    version = HiddenField()

    def expected_version(self) -> int | None:
        value = (self.version.data or "").strip()
        return parse_id(value)
