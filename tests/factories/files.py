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
