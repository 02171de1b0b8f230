"""Template helpers: the navigation registry, vocabulary labels, and the one style of dates and
numbers per locale (``app.core.formatting``: the filters ``date`` and ``datetime``, the globals
``format_day``, ``format_moment`` and ``format_number``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_babel import get_locale
from flask_login import current_user

from app.core.formatting import format_day, format_moment, format_number
from app.core.labels import label
from app.core.permissions import Visitor


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # a lazy translated string
    permission: str
    group: str  # "main" or "admin"


_NAV: list[NavItem] = []


def register_nav(endpoint: str, label_: Any, permission: str, group: str = "main") -> None:
    if all(item.endpoint != endpoint for item in _NAV):
        _NAV.append(NavItem(endpoint, label_, permission, group))


def nav_for(user: Visitor | None, group: str) -> list[NavItem]:
    if not user or not user.is_authenticated:
        return []

    return [
        item
        for item in _NAV
        if item.group == group
        and item.endpoint in current_app.view_functions
        and user.has_permission(item.permission)
    ]


def capfirst(text: Any) -> str:
    """The text with a capital first letter (a badge, a heading), the rest as it is: "Terkirim,
    menunggu jawaban", "TPPO"."""
    words = str(text)
    return words[:1].upper() + words[1:]


def init_templating(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "nav_main": nav_for(current_user, "main"),
            "nav_admin": nav_for(current_user, "admin"),
            "label": label,
            "get_locale": get_locale,
            "format_day": format_day,
            "format_moment": format_moment,
            "format_number": format_number,
        }

    app.add_template_filter(format_moment, "datetime")
    app.add_template_filter(capfirst, "capfirst")
    app.add_template_filter(format_day, "date")
