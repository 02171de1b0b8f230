""" "Tugas saya" (my tasks): one list per user of what is overdue, due today and due this week —
their deadlines, plan target dates, referrals awaiting their answer and the follow-ups they set
(``models.FollowUp``), reminded once on the day in-app and by e-mail."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask

from app.core.i18n import lazy_gettext as _l
from app.core.schedule import Every, Periodic, register
from app.core.templating import register_nav

bp = Blueprint("tasks", __name__, template_folder="templates")

REMIND_EVERY = dt.timedelta(minutes=15)
NAV = _l("My tasks")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.tasks import case_page, labels, models, tasks, views  # noqa: F401
    from app.tasks.cli import tasks_cli

    app.register_blueprint(bp)
    app.cli.add_command(tasks_cli)
    register_nav("tasks.index", NAV, "cases:view_own")
    case_page.register_sections()
    register(
        Periodic(
            name="tasks.remind_follow_ups",
            task="tasks.remind_follow_ups",
            schedule=Every(REMIND_EVERY),
            command="flask tasks remind",
            description="remind each follow-up once on its day (from 07:00 WIB)",
        )
    )
