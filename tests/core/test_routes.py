"""Every route declares the permission it needs."""

from app.core.permissions import PERMISSIONS, PUBLIC, route_permission


def test_every_route_declares_a_known_permission(app):
    undeclared, unknown = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        permission = route_permission(app.view_functions[rule.endpoint])
        if permission is None:
            undeclared.append(rule.rule)
        elif permission != PUBLIC and permission not in PERMISSIONS:
            unknown.append((rule.rule, permission))
    assert undeclared == [], f"routes without a declared permission: {undeclared}"
    assert unknown == []


def test_public_routes_are_only_the_expected_ones(app):
    public = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and route_permission(app.view_functions[rule.endpoint]) == PUBLIC
    )
    assert public == ["/", "/bahasa", "/healthz", "/masuk", "/masuk/kode"]


def test_a_route_without_declaration_is_caught(app):
    from flask import Flask

    probe = Flask("probe")

    @probe.route("/naked")
    def naked():
        return "x"

    assert route_permission(probe.view_functions["naked"]) is None


def test_security_headers_on_pages(client):
    response = client.get("/masuk")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_unexpected_error_shows_the_500_page_and_writes_nothing(app, client, admin_user):
    from app.audit.models import AuditEntry
    from app.extensions import db
    from tests.fixtures import login_as

    login_as(client, admin_user)
    before = db.session.query(AuditEntry).count()

    def explode():
        from app.audit.operations import SystemActor, record

        record(SystemActor(), "half.written", "test", 1)
        raise RuntimeError("boom")

    app.view_functions["home.index"], original = explode, app.view_functions["home.index"]
    try:
        response = client.get("/beranda")
    finally:
        app.view_functions["home.index"] = original
    assert response.status_code == 500
    assert "Terjadi kesalahan" in response.get_data(as_text=True)
    assert db.session.query(AuditEntry).count() == before
