"""Workflow engine wiring: the transition history tables, the routes of the steps posted from the
case page (whose panel is ``app.casework``'s), transfers and ``flask workflows``."""

from flask import Blueprint, Flask

from app.cases.page import register_timeline_source
from app.core.templating import register_nav

bp = Blueprint("workflow", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.workflow import models, tasks, views  # noqa: F401  (tables, tasks, routes)
    from app.workflow.cli import workflows_cli
    from app.workflow.queries import transitions_timeline
    from app.workflow.views import TRANSFERS_NAV

    app.cli.add_command(workflows_cli)
    app.register_blueprint(bp)
    register_timeline_source("workflow.transitions", transitions_timeline)
    register_nav("workflow.transfers", TRANSFERS_NAV, "cases:supervise")
