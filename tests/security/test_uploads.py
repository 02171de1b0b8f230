"""Uploads hardened (issue #7, item 8): accepted by content only, photos stored without their
metadata (EXIF with the GPS position first of all), served only as downloads behind the case's
permission check."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.cases import operations as ops
from app.cases import storage
from app.cases.files import without_metadata
from app.cases.models import Attachment
from app.core.enums import Role
from app.extensions import db
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.factories.files import docx_bytes
from tests.fixtures import login_as

GPS_IFD = 0x8825
REFUSED_ID = "Jenis berkas ini tidak diterima"
PHP = b"<?php system($_GET['c']); ?>\n"
HTML = b"<!doctype html><html><script>fetch('/kasus').then(r=>r.text())</script></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.domain)</script></svg>"
)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Author (Petugas) >> endobj\ntrailer << >>\n%%EOF\n"


def gps_exif(orientation=1):
    """EXIF as a phone writes it: maker, model, time and where the photo was taken."""
    exif = Image.Exif()
    exif[0x010F] = "Samsung"
    exif[0x0110] = "SM-A515F"
    exif[0x0132] = "2025:03:14 21:05:00"
    exif[0x0112] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "S", (6.0, 12.0, 30.5)  # Jakarta
    gps[3], gps[4] = "E", (106.0, 49.0, 10.2)
    return exif


def photo(fmt, size=(40, 20), orientation=1):
    out = io.BytesIO()
    image = Image.new("RGB", size, (180, 40, 60))
    extra = {"exif": gps_exif(orientation)}
    if fmt == "JPEG":
        extra["comment"] = b"Rumah korban, Jl. Melati 5"
    if fmt in ("JPEG", "WEBP"):
        extra["xmp"] = b"<x:xmpmeta><rdf:Description Location='Jl. Melati 5'/></x:xmpmeta>"
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Location", "Jl. Melati 5")
        extra["pnginfo"] = text
    image.save(out, fmt, **extra)
    return out.getvalue()


def assert_no_metadata(content):
    assert b"Samsung" not in content and b"Melati" not in content
    assert b"Exif\x00\x00" not in content and b"eXIf" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert dict(image.getexif()) == {}
        assert image.getexif().get_ifd(GPS_IFD) == {}
        assert not {"exif", "xmp", "comment", "Location", "XML:com.adobe.xmp"} & set(image.info)


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


def upload(client, case, content, filename):
    return client.post(
        f"/kasus/{case.id}/lampiran",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def stored_files(uploads):
    return sorted(uploads.iterdir()) if uploads.exists() else []


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (PHP, "foto.jpg"),
        (PHP, "surat.pdf"),
        (HTML, "foto.jpg"),
        (HTML, "visum.pdf"),
        (SVG, "foto.jpg"),
        (SVG, "gambar.svg"),
        (SVG, "laporan.pdf"),
    ],
)
def test_scripts_and_web_pages_dressed_as_photos_or_pdfs_are_refused_in_indonesian(
    client, manager, case, uploads, content, filename
):
    login_as(client, manager)  # the default language: Bahasa Indonesia
    response = upload(client, case, content, filename)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert REFUSED_ID in html and "is-invalid" in html
    assert db.session.scalar(select(Attachment)) is None
    assert stored_files(uploads) == []


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xd8\xff\xe0" + PHP,  # JPEG magic bytes in front of a script
        b"\x89PNG\r\n\x1a\n" + HTML,
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + SVG,
    ],
)
def test_magic_bytes_in_front_of_something_else_are_refused(
    client, manager, case, uploads, content
):
    login_as(client, manager)
    client.post("/bahasa", data={"locale": "en"})
    response = upload(client, case, content, "foto.jpg")
    assert response.status_code == 422
    assert "The photo could not be read" in response.get_data(as_text=True)
    assert stored_files(uploads) == []


@pytest.mark.parametrize(
    ("fmt", "mimetype"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_a_photo_is_stored_without_exif_gps_or_other_metadata(
    client, manager, case, uploads, fmt, mimetype
):
    original = photo(fmt)
    with Image.open(io.BytesIO(original)) as check:  # the test photo really carries GPS
        assert check.getexif().get_ifd(GPS_IFD)
    login_as(client, manager)
    assert upload(client, case, original, f"luka.{fmt.lower()}").status_code == 302
    attachment = db.session.scalar(select(Attachment))
    assert [p.name for p in stored_files(uploads)] == [attachment.stored_name]
    stored = storage.read_file(uploads, attachment)  # the file on disk is encrypted
    assert stored != original
    assert_no_metadata(stored)
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == fmt and image.size == (40, 20)
        red, green, blue = image.convert("RGB").getpixel((20, 10))
        assert abs(red - 180) < 8 and abs(green - 40) < 8 and abs(blue - 60) < 8
    # what is recorded is what is kept and what is served
    assert attachment.content_type == mimetype
    assert attachment.size == len(stored)
    assert attachment.sha256 == hashlib.sha256(stored).hexdigest()
    download = client.get(f"/kasus/{case.id}/lampiran/{attachment.id}")
    assert download.status_code == 200 and download.data == stored


def test_the_photo_is_turned_upright_before_its_orientation_tag_goes(case, manager):
    rotated = photo("JPEG", size=(40, 20), orientation=6)  # "turn 90° clockwise to view"
    attachment = ops.add_attachment(case, "luka.jpg", rotated, actor=manager)
    stored = storage.read_file(ops.upload_dir(), attachment)
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (20, 40)
        assert 0x0112 not in image.getexif()


def test_a_photo_with_something_hidden_after_it_loses_the_rest():
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "JPEG")
    polyglot = out.getvalue() + HTML
    cleaned = without_metadata(polyglot, "image/jpeg")
    assert cleaned is not None and HTML not in cleaned


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_without_decoding():
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")  # 144 megapixels in a few kilobytes
    assert len(out.getvalue()) < 100_000
    assert without_metadata(out.getvalue(), "image/png") is None


@pytest.mark.parametrize(
    ("content", "filename", "mimetype"),
    [
        (PDF, "visum.pdf", "application/pdf"),
        (
            docx_bytes(),
            "laporan.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_pdfs_and_office_documents_are_stored_unchanged(
    case, manager, uploads, content, filename, mimetype
):
    attachment = ops.add_attachment(case, filename, content, actor=manager)
    assert attachment.content_type == mimetype
    assert storage.read_file(uploads, attachment) == content
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()


def test_downloads_are_attachments_that_cannot_run(client, manager, case):
    attachment = ops.add_attachment(case, "luka.jpg", photo("JPEG"), actor=manager)
    login_as(client, manager)
    response = client.get(f"/kasus/{case.id}/lampiran/{attachment.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert response.mimetype == "image/jpeg"


def test_another_agency_gets_404_and_nothing_is_recorded(client, manager, case):
    attachment = ops.add_attachment(case, "luka.jpg", photo("JPEG"), actor=manager)
    other_agency = AgencyFactory()
    # case roles of another agency: the case does not exist for them; the administrator (of
    # any agency) has no case permission at all
    for role, code in [(Role.MANAJER_KASUS, 404), (Role.SUPERVISOR, 404), (Role.ADMIN, 403)]:
        stranger = UserFactory(roles=[(role, other_agency)])
        login_as(client, stranger)
        response = client.get(f"/kasus/{case.id}/lampiran/{attachment.id}")
        assert response.status_code == code, role
        assert b"\xff\xd8\xff" not in response.data
        client.post("/keluar")
    downloads = select(AuditEntry).where(AuditEntry.action == "case.attachment_download")
    assert db.session.scalar(downloads) is None


def test_signed_out_the_download_leads_to_the_sign_in_page(client, manager, case):
    attachment = ops.add_attachment(case, "visum.pdf", PDF, actor=manager)
    response = client.get(f"/kasus/{case.id}/lampiran/{attachment.id}")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]
    assert b"%PDF" not in response.data
