"""The service standards of domain.md §5 as data.

The national defaults live here (``DEFAULT_RULES``); the ``deadline_rules`` table holds only
agency overrides of the limit. An override keeps the default's clock (hours, days or working
days), so "stricter" simply means a smaller limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from app.deadlines.calendar import add_days, add_hours, add_working_days


class Clock(enum.StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WORKING_DAYS = "working_days"


class DeadlineCode(enum.StrEnum):
    FIRST_RESPONSE_TINGGI = "first_response_tinggi"
    FIRST_RESPONSE_SEDANG = "first_response_sedang"
    FIRST_RESPONSE_RENDAH = "first_response_rendah"
    POLICE_REPORT_TPKS = "police_report_tpks"
    SHELTER_DECISION = "shelter_decision"
    REFERRAL_RESPONSE = "referral_response"
    TPPO_SERVICE_START = "tppo_service_start"
    RESTITUTION_PAID = "restitution_paid"
    DATA_SUBJECT_RESTRICTION = "data_subject_restriction"
    BREACH_NOTICE = "breach_notice"


@dataclasses.dataclass(frozen=True)
class Rule:
    code: DeadlineCode
    clock: Clock
    limit: int
    description: str
    applies_to: str
    agency_id: int | None = None  # None: the national default
    reason: str | None = None  # why an agency override is looser than the default

    @property
    def is_default(self) -> bool:
        return self.agency_id is None

    def due_from(self, start: dt.datetime) -> dt.datetime:
        if self.clock is Clock.HOURS:
            return add_hours(start, self.limit)
        if self.clock is Clock.DAYS:
            return add_days(start, self.limit)
        return add_working_days(start, self.limit)


def _rule(code: DeadlineCode, clock: Clock, limit: int, description: str, applies_to: str) -> Rule:
    return Rule(code, clock, limit, description, applies_to)


C = DeadlineCode
DEFAULT_RULES: dict[DeadlineCode, Rule] = {
    r.code: r
    for r in (
        _rule(
            C.FIRST_RESPONSE_TINGGI, Clock.HOURS, 1, "Respons pertama, risiko tinggi", "risk:tinggi"
        ),
        _rule(
            C.FIRST_RESPONSE_SEDANG, Clock.HOURS, 6, "Respons pertama, risiko sedang", "risk:sedang"
        ),
        _rule(
            C.FIRST_RESPONSE_RENDAH,
            Clock.HOURS,
            24,
            "Respons pertama, risiko rendah",
            "risk:rendah",
        ),
        _rule(
            C.POLICE_REPORT_TPKS, Clock.HOURS, 72, "Laporan ke kepolisian (TPKS)", "case_type:tpks"
        ),
        _rule(C.SHELTER_DECISION, Clock.DAYS, 14, "Keputusan penampungan sementara", "admission"),
        _rule(
            C.REFERRAL_RESPONSE, Clock.WORKING_DAYS, 2, "Rujukan diterima atau ditolak", "referral"
        ),
        _rule(C.TPPO_SERVICE_START, Clock.DAYS, 7, "Layanan TPPO dimulai", "case_type:tppo"),
        _rule(C.RESTITUTION_PAID, Clock.DAYS, 30, "Restitusi dibayar", "final_verdict"),
        _rule(
            C.DATA_SUBJECT_RESTRICTION,
            Clock.HOURS,
            72,
            "Permintaan pembatasan data",
            "data_request",
        ),
        _rule(
            C.BREACH_NOTICE, Clock.HOURS, 72, "Pemberitahuan kegagalan pelindungan data", "breach"
        ),
    )
}
del C

FIRST_RESPONSE_BY_RISK: dict[str, DeadlineCode] = {
    "tinggi": DeadlineCode.FIRST_RESPONSE_TINGGI,
    "sedang": DeadlineCode.FIRST_RESPONSE_SEDANG,
    "rendah": DeadlineCode.FIRST_RESPONSE_RENDAH,
}
