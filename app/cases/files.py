"""Recognising an uploaded file by its content, never by its name."""

from __future__ import annotations

import io
import zipfile
from typing import Any

OFFICE_ZIP_MARKERS = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text",
    b"application/vnd.oasis.opendocument.spreadsheet",
}

EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}


def sniff_content_type(content: bytes) -> str | None:
    """The allowed type the bytes really are, or None (refused)."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(content)
    return None


def _sniff_zip(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mimetype = archive.read("mimetype").strip()
                return mimetype.decode() if mimetype in ODF_TYPES else None
            if "[Content_Types].xml" not in names:
                return None
            if any(
                name.startswith("word/vbaProject") or (name.endswith(".bin") and "vba" in name)
                for name in names
            ):
                return None  # documents with macros are refused
            for prefix, mimetype in OFFICE_ZIP_MARKERS.items():
                if any(name.startswith(prefix) for name in names):
                    return mimetype
    except (zipfile.BadZipFile, KeyError, ValueError):
        return None
    return None


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
