"""The help page "how a case moves": diagrams, stages and steps of every workflow."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from flask.testing import FlaskClient

from app.core.enums import Role
from tests.factories import AgencyFactory, UserFactory
from tests.fixtures import login_as
from workflows.registry import CURRENT, get_workflow

URL = "/bantuan/alur-kasus"
SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.S)


def signed_in(client: FlaskClient, role: Role) -> Any:
    user = UserFactory(roles=[(role, AgencyFactory())])
    login_as(client, user)
    return user


def transition_rows() -> int:
    # the current version of each: what new cases, tracks and referrals follow
    keys = ("ktpa", "tppo", "track", "referral")
    return sum(len(get_workflow(key, CURRENT[key]).transitions) for key in keys)


@pytest.mark.parametrize(
    "role", [Role.PETUGAS_PENGADUAN, Role.MANAJER_KASUS, Role.SUPERVISOR, Role.ADMIN]
)
def test_every_signed_in_user_can_read_it(client: FlaskClient, role: Role) -> None:
    signed_in(client, role)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    svgs = SVG_BLOCK.findall(html)
    assert len(svgs) == 4  # KtP/A, TPPO, service track, referral
    for svg in svgs:
        ET.fromstring(svg)  # noqa: S314  (our own output)
    assert html.count('<tr data-event="') == transition_rows()
    assert 'class="table-responsive"' in html
    assert not re.search(r"\sstyle=|<style", html)
    assert f'href="{URL}"' in html  # in the navigation


def test_it_speaks_indonesian_by_default(client: FlaskClient) -> None:
    signed_in(client, Role.MANAJER_KASUS)
    html = client.get(URL).get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Manajer kasus" in html  # a role label from the catalogue
    assert "Rencana intervensi belum disetujui supervisor." in html  # a guard's reason


def test_it_speaks_english(client: FlaskClient) -> None:
    signed_in(client, Role.SUPERVISOR)
    assert client.post("/bahasa", data={"locale": "en"}).status_code == 302
    html = client.get(URL).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "How a case moves" in html
    assert "TPPO cases (trafficking in persons)" in html
    assert "The intervention plan has not been approved by a supervisor." in html
    assert "KtP/A case workflow v1" in html


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/masuk" in response.headers["Location"]
