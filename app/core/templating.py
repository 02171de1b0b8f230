"""Template helpers: the navigation registry, vocabulary labels, date formatting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_babel import format_datetime, get_locale
from flask_login import current_user

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


def init_templating(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "nav_main": nav_for(current_user, "main"),
            "nav_admin": nav_for(current_user, "admin"),
            "label": label,
            "get_locale": get_locale,
        }

    @app.template_filter("datetime")
    def datetime_filter(value: dt.datetime | None, fmt: str = "medium") -> str:
        return format_datetime(value, fmt) if value else "—"
