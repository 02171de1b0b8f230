"""The audit trail: an append-only record of every change and who made it."""

from flask import Flask


def init_app(app: Flask) -> None:
    from app.audit import models  # noqa: F401  (table registration)
