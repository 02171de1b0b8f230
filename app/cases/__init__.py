"""The case record: the rules of an intake (pengaduan), the people of a case, consent, notes and
attachments, who has seen it; the case page the domains built on the case add to."""

from flask import Blueprint, Flask

from app.core.crypto import (
    IndexedTable,
    RebuiltIndex,
    register_indexed_table,
    register_rebuilt_index,
)
from app.core.i18n import lazy_gettext as _l
from app.core.templating import register_nav

bp = Blueprint("cases", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.cases import (  # noqa: F401  (tables, names, routes)
        access_views,
        labels,
        models,
        views,
    )
    from app.cases.attachment_check import check_command
    from app.cases.cli import attachments_cli, cases_cli
    from app.cases.operations import rebuild_name_keys
    from app.cases.page import register_case_sections
    from app.cases.queries import person_indexes, victim_indexes

    app.register_blueprint(bp)
    register_case_sections()
    access_views.register_sections()
    # the blind indexes `flask keys reindex` recomputes (app.core.crypto)
    register_indexed_table(
        app, IndexedTable("victims", ("name_index", "nik_index"), victim_indexes)
    )
    register_indexed_table(
        app, IndexedTable("persons", ("name_dob_index", "nik_index"), person_indexes)
    )
    register_rebuilt_index(app, RebuiltIndex("victim_name_keys", "key_id", rebuild_name_keys))
    app.cli.add_command(cases_cli)
    attachments_cli.add_command(check_command)
    app.cli.add_command(attachments_cli)
    register_nav("cases.index", _l("Cases"), "cases:view_own")
