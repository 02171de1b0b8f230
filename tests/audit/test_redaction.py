"""The break-the-glass reasons older releases wrote in clear into the audit log are redacted by
migration ``eb63b99cce81``: each redaction is attested by a sealed ``audit.redact`` entry, so the
chain still verifies — and any other change to a redacted entry is still an edit."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.operations import record
from app.audit.queries import EDITED, verify_chain
from app.breakglass.models import BreakGlassAttempt
from app.cases.models import BreakGlassGrant
from app.core.db import utcnow
from app.core.enums import Role
from app.extensions import db
from tests.audit.conftest import bypass_triggers, raw
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case

MIGRATION = (
    Path(__file__).parents[2]
    / "migrations"
    / "versions"
    / "eb63b99cce81_break_glass_reasons_out_of_the_audit_log.py"
)
REASON = "Korban Sekar Wulandari datang malam ini ke kantor kami."
TYPED = "Sekar Wulandari"  # a name typed where a case reference belongs


def migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redaction_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


@pytest.fixture
def old_entries() -> dict[str, Any]:
    """A grant and an attempt that named no case, recorded as the release before did."""
    user = UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())])
    case = create_case(AgencyFactory())
    now = utcnow()
    grant = BreakGlassGrant(
        user_id=user.id,
        case_id=case.id,
        reason=REASON,
        granted_at=now,
        expires_at=now + dt.timedelta(hours=3),
    )
    db.session.add(grant)
    db.session.flush()
    granted = record(
        user,
        "break_glass.grant",
        "case",
        case.id,
        {
            "grant": grant.id,
            "reference": case.reference,
            "reason": REASON,
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    no_match = record(
        user,
        "break_glass.no_match",
        "case_reference",
        TYPED,
        {"reference": TYPED, "reason": REASON},
    )
    after = record(user, "case.view", "case", case.id, {})
    db.session.commit()
    assert verify_chain().ok
    return {"user": user, "case": case, "grant": grant, "ids": (granted.id, no_match.id, after.id)}


def _log_text() -> str:
    return " ".join(f"{e.object_id} {e.changes}" for e in db.session.scalars(sa.select(AuditEntry)))


def test_old_reasons_leave_the_log_and_the_chain_still_verifies(app, old_entries):
    assert "Sekar" in _log_text()
    granted_id, no_match_id, _after = old_entries["ids"]

    migration()._redact_reasons(db.session.connection())
    db.session.commit()
    db.session.expire_all()

    assert "Sekar" not in _log_text()
    report = verify_chain()
    assert report.ok, report.problems
    assert [entry for entry, _by in report.redacted] == [granted_id, no_match_id]
    granted = db.session.get(AuditEntry, granted_id)
    assert granted.changes == {
        "grant": old_entries["grant"].id,
        "reference": old_entries["case"].reference,
        "expires_at": old_entries["grant"].expires_at.isoformat(),
        "redacted": ["reason"],
    }
    # the reason stays where it always was, encrypted on the grant
    assert db.session.get(BreakGlassGrant, old_entries["grant"].id).reason == REASON
    # the attempt's reference and reason move to an encrypted row of their own
    attempt = db.session.scalar(sa.select(BreakGlassAttempt))
    assert (attempt.user_id, attempt.reference, attempt.reason) == (
        old_entries["user"].id,
        TYPED,
        REASON,
    )
    no_match = db.session.get(AuditEntry, no_match_id)
    assert (no_match.object_type, no_match.object_id) == ("break_glass_attempt", str(attempt.id))
    assert no_match.changes == {"attempt": attempt.id, "redacted": ["reason", "reference"]}
    # each redaction is a sealed entry of its own, naming what was removed
    attestations = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "audit.redact").order_by(AuditEntry.id)
    ).all()
    assert [a.changes["entry"] for a in attestations] == [granted_id, no_match_id]
    assert attestations[0].changes["fields"] == ["reason"]
    assert attestations[1].changes["fields"] == ["reason", "reference", "object_id"]
    assert all(a.actor_label == "migration" for a in attestations)

    # a second run finds nothing left to do
    migration()._redact_reasons(db.session.connection())
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "audit.redact"))
        == 2
    )

    # the append-only trigger is back on
    if _postgres():
        with pytest.raises(sa.exc.DBAPIError), db.session.begin_nested():
            raw("UPDATE audit_entries SET changes = '{}' WHERE id = :id", id=granted_id)


def test_a_redacted_entry_changed_again_is_an_edit(app, old_entries):
    granted_id, _no_match_id, _after = old_entries["ids"]
    migration()._redact_reasons(db.session.connection())
    db.session.commit()
    if _postgres():
        bypass_triggers()
    raw(
        "UPDATE audit_entries SET actor_label = 'someone-else' WHERE id = :id",
        id=granted_id,
    )
    report = verify_chain()
    assert (granted_id, EDITED) in report.problems
    assert granted_id not in [entry for entry, _by in report.redacted]


def test_an_attestation_cannot_be_forged_without_the_key(app, old_entries):
    """Someone holding the database alone redacts an entry and writes an attestation: it is not
    sealed with AUDIT_HMAC_KEY, so both show."""
    granted_id, _no_match_id, _after = old_entries["ids"]
    if _postgres():
        bypass_triggers()
    entry = db.session.get(AuditEntry, granted_id)
    sealed_hash = entry.entry_hash
    raw(
        "UPDATE audit_entries SET changes = :changes WHERE id = :id",
        id=granted_id,
        changes='{"grant": 1}',
    )
    db.session.expire_all()
    entry = db.session.get(AuditEntry, granted_id)
    from app.audit.operations import compute_entry_hash

    forged = record(
        old_entries["user"],
        "audit.redact",
        "audit_entry",
        granted_id,
        {
            "entry": granted_id,
            "sealed_hash": sealed_hash,
            "redacted_hash": compute_entry_hash(entry, entry.prev_hash),
        },
    )
    db.session.flush()
    raw("UPDATE audit_entries SET hmac = :h WHERE id = :id", h="0" * 64, id=forged.id)
    report = verify_chain()
    assert not report.ok
    assert (forged.id, "hmac mismatch") in report.problems


def test_verify_says_how_many_entries_were_redacted(app, old_entries):
    migration()._redact_reasons(db.session.connection())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "2 entries redacted" in result.output
    assert "ok: " in result.output
