"""Real file contents for upload tests: photos are decoded and stored re-encoded without their
metadata, so a test picture must be a picture (a PNG that Pillow wrote comes back byte for
byte)."""

from __future__ import annotations

import io


def png_bytes(size: int = 8) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


# --- office documents: real minimal packages, built part by part so a test can add one --------

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
DOCUMENT_XML = (
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Surat keterangan</w:t></w:r></w:p></w:body></w:document>"
)
WORKBOOK_XML = (
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets/>'
    "</workbook>"
)


def rels_xml(*relationships: tuple[str, str, str | None]) -> str:
    """A .rels part; each relationship is (type, target, target mode or None)."""
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{kind}" Target="{target}"'
        + (f' TargetMode="{mode}"' if mode else "")
        + "/>"
        for i, (kind, target, mode) in enumerate(relationships, start=1)
    )
    return f'<Relationships xmlns="{REL_NS}">{items}</Relationships>'


def content_types_xml(overrides: dict[str, str], defaults: dict[str, str] | None = None) -> str:
    defaults = {
        "rels": "application/vnd.openxmlformats-package.relationships+xml",
        "xml": "application/xml",
        **(defaults or {}),
    }
    body = "".join(f'<Default Extension="{e}" ContentType="{t}"/>' for e, t in defaults.items())
    body += "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides.items())
    return f'<Types xmlns="{CT_NS}">{body}</Types>'


def zip_bytes(parts: dict[str, bytes | str]) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            # a fixed date, not the time of writing: the same parts give the same bytes, so a
            # test parametrized with them has the same id in every pytest-xdist worker
            member = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, data)
    return out.getvalue()


def docx_parts(
    *,
    main_type: str = WORD_MAIN,
    overrides: dict[str, str] | None = None,
    defaults: dict[str, str] | None = None,
    document_rels: tuple[tuple[str, str, str | None], ...] = (),
) -> dict[str, bytes | str]:
    """The parts of a Word document: content types, package relationships, the main part (with
    its own relationships when given)."""
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": content_types_xml(
            {"/word/document.xml": main_type, **(overrides or {})}, defaults
        ),
        "_rels/.rels": rels_xml((f"{OFFICE_REL}/officeDocument", "word/document.xml", None)),
        "word/document.xml": DOCUMENT_XML,
        "docProps/core.xml": "<cp:coreProperties xmlns:cp='urn:x'>Petugas</cp:coreProperties>",
    }
    if document_rels:
        parts["word/_rels/document.xml.rels"] = rels_xml(*document_rels)
    return parts


def docx_bytes(**kwargs: object) -> bytes:
    return zip_bytes(docx_parts(**kwargs))  # type: ignore[arg-type]


def xlsx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": content_types_xml({"/xl/workbook.xml": EXCEL_MAIN}),
            "_rels/.rels": rels_xml((f"{OFFICE_REL}/officeDocument", "xl/workbook.xml", None)),
            "xl/workbook.xml": WORKBOOK_XML,
        }
    )


ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
ODF_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
ODT = "application/vnd.oasis.opendocument.text"


def odf_manifest(mimetype: str = ODT, extra: tuple[tuple[str, str], ...] = ()) -> str:
    entries = [("/", mimetype), ("content.xml", "text/xml"), *extra]
    body = "".join(
        f'<manifest:file-entry manifest:full-path="{p}" manifest:media-type="{t}"/>'
        for p, t in entries
    )
    return f'<manifest:manifest xmlns:manifest="{ODF_MANIFEST}">{body}</manifest:manifest>'


def odt_content(body: str = "<text:p>Surat keterangan</text:p>") -> str:
    return (
        f'<office:document-content xmlns:office="{ODF_OFFICE}" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:xlink="http://www.w3.org/1999/xlink">'
        f"<office:scripts/><office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    )


def odt_parts(mimetype: str = ODT) -> dict[str, bytes | str]:
    return {
        "mimetype": mimetype,
        "META-INF/manifest.xml": odf_manifest(mimetype),
        "content.xml": odt_content(),
    }


def odt_bytes() -> bytes:
    return zip_bytes(odt_parts())
