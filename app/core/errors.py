"""Errors raised by operations. Their messages are translatable strings meant for people."""

from __future__ import annotations

from typing import Any


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


class ImportRowError(Exception):
    """One row of an import file is invalid; ``line`` is 1-based as people count lines."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason
