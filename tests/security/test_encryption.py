"""Encryption at rest of identifying fields (issue #7 item 4): the cipher, the column type, the
key settings and `flask keys`."""

from __future__ import annotations

import base64
import datetime as dt
import os
import stat
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app

from app.cases.models import Case, CaseNote, Victim
from app.config import ConfigError
from app.core.encryption import (
    DecryptionError,
    EncryptedText,
    EncryptionError,
    KeyConfigError,
    UnknownKeyError,
    decrypt_value,
    encrypt_value,
    encrypted_columns,
    generate_key,
    parse_keys,
    resolve_data_keys,
    stored_key_id,
)
from app.core.keys_cli import count_key_usage, rotate_keys
from app.extensions import db
from tests.factories import TEST_PASSWORD

# The identifying columns; docs/security.md lists the same.
ENCRYPTED = {
    "cases": {"reporter_name", "reporter_phone", "kronologi", "closed_reason"},
    "victims": {
        "name",
        "nik",
        "birth_date",  # with sex and region it re-identified nearly every victim of a dump
        "phone",
        "address",
        "disability_kind",
        "tppo_recruiter",
        "tppo_documents",
    },
    "guardians": {"name", "phone"},
    "witnesses": {"name", "phone", "notes"},
    "perpetrators": {"name", "notes"},
    "consent_entries": {"given_by_name", "note"},
    "users": {"totp_secret"},  # the second factor's shared secret
    "assessments": {"summary"},  # health, psychological and social findings
    "assessment_findings": {"needs", "risks"},
    "case_notes": {"body"},
    # the file's own data key (the file on disk is encrypted with it): envelope encryption
    "attachments": {"original_name", "description", "data_key"},
    # free text staff type about a case: names and diagnoses end up there whatever they are told
    "referrals": {
        "message",
        "incident_summary",
        "override_reason",
        "decline_reason",
        "outcome",
        "withdraw_reason",
    },
    "referral_events": {"text"},
    "coordination_notes": {"body"},
    "case_transitions": {"reason", "data"},
    "service_tracks": {"end_reason"},
    "case_transfers": {"reason", "decision_reason"},
    "data_subject_requests": {"requester", "reason"},
    "victim_restrictions": {"lift_reason"},
    "break_glass_grants": {"reason"},
    "break_glass_attempts": {"reference", "reason"},  # a request that named no case
    "follow_ups": {"note"},  # a counselor's short note to themselves about a case
}

KEY_A = generate_key("ka")
KEY_B = generate_key("kb")


def _raw(table: str, column: str, row_id: int) -> str | None:
    t = db.metadata.tables[table]
    return db.session.scalar(
        sa.select(sa.type_coerce(t.c[column], sa.Text)).where(t.c.id == row_id)
    )


# --- the cipher --------------------------------------------------------------------------------


def test_round_trip_and_format():
    ring = parse_keys(KEY_A)
    stored = encrypt_value("Siti Aminah", "victims.name", ring)
    prefix, key_id, payload = stored.split(":", 2)
    assert (prefix, key_id) == ("enc1", "ka")
    assert len(base64.b64decode(payload)) == 12 + len("Siti Aminah") + 16
    assert decrypt_value(stored, "victims.name", ring) == "Siti Aminah"
    assert decrypt_value(encrypt_value("", "victims.name", ring), "victims.name", ring) == ""
    assert decrypt_value(encrypt_value("Ñoño 🌸", "x.y", ring), "x.y", ring) == "Ñoño 🌸"


def test_the_same_plaintext_encrypts_differently_each_time():
    ring = parse_keys(KEY_A)
    values = {encrypt_value("3273014501940001", "victims.nik", ring) for _ in range(20)}
    assert len(values) == 20


def test_a_value_moved_to_another_column_does_not_decrypt():
    ring = parse_keys(KEY_A)
    stored = encrypt_value("Siti Aminah", "victims.name", ring)
    with pytest.raises(DecryptionError) as caught:
        decrypt_value(stored, "guardians.name", ring)
    assert "Siti" not in str(caught.value)
    assert "guardians.name" in str(caught.value)


def test_a_wrong_or_missing_key_is_a_clear_error_without_value_or_key():
    stored = encrypt_value("Siti Aminah", "victims.name", parse_keys(KEY_A))
    other_key_same_id = generate_key("ka")
    with pytest.raises(DecryptionError) as wrong:
        decrypt_value(stored, "victims.name", parse_keys(other_key_same_id))
    with pytest.raises(UnknownKeyError) as missing:
        decrypt_value(stored, "victims.name", parse_keys(KEY_B))
    for exc in (wrong.value, missing.value):
        message = str(exc)
        assert "Siti" not in message
        assert KEY_A.split(":")[1] not in message
        assert other_key_same_id.split(":")[1] not in message
    assert "'ka'" in str(missing.value)


def test_tampered_values_are_refused():
    ring = parse_keys(KEY_A)
    stored = encrypt_value("Siti Aminah", "victims.name", ring)
    payload = bytearray(base64.b64decode(stored.split(":", 2)[2]))
    payload[-1] ^= 1
    tampered = "enc1:ka:" + base64.b64encode(bytes(payload)).decode()
    for bad in (tampered, "enc1:ka:not base64!", "enc1:ka:AAAA", "enc1:ka"):
        with pytest.raises(DecryptionError):
            decrypt_value(bad, "victims.name", ring)


def test_legacy_plaintext_is_returned_as_it_is():
    ring = parse_keys(KEY_A)
    assert decrypt_value("Siti Aminah", "victims.name", ring) == "Siti Aminah"
    assert stored_key_id("Siti Aminah") is None


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "ka",
        "ka:",
        "ka:bm90IGEga2V5",  # base64, but not 32 bytes
        "k a:" + KEY_A.split(":")[1],
        f"{KEY_A},{KEY_A}",
        "ka:%%%%",
    ],
    # KEY_A is random: ids of their own keep the test ids the same in every pytest-xdist worker
    ids=["unset", "empty", "id-only", "no-key", "short-key", "space-in-id", "id-twice", "not-b64"],
)
def test_malformed_key_settings_are_refused_without_showing_the_key(raw):
    with pytest.raises(KeyConfigError) as caught:
        parse_keys(raw)
    assert KEY_A.split(":")[1] not in str(caught.value)


def test_key_settings_list_the_current_key_first_and_accept_urlsafe_base64():
    urlsafe = "kc:" + base64.urlsafe_b64encode(bytes(range(200, 232))).decode().rstrip("=")
    ring = parse_keys(f" {KEY_B} , {KEY_A},{urlsafe}")
    assert ring.current_id == "kb"
    assert ring.ids == ("kb", "ka", "kc")


# --- start-up ----------------------------------------------------------------------------------


def _bare_app(tmp_path: Any, **config: Any) -> Flask:
    app = Flask("bare", instance_path=str(tmp_path / "instance"))
    app.config.update(config)
    return app


def test_production_refuses_to_start_without_keys(tmp_path):
    app = _bare_app(tmp_path, APP_ENV="production", DATA_ENCRYPTION_KEYS=None)
    with pytest.raises(ConfigError, match="DATA_ENCRYPTION_KEYS is not set"):
        resolve_data_keys(app)
    assert not (tmp_path / "instance" / "data_keys").exists()
    bad = _bare_app(tmp_path, APP_ENV="production", DATA_ENCRYPTION_KEYS="ka:short")
    with pytest.raises(ConfigError):
        resolve_data_keys(bad)
    good = _bare_app(tmp_path, APP_ENV="production", DATA_ENCRYPTION_KEYS=KEY_A)
    resolve_data_keys(good)
    assert good.config["DATA_ENCRYPTION_KEYS"] == KEY_A


def test_development_generates_one_key_once_into_the_instance_folder(tmp_path):
    first = _bare_app(tmp_path, APP_ENV="development", DATA_ENCRYPTION_KEYS=None)
    resolve_data_keys(first)
    path = tmp_path / "instance" / "data_keys"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert parse_keys(first.config["DATA_ENCRYPTION_KEYS"]).current_id == "dev1"
    second = _bare_app(tmp_path, APP_ENV="testing", DATA_ENCRYPTION_KEYS="")
    resolve_data_keys(second)
    assert second.config["DATA_ENCRYPTION_KEYS"] == first.config["DATA_ENCRYPTION_KEYS"]
    assert [p.name for p in path.parent.iterdir()] == ["data_keys"]


def test_the_application_is_configured_with_keys_and_the_keys_command(app):
    assert parse_keys(app.config["DATA_ENCRYPTION_KEYS"])
    result = app.test_cli_runner().invoke(args=["keys", "generate", "--id", "k2027"])
    assert result.exit_code == 0, result.output
    assert parse_keys(result.output.strip()).current_id == "k2027"


# --- the column type ---------------------------------------------------------------------------


def test_exactly_the_identifying_columns_are_encrypted_each_bound_to_its_own_name():
    found = {
        table.name: {c.name for c in columns} for table, columns in encrypted_columns(db.metadata)
    }
    assert found == ENCRYPTED
    for table, columns in encrypted_columns(db.metadata):
        for column in columns:
            assert column.type.context == f"{table.name}.{column.name}"


def test_no_index_or_constraint_covers_an_encrypted_column():
    for table, columns in encrypted_columns(db.metadata):
        names = {c.name for c in columns}
        for index in table.indexes:
            assert not names & {c.name for c in index.columns}, index.name
        for constraint in table.constraints:
            covered = {c.name for c in getattr(constraint, "columns", [])}
            assert not names & covered, constraint.name


def test_an_encrypted_column_cannot_be_compared_or_sorted_in_sql():
    with pytest.raises(EncryptionError, match="blind index"):
        Victim.name == "Siti Aminah"  # noqa: B015
    with pytest.raises(EncryptionError):
        Victim.nik.in_(["3273014501940001"])
    with pytest.raises(EncryptionError):
        Victim.name.ilike("%siti%")
    with pytest.raises(EncryptionError):
        Case.kronologi.desc()
    with pytest.raises(EncryptionError):  # the birth date: sort or filter on the clear age
        Victim.birth_date == dt.date(1994, 5, 1)  # noqa: B015
    with pytest.raises(EncryptionError):
        Victim.birth_date.asc()
    # NULL tests stay possible
    assert "IS NULL" in str(Victim.name.is_(None))
    assert "IS NOT NULL" in str(Victim.name != None)  # noqa: E711


def test_stored_values_are_ciphertext_and_read_back_as_plaintext(create_agency, create_case):
    from app.cases.intake import GuardianData, VictimData

    case = create_case(
        create_agency(),
        reporter_name="Pelapor Rahasia",
        reporter_phone="0812 3456 7890",
        kronologi="Kronologi yang sangat rahasia.",
        victims=[
            VictimData(
                sex="P",
                name="Wulan Sekarsari",
                nik="3273014501940001",
                birth_date=dt.date(2010, 5, 1),
                phone="0813 1111 2222",
                address="Jl. Rahasia No. 7",
                violence_types=["fisik"],
                guardians=[GuardianData(name="Ibu Wulan", phone="0813 3333 4444")],
            )
        ],
    )
    db.session.commit()
    victim = case.victims[0]
    raw = {
        "reporter_name": _raw("cases", "reporter_name", case.id),
        "kronologi": _raw("cases", "kronologi", case.id),
        "name": _raw("victims", "name", victim.id),
        "nik": _raw("victims", "nik", victim.id),
        "address": _raw("victims", "address", victim.id),
        "birth_date": _raw("victims", "birth_date", victim.id),
        "guardian": _raw("guardians", "name", victim.guardians[0].id),
    }
    current = parse_keys(current_app.config["DATA_ENCRYPTION_KEYS"]).current_id
    for value in raw.values():
        assert value is not None
        assert value.startswith(f"enc1:{current}:")
    assert "Wulan" not in " ".join(v for v in raw.values() if v)
    assert "3273014501940001" not in raw["nik"]
    assert "2010" not in raw["birth_date"]
    db.session.expire_all()
    again = db.session.get(Victim, victim.id)
    assert (again.name, again.nik, again.address, again.birth_date) == (
        "Wulan Sekarsari",
        "3273014501940001",
        "Jl. Rahasia No. 7",
        dt.date(2010, 5, 1),
    )
    assert again.age_at_incident == 14 and again.is_child  # the clear age the statistics use
    assert again.case.kronologi == "Kronologi yang sangat rahasia."
    assert again.guardians[0].name == "Ibu Wulan"
    assert db.session.get(Victim, victim.id).nik_index  # the blind index is still written


def test_legacy_plaintext_rows_keep_working(create_agency, create_case):
    case = create_case(create_agency())
    victim = case.victims[0]
    db.session.commit()
    victims = db.metadata.tables["victims"]
    db.session.execute(
        sa.update(victims)
        .where(victims.c.id == victim.id)
        .values(name=sa.type_coerce("Nama Lama Polos", sa.Text))
    )
    db.session.commit()
    assert _raw("victims", "name", victim.id) == "Nama Lama Polos"
    db.session.expire_all()
    assert db.session.get(Victim, victim.id).name == "Nama Lama Polos"


# --- rotation ----------------------------------------------------------------------------------


def _usage() -> dict[str | None, int]:
    total: dict[str | None, int] = {}
    for counts in count_key_usage().values():
        for key, n in counts.items():
            total[key] = total.get(key, 0) + n
    return total


def test_rotation_re_encrypts_everything_with_the_current_key(
    app, monkeypatch, create_agency, create_case
):
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_A)
    case = create_case(create_agency(), reporter_name="Pelapor Lama")
    victim = case.victims[0]
    note = CaseNote(case_id=case.id, body="Catatan medis rahasia")
    db.session.add(note)
    db.session.commit()
    notes = db.metadata.tables["case_notes"]
    db.session.execute(
        sa.update(notes)
        .where(notes.c.id == note.id)
        .values(body=sa.type_coerce("Catatan polos lama", sa.Text))
    )
    db.session.commit()
    updated_at = _raw_updated_at(case.id)
    version = case.version
    assert set(_usage()) >= {"ka", None}

    # a new key first, the old one still listed: everything still reads
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    db.session.expire_all()
    assert db.session.get(Victim, victim.id).name == "Siti Aminah"
    assert _raw("victims", "name", victim.id).startswith("enc1:ka:")

    report = rotate_keys(batch_size=2)
    assert report.values_reencrypted >= 4
    assert set(_usage()) == {"kb"}
    assert _raw("case_notes", "body", note.id).startswith("enc1:kb:")
    assert _raw_updated_at(case.id) == updated_at  # rotation is no edit of the case
    db.session.expire_all()
    assert db.session.get(Case, case.id).version == version

    again = rotate_keys()
    assert again.values_reencrypted == 0  # idempotent

    # the old key can now be removed
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_B)
    db.session.expire_all()
    reread = db.session.get(Victim, victim.id)
    assert reread.name == "Siti Aminah"
    assert reread.case.reporter_name == "Pelapor Lama"
    assert db.session.get(CaseNote, note.id).body == "Catatan polos lama"

    # without the key of a stored value, reading fails clearly
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_A)
    db.session.expire_all()
    with pytest.raises(UnknownKeyError, match="'kb'"):
        db.session.get(Victim, victim.id)
    db.session.rollback()


def _decrypted_everything() -> dict[tuple[str, str, Any], Any]:
    """Every stored encrypted value, read back through its column's own type."""
    from app.core.encryption import encrypted_columns

    values = {}
    for table, columns in encrypted_columns(db.metadata):
        pk = next(iter(table.primary_key.columns))
        for column in columns:
            for row_id, value in db.session.execute(
                sa.select(pk, column).where(column.is_not(None))
            ):
                values[(table.name, column.name, row_id)] = value
    return values


def test_rotation_round_trips_every_encrypted_column_type_exactly(
    app, monkeypatch, create_agency, create_case
):
    """A rotation once wrote the decrypted text of an encrypted JSON column back through the
    JSON type: the document came back as a string and every case page answered 500. Every
    column type (text, JSON, date) reads back exactly what it held before."""
    from app.cases.intake import VictimData
    from app.workflow.models import CaseTransition

    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_A)
    case = create_case(create_agency(), reporter_name="Pelapor Lama")
    document = {"approvals": ["supervisor"], "outcome": "Rujukan selesai", "n": 2}
    transition = CaseTransition(
        case_id=case.id,
        at=case.received_at,
        actor_label="system",
        kind="workflow",
        event="test",
        from_state="diterima",
        to_state="identifikasi",
        data=document,
    )
    legacy = CaseTransition(
        case_id=case.id,
        at=case.received_at,
        actor_label="system",
        kind="workflow",
        event="test",
        from_state="identifikasi",
        to_state="asesmen",
    )
    db.session.add_all([transition, legacy])
    db.session.commit()
    transitions = db.metadata.tables["case_transitions"]
    db.session.execute(  # a row written before the column was encrypted: plain JSON text
        sa.update(transitions)
        .where(transitions.c.id == legacy.id)
        .values(data=sa.type_coerce('{"legacy": [1, 2]}', sa.Text))
    )
    victims = db.metadata.tables["victims"]
    other = create_case(
        create_agency(), victims=[VictimData(sex="L", age=9, violence_types=["psikis"])]
    ).victims[0]
    db.session.commit()
    db.session.execute(  # a birth date written before the column was encrypted: the ISO text
        sa.update(victims)
        .where(victims.c.id == other.id)
        .values(birth_date=sa.type_coerce("2015-02-28", sa.Text))
    )
    db.session.commit()
    before = _decrypted_everything()
    assert before[("case_transitions", "data", transition.id)] == document
    assert before[("victims", "birth_date", case.victims[0].id)] == dt.date(1994, 5, 1)
    assert before[("victims", "birth_date", other.id)] == dt.date(2015, 2, 28)

    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    db.session.expire_all()
    assert rotate_keys().values_reencrypted >= 3
    assert set(_usage()) == {"kb"}
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_B)  # the old key is gone
    db.session.expire_all()
    assert _decrypted_everything() == before
    assert db.session.get(CaseTransition, transition.id).data == document
    assert db.session.get(CaseTransition, legacy.id).data == {"legacy": [1, 2]}
    assert _raw("victims", "birth_date", other.id).startswith("enc1:kb:")
    assert db.session.get(Victim, other.id).birth_date == dt.date(2015, 2, 28)


def test_rotation_rewraps_attachment_data_keys_and_the_files_still_download(
    app, monkeypatch, tmp_path, client, create_agency, create_case
):
    """Envelope encryption: rotation re-wraps each attachment's data key with the new key and
    leaves the (large) encrypted file as it is; once the old key is gone the download is still
    the uploaded bytes."""
    import io

    from app.cases.models import Attachment
    from app.core.enums import Role
    from tests.factories import UserFactory
    from tests.fixtures import login_as

    uploads = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(uploads))
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_A)
    agency = create_agency()
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    case = create_case(agency, actor=manager, case_manager=manager)
    content = b"%PDF-1.7\n" + os.urandom(200_000) + b"\n%%EOF\n"
    db.session.commit()
    login_as(client, manager)
    response = client.post(
        f"/kasus/{case.id}/lampiran",
        data={"file": (io.BytesIO(content), "visum.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    attachment = db.session.scalars(sa.select(Attachment)).one()
    url = f"/kasus/{case.id}/lampiran/{attachment.id}"
    assert _raw("attachments", "data_key", attachment.id).startswith("enc1:ka:")
    on_disk = (uploads / attachment.stored_name).read_bytes()
    assert content[:8] not in on_disk

    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    db.session.expire_all()
    assert rotate_keys().values_reencrypted >= 1
    assert _raw("attachments", "data_key", attachment.id).startswith("enc1:kb:")
    assert set(_usage()) == {"kb"}
    assert (uploads / attachment.stored_name).read_bytes() == on_disk  # only the key re-wrapped

    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_B)  # the old key is gone
    db.session.expire_all()
    download = client.get(url)
    assert download.status_code == 200
    assert download.data == content

    # without the key that wraps the data key, the file cannot be read at all
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_A)
    db.session.expire_all()
    with pytest.raises(UnknownKeyError, match="'kb'"):
        db.session.get(Attachment, attachment.id).data_key  # noqa: B018
    db.session.rollback()


def _raw_updated_at(case_id: int) -> Any:
    cases = db.metadata.tables["cases"]
    return db.session.scalar(sa.select(cases.c.updated_at).where(cases.c.id == case_id))


def test_rotate_and_status_commands(app, monkeypatch, create_agency, create_case, admin_user):
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_A)
    case = create_case(create_agency(), witnesses=[("Saksi Rahasia", "0812 0000 1111")])
    db.session.commit()
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    runner = app.test_cli_runner()

    status = runner.invoke(args=["keys", "status"])
    assert status.exit_code == 0, status.output
    assert "ka:" in status.output
    assert "not yet rotated" in status.output

    result = runner.invoke(
        args=["keys", "rotate", "--email", admin_user.email, "--batch-size", "1"],
        input=f"{TEST_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "current key: kb" in result.output
    assert "victims: 1/" in result.output  # progress lines
    assert "values re-encrypted" in result.output
    assert "Saksi Rahasia" not in result.output

    status = runner.invoke(args=["keys", "status"])
    assert "older keys may be removed" in status.output
    witness = db.metadata.tables["witnesses"]
    stored = db.session.scalar(
        sa.select(sa.type_coerce(witness.c.name, sa.Text)).where(witness.c.case_id == case.id)
    )
    assert stored.startswith("enc1:kb:")


def test_the_type_needs_its_column_name():
    with pytest.raises(ValueError):
        EncryptedText("name")


def test_free_text_about_a_case_is_stored_as_ciphertext(create_agency):
    """Referral messages, reasons, outcomes, progress notes, workflow reasons and a track's
    outcome: staff write names and diagnoses there, so none of it is stored readable."""
    from app.cases.intake import ConsentData, VictimData
    from app.cases.operations import add_consent
    from app.core.db import utcnow
    from app.core.enums import Role, ServiceType
    from app.referrals.models import Referral, ReferralEvent
    from app.referrals.operations import (
        Sharing,
        accept_referral,
        add_progress_note,
        complete_referral,
        save_referral,
        start_referral,
    )
    from app.workflow.models import CaseTransition
    from app.workflow.tracks import create_track
    from tests.factories import AgencyFactory, UserFactory
    from tests.factories.cases import create_case

    secret = "Dewi Lestari Rahayu"
    uptd = AgencyFactory(services=[ServiceType.PENGADUAN])
    rsud = AgencyFactory(services=[ServiceType.REHABILITASI_KESEHATAN])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, uptd)])
    nurse = UserFactory(roles=[(Role.PETUGAS_LAYANAN, rsud)])
    case = create_case(
        uptd,
        actor=manager,
        case_manager=manager,
        victims=[VictimData(sex="P", name=secret, age=30, violence_types=["fisik"])],
    )
    victim = case.victims[0]
    add_consent(
        victim,
        ConsentData(
            purpose=f"rujukan:{rsud.code}", decision="setuju", given_by="korban", at=utcnow()
        ),
        actor=manager,
    )
    track = create_track(case, victim, "rehabilitasi_kesehatan", provider=rsud, actor=manager)
    db.session.flush()
    referral = save_referral(
        track.id,
        to_agency=rsud,
        sharing=Sharing(identity=True),
        message=f"{secret} perlu visum",
        actor=manager,
        send=True,
        expected_version=track.version,
    )
    accept_referral(referral.id, actor=nurse, expected_version=referral.version)
    start_referral(referral.id, actor=nurse, expected_version=referral.version)
    add_progress_note(referral.id, f"{secret} sudah diperiksa", actor=nurse)
    complete_referral(
        referral.id,
        f"{secret}: luka memar, visum selesai",
        actor=nurse,
        expected_version=referral.version,
    )
    db.session.commit()

    raw_texts = [
        _raw("referrals", "message", referral.id),
        _raw("referrals", "outcome", referral.id),
    ]
    raw_texts += [
        _raw("referral_events", "text", event_id)
        for event_id in db.session.scalars(
            sa.select(ReferralEvent.id).where(
                ReferralEvent.referral_id == referral.id, ReferralEvent.text.is_not(None)
            )
        )
    ]
    transitions = db.session.scalars(
        sa.select(CaseTransition.id).where(CaseTransition.case_id == case.id)
    ).all()
    raw_texts += [_raw("case_transitions", "data", t) for t in transitions]
    current = parse_keys(current_app.config["DATA_ENCRYPTION_KEYS"]).current_id
    assert len(raw_texts) >= 4 + len(transitions)
    for value in raw_texts:
        assert value is not None and value.startswith(f"enc1:{current}:"), value
        assert "Dewi" not in value and "visum" not in value

    db.session.expire_all()
    again = db.session.get(Referral, referral.id)
    assert again.message == f"{secret} perlu visum"
    assert again.outcome == f"{secret}: luka memar, visum selesai"
    outcomes = [
        t.data.get("outcome")
        for t in db.session.scalars(
            sa.select(CaseTransition).where(CaseTransition.track_id == track.id)
        )
    ]
    assert f"{secret}: luka memar, visum selesai" in outcomes


def test_an_encrypted_date_round_trips_and_reads_legacy_dates():
    from app.core.encryption import EncryptedDate

    column = EncryptedDate("victims.birth_date")
    dialect = db.engine.dialect
    stored = column.process_bind_param(dt.date(2008, 12, 2), dialect)
    assert stored is not None and stored.startswith("enc1:") and "2008" not in stored
    assert column.process_result_value(stored, dialect) == dt.date(2008, 12, 2)
    # a row written before the column was encrypted holds the ISO text of the date
    assert column.process_result_value("2008-12-02", dialect) == dt.date(2008, 12, 2)
    assert column.process_bind_param(None, dialect) is None
    assert column.process_result_value(None, dialect) is None
    for wrong in ("2008-12-02", dt.datetime(2008, 12, 2, tzinfo=dt.UTC)):
        with pytest.raises(EncryptionError):
            column.process_bind_param(wrong, dialect)
    with pytest.raises(DecryptionError):
        EncryptedDate("victims.name").process_result_value(stored, dialect)


def test_an_encrypted_json_document_round_trips_and_reads_legacy_json():
    from app.core.encryption import EncryptedJSON

    column = EncryptedJSON("case_transitions.data")
    dialect = db.engine.dialect
    document = {"outcome": "Ñoño 🌸", "approvals": ["supervisor"], "n": 3}
    stored = column.process_bind_param(document, dialect)
    assert stored is not None and stored.startswith("enc1:") and "Ñoño" not in stored
    assert column.process_result_value(stored, dialect) == document
    # a row written before the column was encrypted holds its JSON text
    assert column.process_result_value('{"approvals": ["x"]}', dialect) == {"approvals": ["x"]}
    assert column.process_bind_param(None, dialect) is None
    assert column.process_result_value(None, dialect) is None
    # bound to its own column like every encrypted value
    with pytest.raises(DecryptionError):
        EncryptedJSON("referral_events.data").process_result_value(stored, dialect)


def test_after_a_rotation_the_search_and_the_case_page_work(
    app, client, monkeypatch, create_agency, create_case
):
    """Rotating the data keys re-encrypts the names; the name keys (blind-index keys) stay as
    they were, so a search by one word, or by another spelling, still finds the case, and its
    page opens."""
    from app.core.enums import Role
    from tests.factories import UserFactory
    from tests.fixtures import login_as

    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_A)
    agency = create_agency()
    case = create_case(agency)  # its victim: Siti Aminah
    supervisor = UserFactory(roles=[(Role.SUPERVISOR, agency)])
    db.session.commit()
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    assert rotate_keys().values_reencrypted >= 1
    monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEYS", KEY_B)  # the old key is gone
    db.session.expire_all()
    login_as(client, supervisor)
    for term in ("aminah", "Sity Aminnah", "Siti Aminah"):
        page = client.post("/kasus/cari", data={"q": term})
        assert page.status_code == 200
        assert case.reference in page.get_data(as_text=True), term
    assert client.get(f"/kasus/{case.id}").status_code == 200
