"""Who may do what with a referral: the receiving agency's staff answer it, the sending case's
manager (or a supervisor) acts for the sending side, and either side writes progress notes.

The steps of the referral workflow are decided by the engine's referral adapter
(``app.workflow.engine``), with the permission each transition of the definition names: the
receiving agency's at that agency, any other through the sending case."""

from __future__ import annotations

from app.auth.grants import agencies_where
from app.auth.models import User
from app.cases.permissions import MANAGE, may_take_case_step
from app.referrals.models import Referral

RECEIVE = "referrals:receive"


def receiving_agency_ids(user: User) -> list[int]:
    """The agencies whose referrals ``user`` receives, in id order."""
    return sorted(agencies_where(user, RECEIVE))


def receives(user: User, referral: Referral) -> bool:
    """``user`` answers the referral for the agency it was sent to."""
    return RECEIVE in user.permissions_at(referral.to_agency_id)


def may_write_note(user: User, referral: Referral) -> bool:
    """A progress note, by the receiving side or by whoever manages the sending case."""
    return receives(user, referral) or may_take_case_step(user, referral.case, MANAGE)
