"""Browser tests: a real Chromium (Debian's package) driven by Playwright against the app served
on loopback from its own database with the demo data committed."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import uses_postgres

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "e2e"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"needs Chromium at {CHROMIUM} (Debian package 'chromium')"
    elif not uses_postgres():
        reason = "needs PostgreSQL for the served database"
    if reason:
        for item in items:
            if "tests/e2e" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def live_server(demo_app: Any) -> Iterator[str]:
    """The demo application (committed demo data, CSRF on) served on a loopback port."""
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(
    browser: Any, live_server: str, demo_app: Any, request: pytest.FixtureRequest
) -> Iterator[Any]:
    from app.extensions import limiter

    with demo_app.app_context():
        limiter.reset()  # every browser test signs in from the same loopback address
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} [{m.location.get('url')}:{m.location.get('lineNumber')}]")
            if m.type == "error"
            else None
        ),
    )
    yield page
    context.close()
    if request.node.get_closest_marker("http_error_expected"):
        errors = [e for e in errors if "the server responded with a status of 4" not in e]
    assert errors == [], f"browser console errors: {errors}"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
