"""Referrals (rujukan) between agencies, the receiving agency's inbox and the Sub GT board."""

from flask import Blueprint, Flask

from app.cases.page import register_shelter_rule
from app.core.i18n import lazy_gettext as _l
from app.core.templating import register_nav
from app.deadlines.tasks import register_awaited_referral
from app.privacy.queries import TrackRecords, register_track_records

bp = Blueprint("referrals", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    # local: the domain's own modules (its views use bp) load when the app registers it
    from app.referrals import engine, labels, models, tasks, views  # noqa: F401  (names, tables, task, routes)
    from app.referrals.queries import (
        agencies_referred_to,
        exported_referrals,
        latest_sent_referral,
        shelter_hidden_from,
    )

    app.register_blueprint(bp)
    # the engine applies a referral's steps through its adapter
    engine.register()
    register_nav("referrals.inbox", _l("Referrals"), "referrals:receive")
    register_awaited_referral(latest_sent_referral)
    register_shelter_rule(shelter_hidden_from)
    # a person's export lists the referrals of their services
    register_track_records(TrackRecords("referrals", agencies_referred_to, exported_referrals))
