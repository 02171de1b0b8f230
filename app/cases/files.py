"""Recognising an uploaded file by its content, never by its name.

PDFs and photos are recognised by their first bytes. Office documents are zip archives (OOXML:
.docx/.xlsx/.pptx; ODF: .odt/.ods) and are opened with care, because a few hundred kilobytes of
zip can unpack to gigabytes (a "zip bomb") and a document can carry programs that run when it is
opened:

1. Before any member is read, the zip's own table of contents (the end record and the central
   directory) is checked: how many members, each member's declared unpacked size, the total,
   and how tightly each member is packed (``ZIP_*`` limits below). A bomb is refused here
   without unpacking a byte.
2. Only then are members read, and only through a bounded read: in chunks, stopping as soon as
   the member's limit (or the inspection's overall budget) is passed, whatever its declared size
   said. Nothing is ever read whole on trust.
3. What the document does is read from its structure, not from part names: OOXML's
   ``[Content_Types].xml`` and every ``*.rels`` relationship (macro-enabled and VBA content
   types, VBA/ActiveX/OLE relationship types, anything loaded from outside when the document
   opens), the first bytes of every member (an OLE compound file — VBA project, OLE object,
   ActiveX binary — whatever its name; an embedded package is checked in turn, one level deep);
   ODF's manifest, ``Basic/`` and ``Scripts/``, and the script elements, event listeners and
   macro links of ``content.xml`` and ``styles.xml``. XML is parsed with ``defusedxml`` (no DTD,
   no entity expansion, no external resources).

``check_content`` returns the accepted type or raises ``UploadRefused`` with the reason.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import PurePosixPath
from typing import IO, Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeXML

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

# the content type of an OOXML package's main part → the document's type
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
ODF_TYPES = {ODT, ODS}

# The accepted types and the extension a download of each gets (never the uploader's own).
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    DOCX: ".docx",
    XLSX: ".xlsx",
    PPTX: ".pptx",
    ODT: ".odt",
    ODS: ".ods",
}

MiB = 1024 * 1024
# --- limits of a zip-based document, checked on the central directory before reading ----------
ZIP_MAX_MEMBERS = 5_000  # a long report with many pictures has a few hundred
ZIP_MAX_CENTRAL_DIRECTORY = 2 * MiB  # the table of contents itself, before it is parsed
ZIP_MAX_MEMBER_SIZE = 256 * MiB  # declared unpacked size of one member
ZIP_MAX_TOTAL_SIZE = 512 * MiB  # declared unpacked size of all members together
ZIP_MAX_RATIO = 200  # unpacked / packed of one member: office XML 5 to 30, zeros 1000
ZIP_RATIO_FROM = 1 * MiB  # members unpacking to less than this are small whatever their ratio
# --- limits of what the inspection reads -----------------------------------------------
XML_PART_LIMIT = 8 * MiB  # [Content_Types].xml, a .rels, the ODF manifest
ODF_BODY_LIMIT = 128 * MiB  # content.xml / styles.xml, parsed as a stream
NESTED_LIMIT = 16 * MiB  # an embedded package, read into memory to be checked in turn
NESTED_DEPTH = 1  # an embedded package inside an embedded package is refused
READ_BUDGET = 256 * MiB  # everything the inspection of one upload unpacks, all members together
READ_CHUNK = 64 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: VBA project, OLE object, .doc
ZIP_MAGIC = b"PK\x03\x04"

CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
RELATIONSHIPS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# content types of parts that hold or run code, or embed objects (matched in lower case)
ACTIVE_CONTENT_TYPES = (
    "macroenabled",  # .docm/.xlsm/.pptm main parts, macro-enabled templates
    "vba",  # vbaProject, vbaProjectSignature, vbaData
    "activex",
    "oleobject",
    "macrosheet",  # Excel 4.0 (XLM) macro sheets
    "attachedtoolbars",
)
# relationship types (their last path segment, lower case) that attach code or embedded objects
ACTIVE_RELATIONSHIPS = {
    "vbaproject",
    "vbaprojectsignature",
    "wordvbadata",
    "activexcontrol",
    "activexcontrolbinary",
    "control",
    "oleobject",
    "xlmacrosheet",
    "xlintlmacrosheet",
    "attachedtoolbars",
}
# the one kind of relationship that may point outside the document: a link the reader clicks.
# Everything else External (attachedTemplate, oleObject, frame, subDocument, image,
# externalLinkPath, mailMerge data source, …) is loaded or run by the office program on opening.
EXTERNAL_ALLOWED = {"hyperlink"}
# ... except the template a document was made from when it is a file on the author's own drive
# (Word records "file:///C:\\...\\Kop Surat.dotx" for every letter written on a custom letterhead):
# a local path loads nothing from the network. A template on a share (\\\\host\\..., file://host/)
# or a web address is refused like any other outside content.
LOCAL_TEMPLATE = re.compile(r"^(file:///)?[a-z]:[\\/]", re.I)

ODF_SCRIPT_NS = "{urn:oasis:names:tc:opendocument:xmlns:script:1.0}"
ODF_OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
ODF_PRESENTATION_NS = "{urn:oasis:names:tc:opendocument:xmlns:presentation:1.0}"
ODF_MANIFEST_NS = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
ODF_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
ODF_DRAW_NS = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
# hyperlinks in text and on drawings: followed when the reader clicks, never loaded on opening
ODF_HYPERLINKS = {f"{ODF_TEXT_NS}a", f"{ODF_DRAW_NS}a"}
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ODF_CODE_DIRS = ("basic/", "scripts/")
MACRO_LINK = re.compile(r"^\s*(vnd\.sun\.star\.script|macro|vnd\.sun\.star\.basic)\s*:", re.I)
# an address with a scheme (http:, file:, smb:, …) or a network or parent path
OUTSIDE_LINK = re.compile(r"^\s*([a-z][a-z0-9+.-]*:|//|\\\\|\.\./)", re.I)


class Refusal(StrEnum):
    UNKNOWN = "unknown"  # not an accepted type, or damaged
    TOO_LARGE = "too_large"  # an archive that unpacks to too much: a zip bomb
    ACTIVE = "active"  # macros, scripts, ActiveX controls, embedded (OLE) objects
    EXTERNAL = "external"  # content loaded from outside the document when it is opened


class UploadRefused(Exception):
    """The upload is refused; ``detail`` (English, no content of the file) is for logs and
    tests."""

    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(f"{refusal}: {detail}" if detail else str(refusal))
        self.refusal = refusal
        self.detail = detail


def check_content(content: bytes) -> str:
    """The accepted type the bytes really are; raises ``UploadRefused`` otherwise."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(ZIP_MAGIC):
        return _check_archive(content, _Budget(READ_BUDGET), depth=0)
    raise UploadRefused(Refusal.UNKNOWN, "not an accepted type")


def sniff_content_type(content: bytes) -> str | None:
    """The accepted type the bytes really are, or None (refused, for whatever reason)."""
    try:
        return check_content(content)
    except UploadRefused:
        return None


def download_name(original_name: str, content_type: str) -> str:
    """The name a stored file is downloaded under: the uploader's name without its extension,
    and the extension of the type the content was recognised as (``visum.hta`` that is a PDF
    downloads as ``visum.pdf``)."""
    extension = EXTENSIONS.get(content_type, ".bin")
    stem = PurePosixPath(original_name.replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem.lstrip(".") else stem
    stem = "".join(c for c in stem if c.isprintable() and c not in '"\\/:*?<>|').strip(". ")
    return f"{stem or 'berkas'}{extension}"


# --- zip archives -----------------------------------------------------------------------------


class _Budget:
    """What one inspection may unpack in all; every bounded read spends from it."""

    def __init__(self, total: int) -> None:
        self.left = total

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise UploadRefused(Refusal.TOO_LARGE, "inspection budget spent")


def _central_directory(content: bytes) -> tuple[int, int]:
    """(number of members, size of the central directory) from the end record, before the
    archive is parsed; ZIP64 end records are followed."""
    start = max(0, len(content) - (22 + 0xFFFF))
    at = content.rfind(b"PK\x05\x06", start)
    if at < 0 or at + 22 > len(content):
        raise UploadRefused(Refusal.UNKNOWN, "no zip end record")
    fields = struct.unpack("<4s4H2LH", content[at : at + 22])
    members, size = fields[4], fields[5]
    if members == 0xFFFF or size == 0xFFFFFFFF:
        locator = content[at - 20 : at] if at >= 20 else b""
        if len(locator) != 20 or not locator.startswith(b"PK\x06\x07"):
            raise UploadRefused(Refusal.UNKNOWN, "no zip64 locator")
        offset = struct.unpack("<4sLQL", locator)[2]
        record = content[offset : offset + 56]
        if len(record) != 56 or not record.startswith(b"PK\x06\x06"):
            raise UploadRefused(Refusal.UNKNOWN, "no zip64 end record")
        zip64 = struct.unpack("<4sQ2H2L4Q", record)
        members, size = zip64[7], zip64[8]
    return members, size


def _check_table_of_contents(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > ZIP_MAX_MEMBERS:
        raise UploadRefused(Refusal.TOO_LARGE, f"{len(infos)} members")
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename.lower()
        if name in seen:  # OPC part names ignore case: two members for one name hide one
            raise UploadRefused(Refusal.UNKNOWN, "duplicate member name")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise UploadRefused(Refusal.UNKNOWN, "encrypted member")
        if info.file_size > ZIP_MAX_MEMBER_SIZE:
            raise UploadRefused(Refusal.TOO_LARGE, "member declared too large")
        if info.file_size > ZIP_RATIO_FROM and (
            info.compress_size <= 0 or info.file_size / info.compress_size > ZIP_MAX_RATIO
        ):
            raise UploadRefused(Refusal.TOO_LARGE, "member packed too tightly")
        total += info.file_size
        if total > ZIP_MAX_TOTAL_SIZE:
            raise UploadRefused(Refusal.TOO_LARGE, "members declared too large together")


# the errors a damaged or unsupported archive raises while it is opened or read
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OSError,
    ValueError,
    struct.error,
    KeyError,
    SafeXML.ParseError,
    DefusedXmlException,
)


def _check_archive(content: bytes, budget: _Budget, depth: int) -> str:
    members, directory_size = _central_directory(content)
    if members > ZIP_MAX_MEMBERS:
        raise UploadRefused(Refusal.TOO_LARGE, f"{members} members")
    if directory_size > ZIP_MAX_CENTRAL_DIRECTORY:
        raise UploadRefused(Refusal.TOO_LARGE, "central directory too large")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            _check_table_of_contents(infos)
            inspection = _Archive(archive, infos, budget, depth)
            return inspection.check()
    except UploadRefused:
        raise
    except _ARCHIVE_ERRORS as error:
        raise UploadRefused(Refusal.UNKNOWN, f"damaged archive ({type(error).__name__})") from None


class _BoundedReader(io.RawIOBase):
    """A member read in chunks that stops past ``limit`` bytes (the budget spent as it goes)."""

    def __init__(self, member: IO[bytes], limit: int, budget: _Budget) -> None:
        super().__init__()
        self.member = member
        self.limit = limit
        self.budget = budget
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.member.read(min(len(buffer), READ_CHUNK))
        self.count += len(chunk)
        if self.count > self.limit:
            raise UploadRefused(Refusal.TOO_LARGE, "member larger than its read limit")
        self.budget.spend(len(chunk))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class _Archive:
    def __init__(
        self, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], budget: _Budget, depth: int
    ) -> None:
        self.archive = archive
        self.infos = infos
        self.budget = budget
        self.depth = depth
        self.by_name = {info.filename.lower(): info for info in infos}

    # bounded reads
    def read(self, info: zipfile.ZipInfo, limit: int) -> bytes:
        out = bytearray()
        with self.archive.open(info) as member:
            reader = _BoundedReader(member, limit, self.budget)
            while chunk := reader.read(READ_CHUNK):
                out += chunk
        return bytes(out)

    def head(self, info: zipfile.ZipInfo, n: int = 8) -> bytes:
        with self.archive.open(info) as member:
            return _BoundedReader(member, n, self.budget).read(n) or b""

    def xml(self, info: zipfile.ZipInfo) -> Any:
        return SafeXML.fromstring(self.read(info, XML_PART_LIMIT), forbid_dtd=True)

    def events(self, info: zipfile.ZipInfo, limit: int) -> Iterator[tuple[str, Any]]:
        """Start and end events of a large XML part parsed as a stream, finished elements
        cleared so memory stays bounded."""
        with self.archive.open(info) as member:
            stream = io.BufferedReader(_BoundedReader(member, limit, self.budget), READ_CHUNK)
            for event, element in SafeXML.iterparse(
                stream, events=("start", "end"), forbid_dtd=True
            ):
                yield event, element
                if event == "end":
                    element.clear()

    # the checks
    def check(self) -> str:
        if "mimetype" in self.by_name:
            return self.check_odf()
        if "[content_types].xml" in self.by_name:
            return self.check_ooxml()
        raise UploadRefused(Refusal.UNKNOWN, "zip is no office document")

    def check_members(self) -> None:
        """Code by content, whatever the member's name: OLE compound files (VBA projects, OLE
        objects, ActiveX binaries, old .doc/.xls inside); embedded packages are checked in
        turn."""
        for info in self.infos:
            if info.is_dir() or info.file_size == 0:
                continue
            head = self.head(info)
            if head.startswith(OLE_MAGIC):
                raise UploadRefused(Refusal.ACTIVE, "OLE compound file inside")
            if head.startswith(ZIP_MAGIC):
                if self.depth >= NESTED_DEPTH:
                    raise UploadRefused(Refusal.ACTIVE, "package nested too deep")
                nested = self.read(info, NESTED_LIMIT)
                _check_archive(nested, self.budget, self.depth + 1)

    def check_ooxml(self) -> str:
        if any("vbaproject" in name for name in self.by_name):
            raise UploadRefused(Refusal.ACTIVE, "VBA project part")
        defaults, overrides = self.content_types()
        for content_type in [*defaults.values(), *overrides.values()]:
            lowered = content_type.lower()
            if any(marker in lowered for marker in ACTIVE_CONTENT_TYPES):
                raise UploadRefused(Refusal.ACTIVE, f"content type {content_type}")
        main = self.main_part()
        if main.lstrip("/").lower() not in self.by_name:
            raise UploadRefused(Refusal.UNKNOWN, "main part missing")
        main_type = overrides.get(main.lower()) or defaults.get(
            PurePosixPath(main).suffix.lstrip(".").lower(), ""
        )
        document_type = OOXML_MAIN_PARTS.get(main_type.lower())
        if document_type is None:
            raise UploadRefused(Refusal.UNKNOWN, f"main part type {main_type}")
        for name, info in self.by_name.items():
            if name.endswith(".rels"):
                self.check_relationships(info)
        self.check_members()
        return document_type

    def content_types(self) -> tuple[dict[str, str], dict[str, str]]:
        root = self.xml(self.by_name["[content_types].xml"])
        if root.tag != f"{CONTENT_TYPES_NS}Types":
            raise UploadRefused(Refusal.UNKNOWN, "not a content types part")
        defaults: dict[str, str] = {}
        overrides: dict[str, str] = {}
        for element in root.iter():
            content_type = element.get("ContentType", "")
            if element.tag == f"{CONTENT_TYPES_NS}Default":
                defaults[element.get("Extension", "").lower()] = content_type
            elif element.tag == f"{CONTENT_TYPES_NS}Override":
                overrides[element.get("PartName", "").lower()] = content_type
        return defaults, overrides

    def relationships(self, info: zipfile.ZipInfo) -> list[tuple[str, str, str]]:
        """(type, target, target mode) of every relationship of a .rels part."""
        root = self.xml(info)
        return [
            (element.get("Type", ""), element.get("Target", ""), element.get("TargetMode", ""))
            for element in root.iter(f"{RELATIONSHIPS_NS}Relationship")
        ]

    def main_part(self) -> str:
        package = self.by_name.get("_rels/.rels")
        if package is None:
            raise UploadRefused(Refusal.UNKNOWN, "no package relationships")
        for kind, target, mode in self.relationships(package):
            if kind.rsplit("/", 1)[-1].lower() == "officedocument" and mode.lower() != "external":
                return "/" + target.lstrip("/")
        raise UploadRefused(Refusal.UNKNOWN, "no main part")

    def check_relationships(self, info: zipfile.ZipInfo) -> None:
        for kind, target, mode in self.relationships(info):
            name = kind.rsplit("/", 1)[-1].lower()
            if name in ACTIVE_RELATIONSHIPS:
                raise UploadRefused(Refusal.ACTIVE, f"relationship {name}")
            if name == "attachedtemplate" and LOCAL_TEMPLATE.match(target.strip()):
                continue
            if mode.strip().lower() == "external" and name not in EXTERNAL_ALLOWED:
                raise UploadRefused(Refusal.EXTERNAL, f"external {name}")

    def check_odf(self) -> str:
        mimetype = self.read(self.by_name["mimetype"], 256).strip().decode("ascii", "replace")
        if mimetype not in ODF_TYPES:
            raise UploadRefused(Refusal.UNKNOWN, "not an accepted ODF type")
        if any(name.startswith(ODF_CODE_DIRS) for name in self.by_name):
            raise UploadRefused(Refusal.ACTIVE, "Basic or Scripts folder")
        manifest = self.by_name.get("meta-inf/manifest.xml")
        if manifest is None:
            raise UploadRefused(Refusal.UNKNOWN, "no manifest")
        for entry in self.xml(manifest).iter(f"{ODF_MANIFEST_NS}file-entry"):
            path = entry.get(f"{ODF_MANIFEST_NS}full-path", "").lower()
            media = entry.get(f"{ODF_MANIFEST_NS}media-type", "").lower()
            if path.startswith(ODF_CODE_DIRS) or any(w in media for w in ("script", "basic")):
                raise UploadRefused(Refusal.ACTIVE, "script in the manifest")
        for part in ("content.xml", "styles.xml"):
            if part in self.by_name:
                self.check_odf_body(self.by_name[part])
        self.check_members()
        return mimetype

    def check_odf_body(self, info: zipfile.ZipInfo) -> None:
        """No scripts, event listeners or macro links; nothing linked from outside."""
        for event, element in self.events(info, ODF_BODY_LIMIT):
            if event != "start":
                continue
            tag = element.tag if isinstance(element.tag, str) else ""
            if (
                tag.startswith(ODF_SCRIPT_NS)
                or tag in (f"{ODF_OFFICE_NS}script", f"{ODF_OFFICE_NS}event-listeners")
                or tag == f"{ODF_PRESENTATION_NS}event-listener"
            ):
                raise UploadRefused(Refusal.ACTIVE, f"script element {tag}")
            for value in element.attrib.values():
                if MACRO_LINK.match(value):
                    raise UploadRefused(Refusal.ACTIVE, "macro link")
            href = element.get(XLINK_HREF)
            if href and tag not in ODF_HYPERLINKS and OUTSIDE_LINK.match(href):
                raise UploadRefused(Refusal.EXTERNAL, f"{tag} linked from outside")


# --- photos -------------------------------------------------------------------------------------

IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# what survives re-encoding besides the pixels: transparency (part of the picture) and the colour
# profile (how bruises and injuries look depends on it; it says nothing about person or place)
KEPT_IMAGE_INFO = ("transparency", "icc_profile")
# larger than any phone photo (Pillow's own bomb threshold, about 89 megapixels): refused
MAX_IMAGE_PIXELS = 89_478_485


def without_metadata(content: bytes, content_type: str) -> bytes | None:
    """The file as it will be stored: photos re-encoded from their pixels alone, so EXIF (with
    the GPS position, the time and the phone), XMP, comments and text chunks are gone, and so is
    anything hidden after the picture; None when the bytes are not a readable picture after all
    (refused). PDFs and office documents are stored unchanged."""
    image_format = IMAGE_FORMATS.get(content_type)
    if image_format is None:
        return content
    # local: Pillow is loaded only when an uploaded picture is cleaned
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(content), formats=[image_format]) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return None  # a decompression bomb, not a photo: refused, never decoded
            if getattr(image, "n_frames", 1) > 1:
                return None  # animated pictures: not re-encoded frame by frame, refused
            image.load()
            # the EXIF orientation goes with the EXIF: turn the pixels upright first
            upright = ImageOps.exif_transpose(image) or image
            clean = upright.copy()
            clean.info = {k: image.info[k] for k in KEPT_IMAGE_INFO if k in image.info}
            out = io.BytesIO()
            if image_format == "JPEG":
                # 4:4:4 and high quality: as little loss as a re-encoding allows
                clean.save(out, "JPEG", quality=95, subsampling=0, **_icc(clean))
            elif image_format == "WEBP":
                clean.save(out, "WEBP", quality=95, **_icc(clean))
            else:
                clean.save(out, "PNG")
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _icc(image: Any) -> dict[str, Any]:
    profile = image.info.get("icc_profile")
    return {"icc_profile": profile} if profile else {}
