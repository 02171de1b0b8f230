"""Need-to-know on every case route: a case outside the user's scope (another agency's, another
case manager's, a guessed id) is not found — never forbidden, never shown — and nothing is
written."""

import io

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.cases import operations as ops
from app.cases.models import Attachment, CaseNote, ConsentEntry
from app.core.enums import Role
from app.extensions import db
from tests.factories import AgencyFactory, UserFactory
from tests.factories.cases import create_case
from tests.factories.files import png_bytes
from tests.fixtures import login_as

PNG = png_bytes()


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def agency_a():
    return AgencyFactory(code="UPTD-A")


@pytest.fixture
def agency_b():
    return AgencyFactory(code="UPTD-B")


@pytest.fixture
def case_b(agency_b):
    supervisor_b = UserFactory(roles=[(Role.SUPERVISOR, agency_b)])
    case = create_case(agency_b, actor=supervisor_b)
    ops.add_attachment(case, "bukti.png", PNG, actor=supervisor_b)
    ops.add_note(case, "Catatan lembaga B.", actor=supervisor_b)
    return case


def routes(case, victim_id=None, attachment_id=None):
    """Every case route, as (method, url, data)."""
    victim_id = victim_id if victim_id is not None else case.victims[0].id
    if attachment_id is None:
        attachment_id = db.session.scalar(
            select(Attachment.id).where(Attachment.case_id == case.id)
        )
    base = f"/kasus/{case.id}"
    prefix = f"consent{victim_id}"
    return [
        ("get", base, None),
        ("post", f"{base}/lampiran", {"file": (io.BytesIO(PNG), "foto.png")}),
        ("get", f"{base}/lampiran/{attachment_id}", None),
        ("post", f"{base}/catatan", {"body": "Tidak boleh tersimpan."}),
        (
            "post",
            f"{base}/korban/{victim_id}/persetujuan",
            {
                f"{prefix}-purpose": "dokumentasi",
                f"{prefix}-decision": "setuju",
                f"{prefix}-given_by": "korban",
                f"{prefix}-at": "2025-03-14T10:00",
            },
        ),
        ("post", f"{base}/korban/{victim_id}/identitas", {}),
    ]


def counts():
    """What a refused request must not change. (The refusal itself is recorded:
    ``denials()``.)"""
    return (
        *(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Attachment, CaseNote, ConsentEntry)
        ),
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "access.denied")
        ),
    )


def denials():
    return db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "access.denied")
    )


def call(client, method, url, data):
    if method == "get":
        return client.get(url)
    return client.post(url, data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.MANAJER_KASUS, Role.PETUGAS_PENGADUAN])
@pytest.mark.parametrize("index", range(6))
def test_another_agency_s_case_is_not_found_on_every_route(
    client, agency_a, case_b, role, index, uploads
):
    login_as(client, UserFactory(roles=[(role, agency_a)]))
    method, url, data = routes(case_b)[index]
    before, refused = counts(), denials()
    stored = sorted(uploads.iterdir())
    response = call(client, method, url, data)
    assert response.status_code == 404, (method, url)
    assert "Catatan lembaga B" not in response.get_data(as_text=True)
    assert counts() == before
    assert denials() == refused + 1  # the refusal is in the audit log
    assert sorted(uploads.iterdir()) == stored


@pytest.mark.parametrize("index", range(6))
def test_guessed_ids_are_not_found(client, agency_a, index):
    user = UserFactory(roles=[(Role.SUPERVISOR, agency_a)])
    own = create_case(agency_a, actor=user)
    login_as(client, user)
    method, url, data = routes(own, attachment_id=987654)[index]
    if index == 2:  # an attachment id that does not exist, on an own case
        assert call(client, method, url, data).status_code == 404
        return
    url = url.replace(f"/kasus/{own.id}", "/kasus/987654")
    assert call(client, method, url, data).status_code == 404


@pytest.mark.parametrize("index", [4, 5])  # consent, reveal
def test_a_victim_of_another_case_is_not_found(client, agency_a, case_b, index):
    """The case is the user's own; the victim id in the address is B's."""
    user = UserFactory(roles=[(Role.SUPERVISOR, agency_a)])
    own = create_case(agency_a, actor=user)
    login_as(client, user)
    method, url, data = routes(own, victim_id=case_b.victims[0].id, attachment_id=0)[index]
    assert call(client, method, url, data).status_code == 404


@pytest.mark.parametrize("index", range(6))
def test_a_case_managed_by_someone_else_is_not_found(client, agency_a, index, uploads):
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency_a)])
    colleague = UserFactory(roles=[(Role.MANAJER_KASUS, agency_a)])
    case = create_case(agency_a, actor=manager, case_manager=colleague)
    ops.add_attachment(case, "bukti.png", PNG, actor=colleague)
    login_as(client, manager)  # registered it, but it has a case manager now
    method, url, data = routes(case)[index]
    assert call(client, method, url, data).status_code == 404


@pytest.mark.parametrize("index", range(6))
def test_intake_officer_loses_the_case_once_assigned(client, agency_a, index):
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency_a)])
    manager = UserFactory(roles=[(Role.MANAJER_KASUS, agency_a)])
    case = create_case(agency_a, actor=officer)
    ops.add_attachment(case, "bukti.png", PNG, actor=officer)
    login_as(client, officer)
    assert client.get(f"/kasus/{case.id}").status_code == 200
    case.case_manager_id = manager.id
    method, url, data = routes(case)[index]
    assert call(client, method, url, data).status_code == 404


@pytest.mark.parametrize(
    "role", [Role.PETUGAS_LAYANAN, Role.ANALIS_DATA, Role.PIMPINAN, Role.ADMIN]
)
@pytest.mark.parametrize("index", range(6))
def test_roles_without_case_access_are_forbidden_everywhere(client, agency_a, role, index):
    owner = UserFactory(roles=[(Role.SUPERVISOR, agency_a)])
    case = create_case(agency_a, actor=owner)
    ops.add_attachment(case, "bukti.png", PNG, actor=owner)
    login_as(client, UserFactory(roles=[(role, agency_a)]))
    method, url, data = routes(case)[index]
    assert call(client, method, url, data).status_code == 403


def test_supervisor_of_the_agency_reaches_every_route(client, agency_a):
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency_a)])
    case = create_case(agency_a, actor=officer)
    ops.add_attachment(case, "bukti.png", PNG, actor=officer)
    login_as(client, UserFactory(roles=[(Role.SUPERVISOR, agency_a)]))
    for method, url, data in routes(case):
        assert call(client, method, url, data).status_code in (200, 302), url
