"""The printable case summary (issue #17 item 5): the chosen sections and no others, a child's
identity hidden unless revealed for the summary, RAHASIA and who printed it on every page, no
raw vocabulary code, an audit entry per summary, 404 outside the user's scope, bad input refused
with nothing recorded, and the rate limit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.cases import operations as case_ops
from app.cases import permissions
from app.cases.intake import ConsentData, GuardianData, PerpetratorData, VictimData
from app.core.enums import Role, ServiceType
from app.extensions import db
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import RECEIVED, create_case
from tests.fixtures import login_as

CHILD_NAME = "Ani Lestari Wulandari"
CHILD_NIK = "3273015501140002"
GUARDIAN = "Rahmat Hidayat"
REPORTER = "Sri Wahyuni Tetangga"
PERPETRATOR = "Tono Pelaku"
KRONOLOGI = "Korban dipukul di dapur oleh Zebrapelaku pada malam hari."
NOTE = "Catatan kerja Flamingo untuk lembaga."


def pdf_pages(content: bytes) -> list[str]:
    """The text of every page of a PDF."""
    document = pdfium.PdfDocument(content)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def pdf_text(content: bytes) -> str:
    # a value wrapped across lines in a table cell is joined again
    return " ".join(" ".join(pdf_pages(content)).split())


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(code="UPTD-RGK", name="UPTD PPA Kota Ringkas")


@pytest.fixture
def manager(agency: Any) -> Any:
    return UserFactory(name="Dewi Manajer", roles=[(Role.MANAJER_KASUS, agency)])


@pytest.fixture
def child_case(agency: Any, manager: Any) -> Any:
    case = create_case(
        agency,
        actor=manager,
        case_manager=manager,
        case_types=["kta"],
        risk="tinggi",
        reporter_kind="pihak_ketiga",
        reporter_name=REPORTER,
        reporter_phone="081311112222",
        kronologi=KRONOLOGI,
        victims=[
            VictimData(
                sex="P",
                name=CHILD_NAME,
                nik=CHILD_NIK,
                birth_date=dt.date(2014, 1, 15),
                phone="081234567890",
                address="Jl. Melati Gang Tujuh No. 3",
                violence_types=["seksual"],
                guardians=[GuardianData(name=GUARDIAN, relation="ayah", phone="081298765432")],
                consents=[
                    ConsentData(
                        purpose="layanan",
                        decision="setuju",
                        given_by="wali",
                        given_by_name=GUARDIAN,
                        at=RECEIVED,
                    )
                ],
            )
        ],
        perpetrators=[PerpetratorData(name=PERPETRATOR, sex="L", age=40)],
    )
    create_track(
        case,
        case.victims[0],
        ServiceType.REHABILITASI_KESEHATAN,
        provider=None,
        target_date=dt.date(2026, 12, 24),
        actor=manager,
    )
    case_ops.add_note(case, NOTE, actor=manager)
    db.session.flush()
    return case


def summaries() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.summary_export")
        ).all()
    )


def reveals() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "case.reveal_identity")
    )


def post(client: FlaskClient, case: Any, sections: list[str], reveal: list[int] = ()) -> Any:  # type: ignore[assignment]
    return client.post(
        f"/kasus/{case.id}/ringkasan",
        data={"sections": sections, "reveal": [str(v) for v in reveal]},
    )


def test_the_case_page_offers_the_summary_form(client: FlaskClient, child_case: Any, manager: Any):
    login_as(client, manager)
    page = client.get(f"/kasus/{child_case.id}").get_data(as_text=True)
    assert f'href="/kasus/{child_case.id}/ringkasan"' in page
    form = client.get(f"/kasus/{child_case.id}/ringkasan")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert "Identitas korban" in html and "Rencana intervensi" in html
    # the child may be revealed by the case manager, by label and initials only
    assert f'value="{child_case.victims[0].id}"' in html and "K1 (A.L.W.)" in html
    assert CHILD_NAME not in html
    assert summaries() == []  # the form itself exports nothing


def test_the_chosen_sections_appear_and_the_others_do_not(
    client: FlaskClient, child_case: Any, manager: Any
):
    login_as(client, manager)
    response = post(client, child_case, ["kronologi", "rencana"])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "ringkasan-kasus-" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store, private"
    text = pdf_text(response.data)
    assert f"Ringkasan kasus {child_case.reference}" in text
    assert "Kejadian dan kronologi" in text and "Zebrapelaku" in text
    assert "Rencana intervensi" in text and "Rehabilitasi kesehatan" in text
    assert "24 Des 2026" in text  # the target date, Indonesian date style
    for absent in ("Identitas korban", "Pelaku dan pelapor", "Asesmen", "Rujukan", "Flamingo"):
        assert absent not in text, absent
    # the overview names the case by labels, never by codes
    assert "Tinggi" in text
    for code in ("tinggi", "kta", "rehabilitasi_kesehatan", "direncanakan", "pihak_ketiga"):
        assert code not in text, code


def test_every_page_is_marked_rahasia_with_who_printed_it(
    client: FlaskClient, child_case: Any, manager: Any
):
    # a long kronologi: the summary runs to several pages
    child_case.kronologi = "\n".join(f"Baris kronologi nomor {i}." for i in range(160))
    db.session.flush()
    login_as(client, manager)
    response = post(client, child_case, ["identitas", "kronologi", "catatan"])
    pages = pdf_pages(response.data)
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        flat = " ".join(page.split())
        assert flat.count("RAHASIA") >= 2, number  # header and footer
        assert f"halaman {number} dari {len(pages)}" in flat
        assert "Dicetak oleh Dewi Manajer pada" in flat
        assert child_case.reference in flat


def test_a_child_s_identity_is_hidden_unless_revealed_for_the_summary(
    client: FlaskClient, child_case: Any, manager: Any
):
    login_as(client, manager)
    masked = pdf_text(post(client, child_case, ["identitas", "pelaku"]).data)
    for secret in (
        CHILD_NAME,
        "Lestari",
        CHILD_NIK,
        "081234567890",
        "Melati",
        GUARDIAN,
        "081298765432",
        REPORTER,
        PERPETRATOR,
    ):
        assert secret not in masked, secret
    assert "A.L.W." in masked and "disembunyikan" in masked
    assert reveals() == 0

    victim = child_case.victims[0]
    shown = pdf_text(post(client, child_case, ["identitas", "pelaku"], [victim.id]).data)
    assert CHILD_NAME in shown and CHILD_NIK in shown and GUARDIAN in shown
    assert REPORTER in shown and PERPETRATOR in shown  # no child is masked any more
    assert reveals() == 1  # the reveal is recorded as on the case page
    entry = summaries()[-1]
    assert entry.changes["revealed"] == ["K1"]


def test_each_summary_is_audited_as_an_export(client: FlaskClient, child_case: Any, manager: Any):
    login_as(client, manager)
    response = post(client, child_case, ["rencana", "kronologi"])
    [entry] = summaries()
    assert entry.actor_id == manager.id
    assert entry.object_type == "case" and entry.object_id == str(child_case.id)
    # in print order, whatever the order chosen
    assert entry.changes == {
        "sections": ["kronologi", "rencana"],
        "revealed": [],
        "format": "pdf",
        "bytes": len(response.data),
    }


def test_english_users_get_an_english_summary(client: FlaskClient, child_case: Any, manager: Any):
    login_as(client, manager)
    client.post("/bahasa", data={"locale": "en"})
    text = pdf_text(post(client, child_case, ["rencana", "catatan"]).data)
    assert f"Case summary {child_case.reference}" in text
    assert "Intervention plan" in text and "Health rehabilitation" in text.replace("\n", " ")
    assert "Printed by Dewi Manajer on" in text and "page 1 of" in text
    assert "RAHASIA" in text
    assert "24 Dec 2026" in text
    assert "Rencana intervensi" not in text


@pytest.mark.parametrize(
    "data",
    [
        {},  # no section
        {"sections": ["rahasia_negara"]},  # not a section
        {"sections": ["identitas"], "reveal": ["999999"]},  # not a child of this case
    ],
)
def test_bad_input_is_refused_and_nothing_recorded(
    client: FlaskClient, child_case: Any, manager: Any, data: dict[str, Any]
):
    login_as(client, manager)
    response = client.post(f"/kasus/{child_case.id}/ringkasan", data=data)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "invalid-feedback" in html
    if not data:
        assert "Pilih setidaknya satu bagian untuk dicetak." in html
    assert summaries() == [] and reveals() == 0


def test_a_child_cannot_be_revealed_without_the_right(
    client: FlaskClient, child_case: Any, manager: Any, monkeypatch: pytest.MonkeyPatch
):
    # the reveal's predicate (``permissions.can_reveal_identity``) is built on this rule: taken
    # away, the form offers no reveal and a posted one is refused
    monkeypatch.setattr(permissions, "can_edit_case", lambda user, case: False)
    assert not permissions.can_reveal_identity(manager, child_case)
    login_as(client, manager)
    form = client.get(f"/kasus/{child_case.id}/ringkasan")
    assert form.status_code == 200
    assert 'name="reveal"' not in form.get_data(as_text=True)
    response = post(client, child_case, ["identitas"], [child_case.victims[0].id])
    assert response.status_code == 422
    assert summaries() == [] and reveals() == 0


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.MANAJER_KASUS, Role.PETUGAS_PENGADUAN])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_agency_s_case_is_not_found(
    client: FlaskClient, child_case: Any, role: Role, method: str
):
    other = AgencyFactory(code="UPTD-LAIN")
    login_as(client, UserFactory(roles=[(role, other)]))
    url = f"/kasus/{child_case.id}/ringkasan"
    response = client.get(url) if method == "get" else post(client, child_case, ["identitas"])
    assert response.status_code == 404
    assert CHILD_NAME not in response.get_data(as_text=True)
    assert summaries() == []


@pytest.mark.parametrize("role", [Role.PETUGAS_LAYANAN, Role.ANALIS_DATA, Role.PIMPINAN])
def test_roles_without_case_access_are_refused(
    client: FlaskClient, child_case: Any, agency: Any, role: Role
):
    login_as(client, UserFactory(roles=[(role, agency)]))
    response = post(client, child_case, ["identitas"])
    assert response.status_code in (403, 404)
    assert response.mimetype != "application/pdf"
    assert summaries() == []


def test_summaries_are_rate_limited_per_user(
    app: Flask, client: FlaskClient, child_case: Any, manager: Any, monkeypatch: pytest.MonkeyPatch
):
    from app.extensions import limiter

    monkeypatch.setitem(app.config, "CASE_SUMMARY_RATE_LIMIT", "2 per hour")
    limiter.reset()
    login_as(client, manager)
    try:
        assert post(client, child_case, ["kronologi"]).status_code == 200
        assert post(client, child_case, ["kronologi"]).status_code == 200
        refused = post(client, child_case, ["kronologi"])
        assert refused.status_code == 429
        assert "Coba lagi nanti" in refused.get_data(as_text=True)
        assert len(summaries()) == 2
    finally:
        limiter.reset()
