"""Office documents are zip archives (issue #14, items 17 and 18): a zip bomb is refused from the
archive's table of contents before anything is unpacked, members are only ever read through a
bounded read, and what a document does (macros, scripts, embedded objects, content loaded from
outside) is read from its content types, relationships and bytes, not from part names."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import pytest
from sqlalchemy import select

from app.cases import operations as ops
from app.cases.files import (
    DOCX,
    ODT,
    XLSX,
    ZIP_MAX_MEMBER_SIZE,
    ZIP_MAX_MEMBERS,
    ZIP_MAX_TOTAL_SIZE,
    Refusal,
    UploadRefused,
    _check_table_of_contents,
    check_content,
)
from app.cases.models import Attachment
from app.core.errors import DomainError
from app.extensions import db
from tests.factories.cases import create_case
from tests.factories.files import (
    OFFICE_REL,
    docx_bytes,
    docx_parts,
    odf_manifest,
    odt_bytes,
    odt_content,
    odt_parts,
    xlsx_bytes,
    zip_bytes,
)
from tests.fixtures import login_as

MiB = 1024 * 1024
MS_REL = "http://schemas.microsoft.com/office/2006/relationships"
TOO_LARGE_ID = "Berkas ditolak: isi arsipnya terlalu besar"
ACTIVE_ID = "Berkas ditolak: dokumen ini berisi makro"
EXTERNAL_ID = "Berkas ditolak: dokumen ini mengambil isi dari luar"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504  # a compound file's first sector


def _zeros_member(archive: zipfile.ZipFile, name: str, size: int, prefix: bytes = b"") -> None:
    """A member of ``size`` bytes (mostly zeros) written through zipfile in 1 MiB pieces: the
    test never holds the unpacked bytes in memory."""
    zeros = bytes(MiB)
    with archive.open(name, "w") as member:
        member.write(prefix)
        left = size - len(prefix)
        while left > 0:
            member.write(zeros[: min(MiB, left)])
            left -= MiB


@pytest.fixture(scope="module")
def odt_bomb() -> bytes:
    """A real ODT whose ``mimetype`` member unpacks to 1 GiB (of zeros after the ODF type)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _zeros_member(archive, "mimetype", 1024 * MiB, prefix=ODT.encode())
        archive.writestr("META-INF/manifest.xml", odf_manifest())
        archive.writestr("content.xml", odt_content())
    return out.getvalue()


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


def nothing_stored(uploads) -> bool:
    files = list(uploads.iterdir()) if uploads.exists() else []
    return files == [] and db.session.scalar(select(Attachment)) is None


def refusal(content: bytes) -> Refusal:
    with pytest.raises(UploadRefused) as refused:
        check_content(content)
    return refused.value.refusal


# --- item 17: zip bombs ---------------------------------------------------------------------


def test_the_zip_bomb_is_a_real_one(odt_bomb):
    assert len(odt_bomb) < 2 * MiB  # about 1 MB on the wire
    with zipfile.ZipFile(io.BytesIO(odt_bomb)) as archive:
        assert archive.getinfo("mimetype").file_size == 1024 * MiB


def test_a_zip_bomb_is_refused_in_indonesian_with_memory_bounded_and_nothing_stored(
    client, manager, case, uploads, odt_bomb
):
    login_as(client, manager)  # the default language: Bahasa Indonesia
    tracemalloc.start()
    try:
        response = upload(client, case, odt_bomb, "laporan.odt")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 422
    assert TOO_LARGE_ID in response.get_data(as_text=True)
    assert peak < 64 * MiB, f"peak {peak // MiB} MiB while checking a 1 MB upload"
    assert nothing_stored(uploads)


def test_a_member_lying_about_its_size_is_never_read_past_it(odt_bomb):
    """The central directory says the 1 GiB member is 39 bytes: reading stops there anyway."""
    lying = bytearray(odt_bomb)
    at = lying.rfind(b"PK\x05\x06")
    directory = struct.unpack("<L", lying[at + 16 : at + 20])[0]
    assert lying[directory : directory + 4] == b"PK\x01\x02"
    lying[directory + 24 : directory + 28] = struct.pack("<L", len(ODT))  # uncompressed size
    lying[30 - 8 : 30 - 4] = struct.pack("<L", len(ODT))  # and in the local header
    tracemalloc.start()
    try:
        kind = refusal(bytes(lying))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kind in (Refusal.UNKNOWN, Refusal.TOO_LARGE)
    assert peak < 64 * MiB


def test_a_member_packed_too_tightly_is_refused_before_it_is_read():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in docx_parts().items():
            archive.writestr(name, data)
        _zeros_member(archive, "word/media/image1.png", 40 * MiB)  # 40 MiB in ~40 kB
    assert refusal(out.getvalue()) == Refusal.TOO_LARGE


def test_too_many_members_are_refused():
    parts = docx_parts()
    parts.update({f"word/media/p{i}.xml": "" for i in range(ZIP_MAX_MEMBERS + 1)})
    assert refusal(zip_bytes(parts)) == Refusal.TOO_LARGE


def _info(name: str, size: int, packed: int, flags: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.file_size, info.compress_size, info.flag_bits = size, packed, flags
    return info


@pytest.mark.parametrize(
    ("infos", "expected"),
    [
        ([_info("a", ZIP_MAX_MEMBER_SIZE + 1, ZIP_MAX_MEMBER_SIZE)], Refusal.TOO_LARGE),
        (
            [_info(f"m{i}", ZIP_MAX_MEMBER_SIZE, ZIP_MAX_MEMBER_SIZE // 10) for i in range(3)],
            Refusal.TOO_LARGE,  # each member within its limit, not all together
        ),
        ([_info("a", 10 * MiB, 10 * MiB // 500)], Refusal.TOO_LARGE),  # ratio 500
        ([_info("a", 10 * MiB, 0)], Refusal.TOO_LARGE),
        ([_info("a", 10, 10, flags=0x1)], Refusal.UNKNOWN),  # encrypted: cannot be checked
        ([_info("Word/a.xml", 1, 1), _info("word/A.xml", 1, 1)], Refusal.UNKNOWN),
    ],
)
def test_the_table_of_contents_limits(infos, expected):
    with pytest.raises(UploadRefused) as refused:
        _check_table_of_contents(infos)
    assert refused.value.refusal == expected


def test_the_table_of_contents_limits_let_real_documents_through():
    _check_table_of_contents(
        [_info("word/document.xml", 30 * MiB, 3 * MiB), _info("a.png", 5 * MiB, 5 * MiB)]
    )
    assert ZIP_MAX_TOTAL_SIZE >= 2 * ZIP_MAX_MEMBER_SIZE


def test_an_xml_entity_bomb_in_a_part_is_refused():
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        ']><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">&c;'
        "</Types>"
    )
    parts = docx_parts()
    parts["[Content_Types].xml"] = laughs
    assert refusal(zip_bytes(parts)) == Refusal.UNKNOWN


# --- item 18: what the document does, read from its structure -----------------------------------


def test_real_office_documents_are_accepted():
    assert check_content(docx_bytes()) == DOCX
    assert check_content(xlsx_bytes()) == XLSX
    assert check_content(odt_bytes()) == ODT
    # a link the reader clicks may point outside
    linked = docx_bytes(
        document_rels=((f"{OFFICE_REL}/hyperlink", "https://example.org/", "External"),)
    )
    assert check_content(linked) == DOCX


def test_a_zip_that_only_looks_like_a_document_is_refused():
    fake = zip_bytes({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
    assert refusal(fake) == Refusal.UNKNOWN


VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"
ACTIVEX_CONTENT_TYPE = "application/vnd.ms-office.activeX+xml"


@pytest.mark.parametrize(
    "parts",
    [
        # a VBA project renamed, declared as nothing special: found by its bytes
        {**docx_parts(), "word/media/kitten.bin": OLE},
        # a macro-enabled main part (.docm renamed .docx), no VBA part name anywhere
        docx_parts(main_type="application/vnd.ms-word.document.macroEnabled.main+xml"),
        # a VBA project under an innocent name, declared by its content type
        {
            **docx_parts(overrides={"/word/data.xml": VBA_CONTENT_TYPE}),
            "word/data.xml": "<x/>",
        },
        # ... or by a default for an extension
        {**docx_parts(defaults={"dat": VBA_CONTENT_TYPE}), "word/styles2.dat": "x"},
        # ... or attached by a relationship of the VBA type
        {
            **docx_parts(document_rels=((f"{MS_REL}/vbaProject", "data.xml", None),)),
            "word/data.xml": "<x/>",
        },
        # ActiveX controls and OLE objects
        docx_parts(
            overrides={"/word/activeX/activeX1.xml": "application/vnd.ms-office.activeX+xml"}
        ),
        docx_parts(document_rels=((f"{OFFICE_REL}/oleObject", "embeddings/o.bin", None),)),
        docx_parts(document_rels=((f"{OFFICE_REL}/control", "activeX/a.xml", None),)),
        # an Excel 4.0 macro sheet
        docx_parts(document_rels=((f"{MS_REL}/xlMacrosheet", "macrosheets/s.xml", None),)),
        # a macro-enabled workbook embedded (as a chart's data) in a document
        {
            **docx_parts(),
            "word/embeddings/Book1.xlsx": zip_bytes(
                docx_parts(main_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            ),
        },
    ],
)
def test_macros_activex_and_ole_objects_are_refused_whatever_their_part_names(parts):
    assert refusal(zip_bytes(parts)) == Refusal.ACTIVE


def test_an_embedded_clean_package_is_checked_and_accepted():
    chart_data = {**docx_parts(), "word/embeddings/Book1.xlsx": xlsx_bytes()}
    assert check_content(zip_bytes(chart_data)) == DOCX


@pytest.mark.parametrize(
    "relationship",
    [
        (f"{OFFICE_REL}/attachedTemplate", "http://203.0.113.9/t.dotm", "External"),
        (f"{OFFICE_REL}/attachedTemplate", "\\\\203.0.113.9\\share\\t.dotm", "External"),
        (f"{OFFICE_REL}/attachedTemplate", "file://203.0.113.9/share/t.dotm", "External"),
        (f"{OFFICE_REL}/frame", "http://203.0.113.9/frame.html", "External"),
        (f"{OFFICE_REL}/subDocument", "file:///C:/x.docx", "External"),
        (f"{OFFICE_REL}/image", "http://203.0.113.9/pixel.png", "external"),
    ],
)
def test_content_loaded_from_outside_is_refused(relationship):
    assert refusal(docx_bytes(document_rels=(relationship,))) == Refusal.EXTERNAL


@pytest.mark.parametrize(
    "target",
    [
        "file:///C:\\Users\\Staf\\Documents\\Kop Surat.dotx",
        "file:///D:/Templat/kop.dotx",
        "C:\\kop.dotx",
    ],
)
def test_a_letterhead_template_on_the_authors_own_drive_is_accepted(target):
    """Word records the custom template a letter was written on as an External attachedTemplate
    with a local path: nothing is loaded from the network, so the letter is accepted."""
    rel = (f"{OFFICE_REL}/attachedTemplate", target, "External")
    assert check_content(docx_bytes(document_rels=(rel,))) == DOCX


def test_an_external_ole_object_is_refused():
    rel = (f"{OFFICE_REL}/oleObject", "http://203.0.113.9/x.sct", "External")
    assert refusal(docx_bytes(document_rels=(rel,))) in (Refusal.ACTIVE, Refusal.EXTERNAL)


SCRIPT_LISTENER = (
    '<office:event-listeners><script:event-listener script:language="ooo:script" '
    'script:event-name="dom:load" xlink:href="vnd.sun.star.script:Standard.M.Main"/>'
    "</office:event-listeners>"
)


@pytest.mark.parametrize(
    "change",
    [
        {"Basic/Standard/Module1.xml": "<script:module/>"},
        {"Scripts/python/run.py": "import os"},
        {
            "META-INF/manifest.xml": odf_manifest(
                extra=(("Scripts/beanshell/x.bsh", "application/binary"),)
            )
        },
        {"META-INF/manifest.xml": odf_manifest(extra=(("x.js", "text/javascript-script"),))},
        {"content.xml": odt_content(f"<text:p>{SCRIPT_LISTENER}</text:p>")},
        {"content.xml": odt_content("<office:scripts><office:script/></office:scripts>")},
        {
            "content.xml": odt_content(
                '<text:p><text:a xlink:href="vnd.sun.star.script:Standard.M.Main?'
                'language=Basic&amp;location=document">klik</text:a></text:p>'
            )
        },
        {"Object 1": OLE},  # an OLE object, found by its bytes
    ],
)
def test_odf_basic_scripts_event_listeners_and_ole_objects_are_refused(change):
    assert refusal(zip_bytes({**odt_parts(), **change})) == Refusal.ACTIVE


def test_odf_content_linked_from_outside_is_refused_and_hyperlinks_are_not():
    linked = odt_content('<draw:image xlink:href="http://203.0.113.9/pixel.png"/>')
    assert refusal(zip_bytes({**odt_parts(), "content.xml": linked})) == Refusal.EXTERNAL
    for link in (
        '<text:p><text:a xlink:href="https://example.org/">x</text:a></text:p>',
        '<draw:a xlink:href="https://example.org/"><draw:frame/></draw:a>',
    ):
        content = odt_content(link)
        assert check_content(zip_bytes({**odt_parts(), "content.xml": content})) == ODT


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (zip_bytes({**docx_parts(), "word/vbaProject.bin": OLE}), ACTIVE_ID),
        (
            docx_bytes(
                document_rels=(
                    (f"{OFFICE_REL}/attachedTemplate", "http://203.0.113.9/t.dotm", "External"),
                )
            ),
            EXTERNAL_ID,
        ),
    ],
)
def test_refusals_are_explained_in_indonesian_and_store_nothing(
    client, manager, case, uploads, content, expected
):
    login_as(client, manager)
    response = upload(client, case, content, "laporan.docx")
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)
    assert nothing_stored(uploads)


def test_the_operation_refuses_with_the_reason_on_the_file_field(case, manager):
    with pytest.raises(DomainError) as refused:
        ops.add_attachment(case, "x.docx", zip_bytes({**docx_parts(), "a.bin": OLE}), actor=manager)
    assert refused.value.field == "file"
