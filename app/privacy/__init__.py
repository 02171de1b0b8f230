"""Data-subject rights under UU 27/2022 (PDP): requests of a victim (access, restriction,
erasure), the export of what the agency holds about one person, restriction of their identity,
erasure of it once no legal proceedings are open, and the retention run."""

from flask import Blueprint, Flask

from app.cases.operations import register_victim_removal_guard
from app.core.schedule import At, Periodic, register
from app.workflow.operations import transfer_accepted

bp = Blueprint("privacy", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.privacy import case_page, labels, models, tasks, views  # noqa: F401  (names, tables, routes)
    from app.privacy.cli import privacy_cli
    from app.privacy.operations import carry_on_transfer
    from app.privacy.queries import data_subject_rows_keep

    app.register_blueprint(bp)
    app.cli.add_command(privacy_cli)
    case_page.register_sections()
    register_victim_removal_guard("privacy.data_subject_rows", 10, data_subject_rows_keep)
    # a restriction follows the person when their case is transferred (same transaction);
    # connecting again when the application is built again is harmless
    transfer_accepted.connect(carry_on_transfer, weak=False)
    register(
        Periodic(
            name="privacy.retention",
            task="privacy.retention",
            schedule=At(2, 0),
            command="flask privacy retention",
            description="erase the identities the retention period has reached",
        )
    )
