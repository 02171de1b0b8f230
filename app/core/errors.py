"""Errors raised by operations (their messages are translatable strings meant for people), and
the code that names an unexpected error on its page and in its log line."""

from __future__ import annotations

import secrets
from typing import Any

from app.core.bounds import in_id_range
from app.core.i18n import lazy_gettext as _l

FORM_OUT_OF_DATE = _l("This form is out of date, reload the page.")


class DomainError(Exception):
    """An operation refused to change state; ``message`` says why in words a counselor reads.

    ``field`` names the form field the error belongs to, when there is one.
    """

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The record does not exist or is outside the actor's scope (shown as 404)."""


class ConcurrentChange(DomainError):
    """Saving found a record changed by someone else since this request loaded it (the
    flush's ``StaleDataError``, raised by ``core.web.all_or_nothing``)."""

    def __init__(self, message: Any = FORM_OUT_OF_DATE) -> None:
        super().__init__(message)


def require_version(expected_version: int | None) -> int:
    """The version of the record the person saw, which every step on a case, a service, a
    referral or a transfer must send (optimistic locking): missing or not a possible version
    (not a whole number from 1 to 2^31 - 1) is refused — the form is out of date or was not
    sent by the page — never taken as "whatever the record is now"."""
    if (
        isinstance(expected_version, bool)
        or not isinstance(expected_version, int)
        or not in_id_range(expected_version)
    ):
        raise DomainError(FORM_OUT_OF_DATE)
    return expected_version


class ImportRowError(Exception):
    """One row of an import file is invalid; ``line`` is 1-based as people count lines."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def new_error_id() -> str:
    """A short random code for one unexpected error (8 characters, e.g. ``3f9a0c1e``).

    It is shown to the person on the error page and written in the error's log line, so the
    administrator can find the log line a counselor quotes. It says nothing about the request.
    """
    return secrets.token_hex(4)
