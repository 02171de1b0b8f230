"""The Sub GT review board: a Sub GT coordinator's pseudonymised view of the service tracks and
referrals in their Sub GT's domain across its member agencies, with coordination notes."""

from flask import Blueprint, Flask

from app.core.i18n import lazy_gettext as _l
from app.core.templating import register_nav

bp = Blueprint("subgt", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.subgt import tasks, views  # noqa: F401  (task, routes)

    app.register_blueprint(bp)
    register_nav("subgt.board", _l("Sub GT board"), "subgt:review")
