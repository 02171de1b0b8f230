"""The verification form: only the version of the case the person saw (and the CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField

from app.core.forms import parse_id


class VerifyForm(FlaskForm):
    version = HiddenField()

    def expected_version(self) -> int | None:
        value = (self.version.data or "").strip()
        return parse_id(value)
