"""Casework on the case page: the next step of the workflow (stage, what is still needed, the
steps this user may take), the assessment per victim, the intervention plan and a card per
service with its referrals. It reads the workflow, the assessments, privacy and referrals, so it
sits above them all; the steps it offers are posted to their own domains' routes. The printable
case summary (``summary``, ``summary_pdf``, ``views``) reads all of them too."""

from flask import Blueprint, Flask

bp = Blueprint("casework", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.casework import case_page, views  # noqa: F401  (the summary's routes)

    app.register_blueprint(bp)
    case_page.register_sections()
