"""Attachment files (issue #14, items 18 and 23): a download is named and typed after what the
content was recognised as, never after the uploader's extension; the file on disk is encrypted
with a data key of its own (wrapped under DATA_ENCRYPTION_KEYS in ``attachments.data_key``),
checked whole before it is served; files stored before encryption keep working until
``flask attachments encrypt-existing`` has sealed them."""

from __future__ import annotations

import hashlib
import io
import os
import secrets

import pytest
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases import operations as ops
from app.cases import storage
from app.cases.models import Attachment
from app.core.encryption import parse_keys
from app.core.sealed_files import CHUNK_SIZE, MAGIC
from app.extensions import db
from tests.factories.cases import create_case
from tests.factories.files import docx_bytes, png_bytes
from tests.fixtures import login_as

SECRET_TEXT = b"Keterangan visum: Wulan Sekarsari, luka memar di lengan kiri."
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n(" + SECRET_TEXT + b")\ntrailer\n%%EOF\n"
# larger than several chunks, not a multiple of the chunk size
BIG_PDF = b"%PDF-1.7\n" + secrets.token_bytes(3 * CHUNK_SIZE + 123) + b"\n%%EOF\n"


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


@pytest.fixture
def case(agency, manager):
    return create_case(agency, actor=manager, case_manager=manager)


def upload(client, case, content, filename):
    return client.post(
        f"/kasus/{case.id}/lampiran",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def download(client, case, attachment):
    return client.get(f"/kasus/{case.id}/lampiran/{attachment.id}")


def raw_data_key(attachment_id):
    table = Attachment.__table__
    return db.session.scalar(
        sa.select(sa.type_coerce(table.c.data_key, sa.Text)).where(table.c.id == attachment_id)
    )


# --- item 18: downloads named after the recognised type ---------------------------------------


@pytest.mark.parametrize(
    ("content", "filename", "expected_name", "mimetype"),
    [
        (PDF, "visum.hta", "visum.pdf", "application/pdf"),
        (
            docx_bytes(),
            "laporan.html",
            "laporan.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (png_bytes(), "foto.svg", "foto.png", "image/png"),
        (PDF, "surat.pdf", "surat.pdf", "application/pdf"),
        (PDF, "tanpa-ekstensi", "tanpa-ekstensi.pdf", "application/pdf"),
    ],
)
def test_a_download_keeps_the_name_but_takes_the_extension_of_the_recognised_type(
    client, manager, case, content, filename, expected_name, mimetype
):
    login_as(client, manager)
    assert upload(client, case, content, filename).status_code == 302
    attachment = db.session.scalar(select(Attachment))
    assert attachment.original_name == filename  # what the counselor uploaded, as a record
    response = download(client, case, attachment)
    assert response.status_code == 200
    assert response.data == content
    assert response.mimetype == mimetype
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename={expected_name}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.content_length == len(content)


def test_a_name_outside_ascii_is_kept_in_the_utf8_form(client, manager, case):
    login_as(client, manager)
    upload(client, case, PDF, "hasil visum Ñoña.hta")
    response = download(client, case, db.session.scalar(select(Attachment)))
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "filename*=UTF-8''hasil%20visum%20%C3%91o%C3%B1a.pdf" in disposition
    assert ".hta" not in disposition


def test_a_shared_attachment_is_named_the_same_way_for_the_receiving_agency(case, manager):
    attachment = ops.add_attachment(case, "rujukan.exe", PDF, actor=manager)
    assert attachment.download_name == "rujukan.pdf"


# --- item 23: encrypted on disk ----------------------------------------------------------------


def test_the_file_on_disk_is_encrypted_and_its_data_key_wrapped_with_the_current_key(
    client, manager, case, uploads
):
    login_as(client, manager)
    assert upload(client, case, PDF, "visum.pdf").status_code == 302
    attachment = db.session.scalar(select(Attachment))
    on_disk = (uploads / attachment.stored_name).read_bytes()
    assert on_disk.startswith(MAGIC)
    assert b"%PDF" not in on_disk and b"Wulan" not in on_disk and SECRET_TEXT not in on_disk
    assert oct(os.stat(uploads / attachment.stored_name).st_mode & 0o777) == "0o600"
    current = parse_keys(current_app.config["DATA_ENCRYPTION_KEYS"]).current_id
    wrapped = raw_data_key(attachment.id)
    assert wrapped.startswith(f"enc1:{current}:")
    assert attachment.data_key not in wrapped  # the data key itself is never stored in clear
    # the recorded size and hash are those of the plaintext, which is what is downloaded
    assert attachment.size == len(PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert download(client, case, attachment).data == PDF


def test_a_file_of_several_chunks_round_trips_and_two_uploads_differ(case, manager, uploads):
    first = ops.add_attachment(case, "a.pdf", BIG_PDF, actor=manager)
    second = ops.add_attachment(case, "b.pdf", BIG_PDF, actor=manager)
    assert storage.read_file(uploads, first) == BIG_PDF
    assert storage.read_file(uploads, second) == BIG_PDF
    assert first.data_key != second.data_key
    one = (uploads / first.stored_name).read_bytes()
    two = (uploads / second.stored_name).read_bytes()
    assert one != two and len(one) > len(BIG_PDF)


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: _flip(p, len(p.read_bytes()) // 2),  # a changed byte in the middle
        lambda p: _flip(p, 10),  # the header (chunk size)
        lambda p: p.write_bytes(p.read_bytes()[: -(CHUNK_SIZE // 2)]),  # cut short
        lambda p: p.write_bytes(p.read_bytes()[: 19 + CHUNK_SIZE + 16]),  # cut at a chunk edge
        lambda p: p.write_bytes(p.read_bytes() + b"more"),
    ],
)
def test_a_damaged_file_is_refused_whole_and_no_download_is_recorded(
    client, manager, case, uploads, damage
):
    attachment = ops.add_attachment(case, "visum.pdf", BIG_PDF, actor=manager)
    db.session.commit()
    damage(uploads / attachment.stored_name)
    login_as(client, manager)
    response = download(client, case, attachment)
    assert response.status_code == 500
    assert b"%PDF" not in response.data
    downloads = select(AuditEntry).where(AuditEntry.action == "case.attachment_download")
    assert db.session.scalar(downloads) is None


def test_a_file_moved_under_another_attachment_s_name_does_not_decrypt(
    client, manager, case, uploads
):
    mine = ops.add_attachment(case, "a.pdf", PDF, actor=manager)
    other = ops.add_attachment(case, "b.pdf", PDF, actor=manager)
    db.session.commit()
    (uploads / other.stored_name).write_bytes((uploads / mine.stored_name).read_bytes())
    table = Attachment.__table__
    db.session.execute(  # even with the other file's key
        sa.update(table)
        .where(table.c.id == other.id)
        .values(data_key=sa.type_coerce(raw_data_key(mine.id), sa.Text))
    )
    db.session.commit()
    db.session.expire_all()
    login_as(client, manager)
    assert download(client, case, db.session.get(Attachment, other.id)).status_code == 500


# --- files stored before encryption ------------------------------------------------------------


def legacy_attachment(case, actor, uploads, content, name="lama.pdf"):
    """An attachment as the application stored it before encryption: a plaintext file and no
    data key."""
    uploads.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(24)
    (uploads / stored_name).write_bytes(content)
    attachment = Attachment(
        case_id=case.id,
        uploaded_by_id=actor.id,
        original_name=name,
        stored_name=stored_name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    db.session.add(attachment)
    db.session.commit()
    return attachment


def test_a_plaintext_file_from_before_is_served_only_while_it_is_the_recorded_bytes(
    client, manager, case, uploads
):
    old = legacy_attachment(case, manager, uploads, PDF)
    login_as(client, manager)
    response = download(client, case, old)
    assert response.status_code == 200 and response.data == PDF
    (uploads / old.stored_name).write_bytes(PDF.replace(b"Wulan", b"Sari!"))  # swapped
    assert download(client, case, old).status_code == 500


def _encrypt_existing(app):
    return app.test_cli_runner().invoke(args=["attachments", "encrypt-existing"])


def test_encrypt_existing_seals_the_old_files_once_and_they_still_download(
    app, client, manager, case, uploads
):
    old = [legacy_attachment(case, manager, uploads, c) for c in (PDF, BIG_PDF)]
    new = ops.add_attachment(case, "baru.pdf", PDF, actor=manager)
    db.session.commit()
    result = _encrypt_existing(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("2 encrypted, 1 already encrypted, 0 missing, 0 damaged")
    db.session.expire_all()
    for attachment, content in zip(old, (PDF, BIG_PDF), strict=True):
        attachment = db.session.get(Attachment, attachment.id)
        assert (uploads / attachment.stored_name).read_bytes().startswith(MAGIC)
        assert raw_data_key(attachment.id).startswith("enc1:")
        login_as(client, manager)
        assert download(client, case, attachment).data == content
    assert not list(uploads.glob("*.sealing"))
    again = _encrypt_existing(app)
    assert again.exit_code == 0
    assert again.output.strip().endswith("0 encrypted, 3 already encrypted, 0 missing, 0 damaged")
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "attachments.encrypt_existing")
        .order_by(AuditEntry.id)
    ).first()
    assert entry.changes["sealed"] == 2
    assert new.id not in entry.changes["damaged"]


def test_encrypt_existing_reports_missing_and_damaged_files_and_leaves_them_alone(
    app, manager, case, uploads
):
    gone = legacy_attachment(case, manager, uploads, PDF, "hilang.pdf")
    (uploads / gone.stored_name).unlink()
    changed = legacy_attachment(case, manager, uploads, PDF, "berubah.pdf")
    (uploads / changed.stored_name).write_bytes(b"%PDF-1.7 something else")
    result = _encrypt_existing(app)
    assert result.exit_code == 1
    assert f"attachment {gone.id}: file missing" in result.output
    assert f"attachment {changed.id}: file is not the recorded bytes" in result.output
    assert (uploads / changed.stored_name).read_bytes() == b"%PDF-1.7 something else"
    assert raw_data_key(changed.id) is None
    assert "hilang" not in result.output and "berubah" not in result.output


def test_encrypt_existing_finishes_a_run_interrupted_after_its_commit(
    app, client, manager, case, uploads
):
    """The row got its key, the process died before the sealed copy replaced the plaintext:
    the plaintext still serves, and the next run puts the sealed copy in place."""
    old = legacy_attachment(case, manager, uploads, BIG_PDF)
    path = uploads / old.stored_name
    key = storage.new_data_key()
    temp, _, _ = storage._seal_beside(path, key, old.stored_name)
    old.data_key = storage.encode_key(key)
    db.session.commit()
    login_as(client, manager)
    assert download(client, case, old).data == BIG_PDF  # meanwhile: still served
    result = _encrypt_existing(app)
    assert result.exit_code == 0, result.output
    assert "1 encrypted" in result.output
    assert not temp.exists() and path.read_bytes().startswith(MAGIC)
    db.session.expire_all()
    assert download(client, case, db.session.get(Attachment, old.id)).data == BIG_PDF
