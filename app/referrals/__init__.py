"""Referrals (rujukan) between agencies, the receiving agency's inbox and the Sub GT board."""

from flask import Blueprint, Flask

bp = Blueprint("referrals", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from app.cases.page import register_shelter_rule
    from app.core.templating import register_nav
    from app.deadlines.tasks import register_awaited_referral
    from app.referrals import labels, models, tasks, views  # noqa: F401  (names, tables, task, routes)
    from app.referrals.queries import latest_sent_referral, shelter_hidden_from

    app.register_blueprint(bp)
    register_nav("referrals.inbox", _l("Referrals"), "referrals:receive")
    register_awaited_referral(latest_sent_referral)
    register_shelter_rule(shelter_hidden_from)
