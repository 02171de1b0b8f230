"""Security headers on every page (issue #7, item 7): a CSP with a fresh nonce per response and
without 'unsafe-inline', no framing, no caching of anything but static files, HSTS in production.

The pages come from the URL map, so a new page is checked the day it is added."""

from __future__ import annotations

import io
import re

import pytest
from flask import Response, render_template_string
from PIL import Image

from app.cases import operations as ops
from app.core.enums import Role
from tests.conftest import make_app
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
NONCE = re.compile(r"'nonce-([A-Za-z0-9_\-]+)'")


def png():
    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def directives(csp):
    parsed = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_page_headers(response, where):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    policy = directives(csp)
    if headers.get("Content-Disposition", "").startswith("attachment"):
        # a download: no script runs in it at all, whatever it is
        assert policy == {"sandbox": []}, where
    else:
        assert policy["default-src"] == ["'self'"], where
        assert policy["script-src"][0] == "'self'", where
        assert len(NONCE.findall(csp)) == 1 and len(NONCE.search(csp).group(1)) >= 22, where
        assert policy["style-src"] == ["'self'"], where
        assert policy["object-src"] == ["'none'"], where
        assert policy["base-uri"] == ["'none'"], where
        assert policy["form-action"] == ["'self'"], where
        assert policy["frame-ancestors"] == ["'none'"], where
        assert "*" not in csp and "http:" not in csp and "https:" not in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    permissions = headers.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in permissions, where
    assert "no-store" in headers.get("Cache-Control", ""), where


def build_url(app, rule, ids):
    values = {}
    for converter, name in ARGUMENT.findall(rule.rule):
        values[name] = ids.get(name, 1 if converter in ("int", "float") else "x")
    return app.url_map.bind("localhost").build(rule.endpoint, values)


@pytest.fixture
def supervisor(app, client, tmp_path, monkeypatch):
    """A supervisor who holds every other role too: as many pages as possible answer 200."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    agency = AgencyFactory()
    sub_task_force = TaskForceFactory().sub_task_forces[0]
    user = UserFactory(
        name="Sari Supervisor",
        roles=[(r, sub_task_force if r.scoped_to_subtaskforce else agency) for r in Role],
    )
    case = create_case(agency, actor=user, case_manager=user)
    attachment = ops.add_attachment(case, "foto.png", png(), actor=user)
    login_as(client, user)
    ids = {
        "case_id": case.id,
        "victim_id": case.victims[0].id,
        "attachment_id": attachment.id,
        "agency_id": agency.id,
        "user_id": user.id,
        "region_id": agency.region_id,
    }
    return client, ids


def test_every_page_of_the_url_map_carries_the_headers(app, supervisor):
    client, ids = supervisor
    answered = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        url = build_url(app, rule, ids)
        response = client.get(url)
        answered[url] = response.status_code
        assert_page_headers(response, f"GET {url} ({response.status_code})")
    ok = {url for url, code in answered.items() if code in (200, 302)}
    case_id = ids["case_id"]
    expected = {"/beranda", "/kasus", f"/kasus/{case_id}", f"/kasus/{case_id}/ubah", "/akun"}
    expected.add(f"/kasus/{case_id}/lampiran/{ids['attachment_id']}")
    assert expected <= ok, answered
    assert "Strict-Transport-Security" not in client.get("/beranda").headers  # not production


def test_error_pages_and_signed_out_pages_carry_them_too(client):
    for url, code in [("/masuk", 200), ("/beranda", 302), ("/tidak-ada", 404)]:
        response = client.get(url)
        assert response.status_code == code
        assert_page_headers(response, url)
    response = client.post("/beranda")
    assert response.status_code == 405
    assert_page_headers(response, "POST /beranda")


def test_the_nonce_is_new_for_every_response(client):
    nonces = [NONCE.search(client.get("/masuk").headers["Content-Security-Policy"]) for _ in "ab"]
    first, second = (n.group(1) for n in nonces)
    assert first != second


def test_templates_get_the_nonce_of_their_own_response(app):
    with app.test_request_context("/masuk"):
        app.preprocess_request()
        html = render_template_string('<script nonce="{{ csp_nonce() }}"></script>')
        response = app.process_response(Response(html))
    nonce = NONCE.search(response.headers["Content-Security-Policy"]).group(1)
    assert html == f'<script nonce="{nonce}"></script>'


def test_the_pages_have_no_inline_script_or_style(client, admin_user):
    """With no 'unsafe-inline', an inline script without the nonce, a style attribute or an
    on* handler would be blocked by the browser: none may be in the pages."""
    login_as(client, admin_user)
    for url in ("/masuk", "/beranda", "/akun", "/kasus", "/admin/pengguna"):
        html = client.get(url).get_data(as_text=True)
        nonce = NONCE.search(client.get(url).headers["Content-Security-Policy"]).group(1)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or "nonce=" in tag, (url, tag)
        assert "<style" not in html, url
        assert not re.search(r"\sstyle=\"", html), url
        assert not re.search(r"\son[a-z]+=\"", html), url
        assert "javascript:" not in html, url
        assert nonce  # (each response has its own; see test_the_nonce_is_new_for_every_response)


def test_static_files_may_be_cached_but_are_not_sniffed(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def other_app(app):
    """Another application (production or development) on the same test database."""
    from app import celery_init_app

    built = []

    def build(env, **config):
        # production refuses to start without the keys development and testing generate for
        # themselves (data keys, audit key, …): lend it those of the test app
        from app.config import SETTINGS

        for setting in SETTINGS:
            if not setting.default and app.config.get(setting.name):
                config.setdefault(setting.name, app.config[setting.name])
        other = make_app(APP_ENV=env, **config)
        built.append(other)
        return other

    yield build
    celery_init_app(app)  # building an app rebinds the shared Celery app: give it back


def test_production_sends_hsts_and_development_does_not(other_app):
    production = other_app(
        "production",
        SECRET_KEY="kunci-produksi-yang-panjang-dan-acak-0123456789-ABCDEFGH",
        BASE_URL="https://simpul.contoh.go.id",
        MAIL_BACKEND="console",
    )
    response = production.test_client().get("/masuk", base_url="https://simpul.contoh.go.id")
    assert response.status_code == 200
    hsts = response.headers["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= 365 * 24 * 3600 and "includeSubDomains" in hsts
    assert_page_headers(response, "production /masuk")

    development = other_app("development")
    response = development.test_client().get("/masuk")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers
    assert_page_headers(response, "development /masuk")


def test_static_urls_carry_a_fingerprint_and_are_kept_for_a_year(app, client):
    """A phone asks again for nothing but the page: the URL names the file's content, and a
    request with the current fingerprint may be kept (immutable) for a year; without it, or with
    an old one, the browser revalidates as before."""
    import hashlib
    from pathlib import Path

    from flask import url_for

    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    content = (Path(app.static_folder) / "css" / "app.css").read_bytes()
    assert url == f"/static/css/app.css?v={hashlib.sha256(content).hexdigest()[:12]}"
    kept = client.get(url)
    assert kept.status_code == 200
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for stale in ("/static/css/app.css", "/static/css/app.css?v=0123456789ab"):
        response = client.get(stale)
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", ""), stale
    assert "immutable" not in client.get("/masuk").headers.get("Cache-Control", "")
