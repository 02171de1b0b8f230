"""Who may do what with a referral: the receiving agency's staff answer it, the sending case's
manager (or a supervisor) acts for the sending side, and either side writes progress notes."""

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


def may_take_referral_step(user: User, referral: Referral, permission: str) -> bool:
    """A step of the referral workflow that needs ``permission``: the receiving agency's
    permission at that agency, any other through the sending case."""
    if permission == RECEIVE:
        return receives(user, referral)
    return may_take_case_step(user, referral.case, permission)


def may_write_note(user: User, referral: Referral) -> bool:
    """A progress note, by the receiving side or by whoever manages the sending case."""
    return receives(user, referral) or may_take_case_step(user, referral.case, MANAGE)
