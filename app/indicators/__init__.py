"""Indicators (domain.md §6): definitions, rollups, period close and revisions, targets, the
dashboard and the monthly report."""

from flask import Blueprint, Flask

from app.core.i18n import lazy_gettext as _l
from app.core.schedule import At, Periodic, register
from app.core.templating import register_nav

bp = Blueprint("indicators", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.indicators import models, tasks, views  # noqa: F401  (tables, tasks, routes)
    from app.indicators.cli import indicators_cli

    app.register_blueprint(bp)
    register_nav("indicators.dashboard", _l("Indicators"), "indicators:view")
    register_nav("indicators.report_form", _l("Monthly report"), "indicators:view")
    app.cli.add_command(indicators_cli)
    # every night of days 1-5 of a month (Asia/Jakarta): the month before, idempotently
    register(
        Periodic(
            name="indicators.monthly_rollup",
            task="indicators.monthly_rollup",
            schedule=At(1, 30, days_of_month=frozenset(range(1, 6))),
            command="flask indicators rollup-due",
            description="roll up the month that ended (and its quarter, semester, year)",
        )
    )
