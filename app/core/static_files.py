"""Static files a phone keeps: every ``url_for('static', filename=…)`` carries the file's content
fingerprint (``?v=…``), and a request naming the current fingerprint is answered as cacheable
for a year (``immutable``), so a page load asks for nothing but the page itself. A request without
the fingerprint, or with an old one, is answered as before (``no-cache``: the browser revalidates).
When a file changes its fingerprint changes, so no browser keeps an old copy past a deployment.

The fingerprint is computed once per file and process (files do not change under a running
server, except in development, where it follows the file's modification time)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from flask import Flask, Response, request

ONE_YEAR = 365 * 24 * 3600
_PARAM = "v"


class _Fingerprints:
    def __init__(self, folder: str, *, watch: bool) -> None:
        self.folder = folder
        self.watch = watch  # development: a changed file gets a new fingerprint at once
        self._known: dict[str, tuple[float, str | None]] = {}

    def of(self, filename: str) -> str | None:
        path = os.path.join(self.folder, filename)
        known = self._known.get(filename)
        if known is not None and not self.watch:
            return known[1]
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return None  # a missing file: the URL is built as before, the request answers 404
        if known is not None and known[0] == mtime:
            return known[1]
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        self._known[filename] = (mtime, digest)
        return digest


def init_static_files(app: Flask) -> None:
    if app.static_folder is None:
        return
    fingerprints = _Fingerprints(app.static_folder, watch=bool(app.debug))

    @app.url_defaults
    def fingerprint_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and _PARAM not in values and "filename" in values:
            digest = fingerprints.of(str(values["filename"]))
            if digest is not None:
                values[_PARAM] = digest

    @app.after_request
    def cache_fingerprinted(response: Response) -> Response:
        if (
            request.endpoint == "static"
            and response.status_code == 200
            and request.view_args is not None
            and request.args.get(_PARAM)
            == fingerprints.of(str(request.view_args.get("filename", "")))
        ):
            response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        return response
