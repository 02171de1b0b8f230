"""Break-the-glass (akses darurat): read-only access, for three hours, to a case outside one's
need-to-know scope, after a written reason and a fresh re-authentication. The owning agency's
supervisors are told at once, and every grant and every page opened under it is in the audit log
and on the supervisors' weekly access review."""

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("breakglass", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from app.breakglass import models, views  # noqa: F401  (table, routes)
    from app.breakglass.web import record_view_under_grant
    from app.core.templating import register_nav

    app.register_blueprint(bp)
    # after the request's commit point (app.core.web) and the audit hooks: runs before them,
    # inside the request's transaction
    app.after_request(record_view_under_grant)
    register_nav("breakglass.review", _l("Emergency access review"), "cases:supervise")
