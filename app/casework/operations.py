"""The write side of casework: the record of a printed case summary (an export of case data)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.audit.operations import record
from app.cases.models import Case, Victim
from app.cases.operations import record_identity_reveal

if TYPE_CHECKING:
    from app.auth.models import User


def record_summary_export(
    case: Case,
    *,
    sections: Sequence[str],
    revealed: Sequence[Victim],
    size: int,
    actor: User,
) -> None:
    """A case summary left the system as a PDF: recorded with its sections, the victims whose
    identity it shows (each one also a recorded reveal, as on the case page) and its size."""
    for victim in revealed:
        record_identity_reveal(case, victim, actor=actor)
    record(
        actor,
        "case.summary_export",
        "case",
        case.id,
        {
            "sections": list(sections),
            "revealed": [v.label for v in revealed],
            "format": "pdf",
            "bytes": size,
        },
    )
