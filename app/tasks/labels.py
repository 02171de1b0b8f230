"""What a follow-up reminder says (the notification names the case by reference only)."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.notifications.labels import KINDS
from app.tasks.operations import REMINDER_KIND

KINDS[REMINDER_KIND] = _l("A follow-up you set is due today")
