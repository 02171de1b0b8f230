"""Attachments: checked by content (never by name), size-limited, stored outside the web root
under random names, served only through the case's permission check, every download recorded."""

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases import operations as ops
from app.cases.models import Attachment
from app.core.enums import Role
from app.extensions import db
from tests.factories import UserFactory
from tests.factories.cases import create_case
from tests.factories.files import png_bytes
from tests.fixtures import login_as

PNG = png_bytes()
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120
TEXT = b"Ini hanya teks biasa, bukan PDF.\n"


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


@pytest.fixture
def manager(agency):
    return UserFactory(name="Dewi Manajer", roles=[(Role.MANAJER_KASUS, agency)])


@pytest.fixture
def case(agency, manager):
    return create_case(agency, actor=manager, case_manager=manager)


@pytest.fixture
def signed_in(client, manager):
    login_as(client, manager)
    client.post("/bahasa", data={"locale": "en"})
    return client


def upload(client, case, content, filename, description=""):
    return client.post(
        f"/kasus/{case.id}/lampiran",
        data={"file": (io.BytesIO(content), filename), "description": description},
        content_type="multipart/form-data",
    )


def stored_files(uploads):
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


@pytest.mark.parametrize(
    ("content", "filename", "mimetype"),
    [(PNG, "foto luka.png", "image/png"), (PDF, "surat visum.pdf", "application/pdf")],
)
def test_a_real_file_is_accepted_and_downloadable(
    app, signed_in, case, uploads, content, filename, mimetype
):
    response = upload(signed_in, case, content, filename, "Bukti dari korban")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/kasus/{case.id}#lampiran")
    attachment = db.session.scalar(select(Attachment).where(Attachment.case_id == case.id))
    assert attachment.original_name == filename
    assert attachment.content_type == mimetype
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.description == "Bukti dari korban"
    # stored under a random name, in the upload directory, outside the web root
    assert stored_files(uploads) == [attachment.stored_name]
    assert filename not in attachment.stored_name and len(attachment.stored_name) >= 32
    static = Path(app.static_folder).resolve()
    assert static not in (uploads / attachment.stored_name).resolve().parents

    page = signed_in.get(f"/kasus/{case.id}").get_data(as_text=True)
    url = f"/kasus/{case.id}/lampiran/{attachment.id}"
    assert url in page and filename in page

    download = signed_in.get(url)
    assert download.status_code == 200
    assert download.data == content
    assert download.mimetype == mimetype
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "sandbox"
    assert "no-store" in download.headers["Cache-Control"]
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "case.attachment_download")
    )
    assert entry.actor_id is not None and entry.changes["attachment"] == attachment.id


def test_upload_is_audited(signed_in, case, manager):
    upload(signed_in, case, PNG, "foto.png")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.attachment"))
    assert entry.actor_id == manager.id and entry.object_id == str(case.id)


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (HTML, "foto.jpg"),  # a web page dressed as a photo
        (EXE, "foto.jpg"),  # a program dressed as a photo
        (TEXT, "x.pdf"),  # a text file dressed as a PDF
        (b"PK\x03\x04not really a zip", "laporan.docx"),
    ],
)
def test_a_spoofed_file_is_refused_and_nothing_is_stored(
    signed_in, case, uploads, content, filename
):
    response = upload(signed_in, case, content, filename)
    assert response.status_code == 422
    assert "This kind of file is not accepted" in response.get_data(as_text=True)
    assert db.session.scalar(select(Attachment).where(Attachment.case_id == case.id)) is None
    assert stored_files(uploads) == []


def test_refusal_is_in_indonesian_by_default(client, manager, case, uploads):
    login_as(client, manager)
    html = upload(client, case, HTML, "foto.jpg").get_data(as_text=True)
    assert 'lang="id"' in html and "is-invalid" in html
    assert stored_files(uploads) == []


def test_a_file_over_the_limit_is_refused(app, signed_in, case, uploads, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    too_big = PNG + b"\x00" * (1024 * 1024)
    response = upload(signed_in, case, too_big, "besar.png")
    assert response.status_code == 422
    assert "larger than 1 MB" in response.get_data(as_text=True)
    assert db.session.scalar(select(Attachment)) is None
    assert stored_files(uploads) == []
    # just under the limit is fine
    assert upload(signed_in, case, PNG, "kecil.png").status_code == 302


def test_an_empty_upload_is_refused(signed_in, case, uploads):
    assert upload(signed_in, case, b"", "kosong.png").status_code == 422
    assert signed_in.post(f"/kasus/{case.id}/lampiran", data={}).status_code == 422
    assert stored_files(uploads) == []


def test_the_original_name_cannot_climb_directories(signed_in, case, uploads):
    upload(signed_in, case, PNG, "../../etc/passwd.png")
    attachment = db.session.scalar(select(Attachment))
    assert "/" not in attachment.original_name and ".." not in attachment.original_name
    assert stored_files(uploads) == [attachment.stored_name]


def test_default_upload_dir_is_under_instance(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", None)
    with app.test_request_context():
        path = ops.upload_dir()
    assert path == Path(app.instance_path) / "uploads"
    assert Path(app.static_folder).resolve() not in path.resolve().parents


def test_another_case_s_attachment_through_this_case_s_address_is_not_found(
    signed_in, agency, manager, case
):
    other = create_case(agency, actor=manager, case_manager=manager)
    theirs = ops.add_attachment(other, "lain.pdf", PDF, actor=manager)
    response = signed_in.get(f"/kasus/{case.id}/lampiran/{theirs.id}")
    assert response.status_code == 404
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.attachment_download"))
        is None
    )
    assert signed_in.get(f"/kasus/{other.id}/lampiran/{theirs.id}").status_code == 200


def test_a_missing_stored_file_is_not_found(signed_in, case, manager, uploads):
    attachment = ops.add_attachment(case, "hilang.pdf", PDF, actor=manager)
    (uploads / attachment.stored_name).unlink()
    assert signed_in.get(f"/kasus/{case.id}/lampiran/{attachment.id}").status_code == 404
