"""Every state-changing request needs the CSRF token of the session (issue #7, item 7).

The routes come from the application's URL map: a new POST/PUT/PATCH/DELETE route is checked
here the day it is added, and fails unless CSRFProtect covers it (or it is listed in EXEMPT with
the reason)."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from app.core.enums import Role
from app.extensions import db
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# endpoint -> why it may change state without a CSRF token. Empty on purpose: even the sign-in
# form (/masuk) and the language switch (/bahasa), both public, need the token (login CSRF).
EXEMPT: dict[str, str] = {}

ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
CSRF_LOGGER = "flask_wtf.csrf"


def state_changing_requests(app):
    """(method, rule) for every state-changing method of every rule of the URL map."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            found.append((method, rule))
    return sorted(found, key=lambda item: (item[1].rule, item[0]))


def build_url(app, rule, ids):
    """The rule's address with real record ids where we have them, any value otherwise: the
    CSRF check runs before the view loads anything."""
    values = {}
    for converter, name in ARGUMENT.findall(rule.rule):
        if converter in ("int", "float"):
            values[name] = ids.get(name, 1)
        else:
            values[name] = ids.get(name, "x")
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, values)


def user_with_every_role(agency):
    sub_task_force = TaskForceFactory().sub_task_forces[0]
    return UserFactory(
        name="Semua Peran",
        roles=[(r, sub_task_force if r.scoped_to_subtaskforce else agency) for r in Role],
    )


def row_counts():
    counts = {}
    for table in db.metadata.sorted_tables:
        counts[table.name] = db.session.execute(
            sa.select(sa.func.count()).select_from(table)
        ).scalar_one()
    return counts


@pytest.fixture
def world(app, client, monkeypatch):
    agency = AgencyFactory()
    user = user_with_every_role(agency)
    case = create_case(agency, actor=user, case_manager=user)
    login_as(client, user)  # signed in while CSRF is off: the session holds no token yet
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    ids = {"case_id": case.id, "victim_id": case.victims[0].id, "user_id": user.id}
    ids["agency_id"] = agency.id
    return {"client": client, "user": user, "case": case, "ids": ids}


def csrf_reasons(caplog):
    return [r.getMessage() for r in caplog.records if r.name == CSRF_LOGGER]


def test_the_url_map_has_state_changing_routes_and_exemptions_are_real(app):
    endpoints = {rule.endpoint for _, rule in state_changing_requests(app)}
    # the list is generated: make sure it is not silently empty
    assert {"auth.login", "auth.logout", "auth.set_language", "cases.add_note"} <= endpoints
    assert set(EXEMPT) <= endpoints, "an exemption names a route that no longer exists"
    assert not app.extensions["csrf"]._exempt_views, "csrf.exempt used outside EXEMPT"
    assert not app.extensions["csrf"]._exempt_blueprints


@pytest.mark.parametrize("token", ["missing", "another session's"])
def test_every_state_changing_request_without_the_session_token_is_refused(
    app, world, caplog, token
):
    client = world["client"]
    headers = {}
    if token != "missing":
        # a valid token, but of another session (what an attacker can get for himself)
        with app.test_request_context():
            from flask_wtf.csrf import generate_csrf

            headers["X-CSRFToken"] = generate_csrf()
        assert client.get("/beranda").status_code == 200  # the victim's session has a token
    before = row_counts()
    caplog.set_level(logging.INFO, logger=CSRF_LOGGER)
    unprotected = []
    for method, rule in state_changing_requests(app):
        if rule.endpoint in EXEMPT:
            continue
        url = build_url(app, rule, world["ids"])
        caplog.clear()
        response = client.open(
            url,
            method=method,
            headers=headers,
            data={"body": "Catatan palsu", "locale": "en", "email": "x@contoh.go.id"},
        )
        if response.status_code != 400 or not csrf_reasons(caplog):
            unprotected.append((method, url, response.status_code))
    assert unprotected == [], "state-changing routes that ran without a valid CSRF token"
    assert row_counts() == before, "a refused request wrote something"
    # still signed in: the refused sign-out did not sign out
    assert client.get("/beranda").status_code == 200


def test_the_refusal_is_a_400_page_in_indonesian(world, caplog):
    caplog.set_level(logging.INFO, logger=CSRF_LOGGER)
    case = world["case"]
    response = world["client"].post(f"/kasus/{case.id}/catatan", data={"body": "Catatan"})
    assert response.status_code == 400
    assert csrf_reasons(caplog) == ["The CSRF token is missing."]
    assert 'lang="id"' in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]


def test_signed_out_sign_in_without_token_is_refused(app, client, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    caplog.set_level(logging.INFO, logger=CSRF_LOGGER)
    agency = AgencyFactory()
    user = UserFactory(roles=[(Role.MANAJER_KASUS, agency)])
    from tests.factories import TEST_PASSWORD

    response = client.post("/masuk", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert csrf_reasons(caplog) == ["The CSRF token is missing."]
    assert client.get("/beranda").status_code == 302  # not signed in


def test_with_the_page_token_the_same_requests_pass_the_check(world, caplog):
    """The control: the 400s above come from the missing token, not from the forms."""
    from tests.test_pages import post_form

    caplog.set_level(logging.INFO, logger=CSRF_LOGGER)
    client, case = world["client"], world["case"]
    response = post_form(
        client, f"/kasus/{case.id}", f"/kasus/{case.id}/catatan", {"body": "Catatan sah"}
    )
    assert response.status_code == 302
    from app.cases.models import CaseNote

    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseNote)) == 1
    assert post_form(client, "/beranda", "/bahasa", {"locale": "en"}).status_code == 302
    # the token also counts when sent in the header, as a script would
    page = client.get("/beranda").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    assert client.post("/notifikasi/dibaca", headers={"X-CSRFToken": token}).status_code < 400
    assert csrf_reasons(caplog) == []
