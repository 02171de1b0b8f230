"""The intake (pengaduan): the form that registers a complaint, keeps a draft or edits a case,
and ``flask cases import`` of historical cases. Both register through the workflow's first event
(``app.workflow.registration``), so the intake sits above the workflow; the rules of an intake
(``app.cases.intake``) and the case record stay in ``app.cases``."""

from flask import Blueprint, Flask

from app.cases.cli import cases_cli
from app.core.i18n import lazy_gettext as _l
from app.core.templating import register_nav

bp = Blueprint("intake", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.intake import views  # noqa: F401  (routes)
    from app.intake.cli import import_cases

    app.register_blueprint(bp)
    cases_cli.add_command(import_cases)
    # the quick intake first: it links to the full form ("Full form")
    register_nav("intake.quick", _l("New complaint"), "cases:create")
