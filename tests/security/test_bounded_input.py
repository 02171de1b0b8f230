"""Numbers and dates out of every range (issue #14, item 19): the ten inputs that answered 500.

Record ids above 2^31 in addresses and in forms, ``?page=10^20``, a consent time in year 1, the
period ``0000-01``, and in ``flask cases import`` JSON nested deeper than Python reads and a
whole number of 5,000 digits. Each gets a clear answer — 404 for an address that names no record,
the first page for an impossible page number, a message beside the field (422) or on the page
(400), ``line L: reason`` from the import — and never a 500 or a traceback.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.cases.models import Case, CaseNote, ConsentEntry
from app.core.bounds import MAX_ID, parse_page
from app.core.enums import Role, ServiceType
from app.extensions import db
from app.indicators.periods import PeriodError, parse
from app.workflow.models import CaseTransfer
from tests.cases.test_import import EXAMPLE
from tests.cases.test_import import world as import_world
from tests.factories import AgencyFactory, PopulationFactory, TaskForceFactory, UserFactory
from tests.factories.cases import INTAKE_FORM, create_case
from tests.fixtures import login_as

world = import_world

BEYOND = [2**31, 2**63, 10**20, int("9" * 40)]
YEAR_MESSAGE = "Isi tahun antara 1900 dan 2100."


def no_server_error(response: Any) -> Any:
    assert response.status_code < 500, response.get_data(as_text=True)[:800]
    return response


# --- the people and records the forms need ------------------------------------------------------


@pytest.fixture
def agency() -> Any:
    return AgencyFactory(services=[ServiceType.PENGADUAN, ServiceType.PENDAMPINGAN])


@pytest.fixture
def everyone(agency: Any) -> Any:
    """One person holding every role of the agency, so every route lets the request through to
    the point where the id is looked up."""
    task_force = TaskForceFactory(region=agency.region)
    sub_task_force = task_force.sub_task_forces[0]
    return UserFactory(
        roles=[
            (role, sub_task_force if role.scoped_to_subtaskforce else agency)
            for role in Role
            if role is not Role.PETUGAS_PENGADUAN  # the intake officer sees only own complaints
        ]
    )


@pytest.fixture
def case(agency: Any, everyone: Any) -> Any:
    return create_case(agency, actor=everyone, case_manager=everyone)


# --- 1-4. ids past the integer column in an address ---------------------------------------------


def test_every_int_converter_is_the_bounded_record_id(app: Any) -> None:
    with_ids = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(with_ids) >= 40  # every kind of record page and step
    for rule in with_ids:
        for name, converter in rule._converters.items():
            if f"<int:{name}>" in rule.rule:
                assert type(converter).__name__ == "IdConverter", rule.rule
                assert (converter.min, converter.max) == (1, MAX_ID)


@pytest.mark.parametrize("number", BEYOND, ids=lambda n: f"{len(str(n))}-digits")
def test_every_route_with_an_id_answers_404_for_an_id_past_the_column(
    app: Any, client: Any, everyone: Any, case: Any, number: int
) -> None:
    """A crawl over every route with an ``<int:...>`` part and every method it takes, the id
    (all of them at once) past 2^31 - 1: the route does not match, 404, nothing runs."""
    login_as(client, everyone)
    tried = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:[^>]+>", str(number), rule.rule)
        url = re.sub(r"<[^>]+>", "x", url)  # a string part (an event name): any word
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 404, (method, url, response.status_code)
            tried += 1
    assert tried >= 50


@pytest.mark.parametrize("path", ["/kasus/0", "/kasus/-1", "/kasus/" + "9" * 5000, "/kasus/01"])
def test_other_impossible_ids_in_an_address_are_404(client: Any, everyone: Any, path: str) -> None:
    login_as(client, everyone)
    assert client.get(path).status_code == 404


def test_an_id_at_the_top_of_the_column_is_an_ordinary_404(
    client: Any, everyone: Any, case: Any
) -> None:
    login_as(client, everyone)
    assert client.get(f"/kasus/{MAX_ID}").status_code == 404
    assert client.get(f"/kasus/{case.id}").status_code == 200


# --- 5. ids past the column in form fields ------------------------------------------------------


def test_ids_past_the_column_in_form_fields_are_refused_not_500(
    app: Any, client: Any, agency: Any, everyone: Any, case: Any
) -> None:
    login_as(client, everyone)
    task_force = TaskForceFactory(region=AgencyFactory().region)
    stf = task_force.sub_task_forces[0]
    db.session.flush()
    huge = str(2**31)
    before = {
        "notes": db.session.scalar(sa.select(sa.func.count()).select_from(CaseNote)),
        "transfers": db.session.scalar(sa.select(sa.func.count()).select_from(CaseTransfer)),
    }
    c = case.id
    member = f"/admin/gugus-tugas/{task_force.id}/sub-gugus-tugas/{stf.id}/anggota"
    posts = [
        # the Sub GT member forms (the removal answered 500)
        (f"{member}/hapus", {"agency_id": huge}, {404}),
        (member, {"agency": huge}, {422}),
        # a correction of a note that cannot exist
        (f"/kasus/{c}/catatan", {"body": "Koreksi.", "corrects_id": huge}, {404}),
        # a provider, a victim, a receiving agency, a case manager past the column
        (
            f"/kasus/{c}/rencana",
            {"victim": huge, "service_type": "pendampingan", "version": str(case.version)},
            {422},
        ),
        (f"/kasus/{c}/pelimpahan", {"to_agency": huge, "reason": "Di luar wilayah kerja."}, {422}),
        (f"/kasus/{c}/manajer", {"case_manager": huge, "version": str(case.version)}, {422}),
        # a version past the column on the admin editors
        (
            f"/admin/pengguna/{everyone.id}",
            {"user-version": huge, "user-email": everyone.email, "user-name": everyone.name},
            {422},
        ),
        (f"/admin/wilayah/{agency.region.id}", {"version": huge, "name": "Nama Baru"}, {422}),
    ]
    for url, data, expected in posts:
        response = no_server_error(client.post(url, data=data))
        assert response.status_code in expected, (url, response.status_code)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseNote)) == before["notes"]
    transfers = db.session.scalar(sa.select(sa.func.count()).select_from(CaseTransfer))
    assert transfers == before["transfers"]


# --- 6. ?page=10^20 -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [str(10**20), str(2**63), "-5", "0", "abc", "1e3", "\u0661"])
@pytest.mark.parametrize(
    "path", ["/kasus", "/admin/lembaga", "/admin/pengguna", "/admin/wilayah", "/kualitas-data"]
)
def test_an_impossible_page_number_shows_the_first_page(
    client: Any, everyone: Any, case: Any, path: str, page: str
) -> None:
    login_as(client, everyone)
    response = client.get(path, query_string={"page": page})
    assert response.status_code == 200, (path, page, response.status_code)


def test_parse_page_keeps_real_pages() -> None:
    assert [parse_page(v) for v in ("1", "2", "100000", None, "", " 7 ")] == [1, 2, 100000, 1, 1, 7]
    assert parse_page("100001") == 1


# --- 7. a consent time (and other dates) in year 1 ------------------------------------------------


@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31T23:59"])
def test_a_consent_time_in_year_1_is_a_field_error(
    client: Any, everyone: Any, case: Any, moment: str
) -> None:
    login_as(client, everyone)
    victim = case.victims[0]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentEntry))
    prefix = f"consent{victim.id}-"
    response = client.post(
        f"/kasus/{case.id}/korban/{victim.id}/persetujuan",
        data={
            prefix + "purpose": "layanan",
            prefix + "decision": "setuju",
            prefix + "given_by": "korban",
            prefix + "at": moment,
        },
    )
    assert response.status_code == 422
    assert YEAR_MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentEntry)) == before


@pytest.mark.parametrize(
    "field", ["victims-0-consents-0-at", "received_at", "victims-0-birth_date", "incident_date"]
)
def test_a_year_1_on_the_intake_form_is_a_field_error(client: Any, agency: Any, field: str) -> None:
    officer = UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)])
    login_as(client, officer)
    value = "0001-01-01T00:00" if field.endswith("at") else "0001-01-01"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    response = client.post("/kasus/baru", data=MultiDict({**INTAKE_FORM, field: value}))
    assert response.status_code == 422
    assert YEAR_MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == before


def test_dates_out_of_range_in_the_case_filters_and_the_privacy_form(
    client: Any, everyone: Any, case: Any
) -> None:
    login_as(client, everyone)
    for day in ("0001-01-01", "9999-12-31"):
        response = client.get("/kasus", query_string={"received_from": day, "received_to": day})
        assert response.status_code == 200
        assert YEAR_MESSAGE in response.get_data(as_text=True)
    victim = case.victims[0]
    response = client.post(
        f"/kasus/{case.id}/korban/{victim.id}/hak-subjek",
        data={"kind": "akses", "requester": "Korban sendiri", "received_at": "0001-01-01T00:00"},
    )
    assert response.status_code == 422
    assert YEAR_MESSAGE in response.get_data(as_text=True)


# --- 8. the period 0000-01 ------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["0000-01", "0000", "9999-12", "1899-Q4", "2101-S1"])
def test_a_period_outside_the_years_is_refused_by_name(code: str) -> None:
    with pytest.raises(PeriodError, match="1900"):
        parse(code)
    assert parse("1900-01").year == 1900 and parse("2100-12").end_date.year == 2101


@pytest.fixture
def analyst(agency: Any) -> Any:
    PopulationFactory(region=agency.region)
    return UserFactory(roles=[(Role.ANALIS_DATA, agency), (Role.SUPERVISOR, agency)])


@pytest.mark.parametrize("code", ["0000-01", "9999-12", "0000"])
def test_the_period_0000_01_on_the_indicator_pages_is_a_400_saying_why(
    client: Any, analyst: Any, code: str
) -> None:
    login_as(client, analyst)
    for query in ({"period": code}, {"year": code[:4]}):
        response = client.get("/indikator", query_string=query)
        assert response.status_code == 400, (query, response.status_code)
        assert "bukan periode" in response.get_data(as_text=True)
    response = client.get("/indikator/tutup", query_string={"period": code})
    assert response.status_code == 400


def test_the_period_0000_01_on_the_report_form_is_a_field_error(
    client: Any, analyst: Any, agency: Any
) -> None:
    login_as(client, analyst)
    response = client.post(
        "/indikator/laporan",
        data={"period": "0000-01", "region": agency.region.id, "format": "xlsx"},
    )
    assert response.status_code == 422
    assert YEAR_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize("command", ["rollup", "show"])
def test_the_period_0000_01_on_the_command_line_is_a_message(
    app: Any, agency: Any, command: str
) -> None:
    args = ["indicators", command, "--period", "0000-01"]
    if command == "show":
        args += ["--region", agency.region.code]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "0000-01" in result.output and "1900" in result.output


# --- 9-10. flask cases import: deep nesting, 5,000 digits, and a year-1 consent -------------------


def _record(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(json.loads(EXAMPLE))
    record.update(changes)
    return record


def test_the_import_reports_unreadable_lines_as_line_reasons(
    app: Any, world: Any, tmp_path: Path
) -> None:
    year_one = _record(external_id="tahun-satu")
    year_one["victims"][0]["consents"][0]["at"] = "0001-01-01T00:00:00+07:00"
    lines = [
        "[" * 100_000 + "]" * 100_000,  # 1: nested deeper than Python reads
        '{"external_id": "dalam", "kronologi": ' + "[" * 5_000 + "]" * 5_000 + "}",  # 2
        '{"external_id": ' + "9" * 5_000 + "}",  # 3: a whole number of 5,000 digits
        json.dumps(_record(external_id="besar")).replace('"age": 35', '"age": ' + "1" * 5_000),
        json.dumps(year_one),  # 5: a consent time of year 1 (its UTC time did not fit)
        json.dumps(_record(external_id="baik")),  # 6: a good line still imports
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path)])
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == 1
    printed = result.output.splitlines()
    assert printed[-1] == "imported 1, skipped 0 (already present), rejected 5"
    rejected = dict(line.split(": ", 1) for line in printed if line.startswith("line "))
    assert sorted(rejected) == ["line 1", "line 2", "line 3", "line 4", "line 5"]
    assert "terlalu dalam" in rejected["line 1"] and "terlalu dalam" in rejected["line 2"]
    assert "4300 digit" in rejected["line 3"] and "4300 digit" in rejected["line 4"]
    assert rejected["line 5"] == f"victims[0].consents[0].at: {YEAR_MESSAGE}"
    imported = db.session.scalars(sa.select(Case.external_id).where(Case.external_id.is_not(None)))
    assert set(imported) == {"baik"}
