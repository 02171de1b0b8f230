"""Cases made through the real intake operation, so every rule and side effect applies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.audit.operations import SystemActor
from app.cases.intake import ConsentData, Intake, PerpetratorData, VictimData
from app.extensions import db
from app.workflow import registration

RECEIVED = dt.datetime(2025, 3, 14, 2, 30, tzinfo=dt.UTC)  # 09:30 WIB

# The common case, as a browser posts it: one adult victim, one perpetrator, registered.
INTAKE_FORM: dict[str, Any] = {
    "received_at": "2025-03-14T09:30",
    "channel": "datang_langsung",
    "case_types": ["ktp"],
    "risk": "sedang",
    "kewenangan": "kabkota",
    "reporter_kind": "korban",
    "incident_date": "2025-03-10",
    "incident_date_precision": "hari",
    "incident_place": "rumah_tangga",
    "ranah": "domestik",
    "kronologi": "Korban datang dengan luka memar.",
    "victims-0-sex": "P",
    "victims-0-name": "Siti Aminah",
    "victims-0-birth_date": "1994-05-01",
    "victims-0-violence_types": ["fisik", "psikis"],
    "victims-0-nationality": "WNI",
    "victims-0-consents-0-purpose": "layanan",
    "victims-0-consents-0-decision": "setuju",
    "victims-0-consents-0-given_by": "korban",
    "victims-0-consents-0-at": "2025-03-14T09:45",
    "perpetrators-0-name": "Joko",
    "perpetrators-0-sex": "L",
    "perpetrators-0-age": "35",
    "perpetrators-0-relationships-0": "suami_istri",
    "action": "register",
}


def make_intake(**overrides: Any) -> Intake:
    victims = (
        overrides.pop("victims")
        if "victims" in overrides
        else [
            VictimData(
                sex="P",
                name="Siti Aminah",
                birth_date=dt.date(1994, 5, 1),
                violence_types=["fisik", "psikis"],
                consents=[
                    ConsentData(
                        purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED
                    )
                ],
            )
        ]
    )
    perpetrators = (
        overrides.pop("perpetrators")
        if "perpetrators" in overrides
        else [PerpetratorData(name="Joko", sex="L", age=35, relationships={1: "suami_istri"})]
    )
    values: dict[str, Any] = {
        "received_at": RECEIVED,
        "channel": "datang_langsung",
        "case_types": ["ktp"],
        "risk": "sedang",
        "incident_date": dt.date(2025, 3, 10),
        "incident_place": "rumah_tangga",
        "ranah": "domestik",
        "kronologi": "Korban datang dengan luka memar.",
        "victims": victims,
        "perpetrators": perpetrators,
    }
    values.update(overrides)
    return Intake(**values)


def create_case(
    agency: Any,
    *,
    actor: Any = None,
    draft: bool = False,
    case_manager: Any = None,
    **intake_overrides: Any,
) -> Any:
    case = registration.register_case(
        make_intake(**intake_overrides),
        agency=agency,
        actor=actor or SystemActor("test"),
        draft=draft,
    )
    if case_manager is not None:
        case.case_manager_id = case_manager.id
        db.session.flush()  # saved: the version a page shows next includes it
    return case
