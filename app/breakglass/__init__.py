"""Break-the-glass (akses darurat): read-only access, for three hours, to a case outside one's
need-to-know scope, after a written reason and a fresh re-authentication. The owning agency's
supervisors are told at once, and every grant and every page opened under it is in the audit log
and on the supervisors' weekly access review."""

from flask import Blueprint, Flask

from app.core.i18n import lazy_gettext as _l
from app.core.schedule import At, Periodic, register
from app.core.templating import register_nav

bp = Blueprint("breakglass", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.breakglass import models, tasks, views  # noqa: F401  (table, task, routes)
    from app.breakglass.cli import breakglass_cli
    from app.breakglass.web import record_view_under_grant

    app.cli.add_command(breakglass_cli)
    register(
        Periodic(
            name="breakglass.weekly_review",
            task="breakglass.weekly_review",
            schedule=At(7, 0, weekdays=frozenset({0})),
            command="flask breakglass review-reminder",
            description="ask supervisors to review last week's emergency access",
        )
    )

    app.register_blueprint(bp)
    # after the request's commit point (app.core.web) and the audit hooks: runs before them,
    # inside the request's transaction
    app.after_request(record_view_under_grant)
    register_nav("breakglass.review", _l("Emergency access review"), "cases:supervise")
