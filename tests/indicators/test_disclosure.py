"""One disclosure module (domain.md §6.7) for every renderer: a count of 1-4 is ``<5``; a cell
hidden only so that a small one cannot be recomputed from the total (secondary suppression) is
"dirahasiakan" ("hidden") — never ``<5``, never zero — on the dashboard, in its chart (a gap),
on the detail page, in the XLSX and the PDF; rates from small counts are marked; below the
kabupaten/kota level no cell under 5 is shown; zero is 0. The JSON keeps exact numbers and takes
its ``suppressed`` flag from the same module."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from app.core.enums import Role
from app.extensions import db
from app.indicators import disclosure
from app.indicators.definitions import sync_definitions
from app.indicators.disclosure import State
from app.indicators.models import ReportJob
from app.indicators.report import generate_report, report_files
from app.indicators.report import pdf as report_module
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, UserFactory
from tests.fixtures import login_as
from tests.indicators.test_views import cell, page, put

YEAR = "2025"
MONTH = "2025-03"
BY_SEX = "korban_menurut_jenis_kelamin"
NUMBER_CELL = re.compile(r'<td class="text-end">([^<]*)</td>')


# --- the rules, without a database ---------------------------------------------------------------


def test_a_count_of_one_to_four_is_small_and_zero_is_zero() -> None:
    for n in (1, 2, 3, 4):
        c = disclosure.count(n)
        assert (c.text, c.state, c.number, c.export()) == ("<5", State.SMALL, None, "<5")
    zero = disclosure.count(0)
    assert (zero.text, zero.state, zero.number, zero.export()) == ("0", State.ZERO, "0", 0)
    five = disclosure.count(Decimal(5))
    assert (five.text, five.state, five.number, five.export()) == ("5", State.SHOWN, "5", 5)
    assert disclosure.count(1234).text == "1.234"
    assert disclosure.count(None).text == "—"
    # below the kabupaten/kota level every count under 5, zero too, is "<5"
    assert [disclosure.count(n, low=True).text for n in (0, 4, 5)] == ["<5", "<5", "5"]


def test_a_cell_that_would_give_a_small_one_back_is_hidden_not_small() -> None:
    shown = disclosure.row({"L": 3, "P": 34})
    boys, women = shown.cells["L"], shown.cells["P"]
    assert (boys.text, boys.state) == ("<5", State.SMALL)
    assert (women.text, women.state) == ("dirahasiakan", State.SECONDARY)
    assert women.number is None and women.export() == "dirahasiakan"
    assert women.value == 34  # exact, for code (the JSON) only
    assert shown.total.text == "37"
    assert disclosure.suppress_table({"L": 3, "P": 34}) == {"L": True, "P": True}
    # without a published total nothing can be recomputed
    assert disclosure.row({"L": 3, "P": 34}, total_shown=False).cells["P"].text == "34"


def test_secondary_suppression_leaves_every_small_cell_its_whole_range() -> None:
    def states(counts: dict[str, int], **kw: Any) -> dict[str, str]:
        cells, total = disclosure.row_states(counts, **kw)
        return {**{k: str(s) for k, s in cells.items()}, "total": str(total)}

    # two cells of 1 and a shown 10 with the total 12: both would be 1 — hide the 10 too
    assert states({"a": 1, "b": 1, "c": 10}) == {
        "a": "small",
        "b": "small",
        "c": "secondary",
        "total": "shown",
    }
    # 1 and a hidden 5 with the total 26 shown: 26 - 20 - 5 = 1 would be exact; the 20
    # alone protects it (a hidden cell holds 5 or more, a reader knows)
    assert states({"a": 1, "b": 5, "c": 20}) == {
        "a": "small",
        "b": "shown",
        "c": "secondary",
        "total": "shown",
    }
    # nothing can protect it: the total is hidden
    assert states({"a": 1, "b": 5}) == {"a": "small", "b": "secondary", "total": "secondary"}
    # 3 and 2 protect each other (5 = 1+4 = 2+3 = ...); zero stays zero
    assert states({"a": 3, "b": 2, "c": 10, "d": 0}) == {
        "a": "small",
        "b": "small",
        "c": "shown",
        "d": "zero",
        "total": "shown",
    }
    # below kab/kota a zero is "<5" too, so the 12 would give it back
    assert states({"L": 0, "P": 12}, low=True) == {"L": "small", "P": "secondary", "total": "shown"}


def test_rates_from_small_counts_are_marked() -> None:
    marked = disclosure.rate(Decimal("7.50"), numerator=3, denominator=40)
    assert (marked.text, marked.marked, marked.display, marked.number) == (
        "7,50",
        True,
        "7,50*",
        "7.50",
    )
    assert marked.export() == "7,50*"
    assert disclosure.rate(Decimal("0.00"), numerator=0, denominator=4).marked
    assert not disclosure.rate(Decimal("87.50"), numerator=35, denominator=40).marked
    # below kab/kota a rate from a count under 5 is not shown at all
    withheld = disclosure.rate(Decimal("7.50"), numerator=3, denominator=40, low=True)
    assert (withheld.text, withheld.state, withheld.number) == ("dirahasiakan", "withheld", None)
    # its capaian would give it back
    assert disclosure.capaian(withheld, Decimal("110.00")).text == "dirahasiakan"
    assert disclosure.capaian(marked, Decimal("110.00")).display == "110,00*"
    # a median of 3 hours is not a count
    assert disclosure.measure(Decimal(3), base=10, places=0).text == "3"
    assert disclosure.measure(Decimal(3), base=2, places=0).display == "3*"


# --- the renderers -------------------------------------------------------------------------------


@pytest.fixture
def world() -> dict[str, Any]:
    sync_definitions()
    kab = KabkotaFactory(name="Kabupaten Rahasia")
    kec = KecamatanFactory(parent=kab, name="Kecamatan Rahasia")
    agency = AgencyFactory(region=kab)
    return {
        "kab": kab,
        "kec": kec,
        "analyst": UserFactory(roles=[(Role.ANALIS_DATA, agency)]),
    }


def breakdown_table(body: str, dimension: str) -> list[str]:
    table = body.split(f'id="bd-{dimension}"')[1].split("</table>")[0]
    return NUMBER_CELL.findall(table)


def chart_data(body: str, chart_id: str) -> dict[str, Any]:
    return json.loads(body.split(f'id="{chart_id}" data-chart=\'')[1].split("'")[0])


def test_dashboard_shows_a_secondary_cell_as_hidden(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    put(BY_SEX, kab, 3, breakdown="L")
    put(BY_SEX, kab, 34, breakdown="P")
    login_as(client, world["analyst"])
    body = page(client, f"/indikator?region={kab.code}&period={YEAR}")
    assert cell(body, "Laki-laki") == "&lt;5"
    assert cell(body, "Perempuan") == "dirahasiakan"  # not "<5": it holds 34
    assert breakdown_table(body, "jenis_kelamin") == ["&lt;5", "dirahasiakan", "37"]
    assert ">34<" not in body
    series = chart_data(body, "bd-jenis_kelamin")["series"][0]
    assert series["data"] == [None, None]  # gaps, never zero bars
    assert series["texts"] == ["<5", "dirahasiakan"]  # what the chart writes in the gaps
    assert "dirahasiakan" in body.split('id="h-breakdown"')[1].split("</p>")[0]  # the footnote

    # the detail page of the breakdown
    detail = page(client, f"/indikator/{BY_SEX}?region={kab.code}&period={YEAR}")
    assert cell(detail, "Laki-laki") == "&lt;5"
    assert cell(detail, "Perempuan") == "dirahasiakan"

    # in English
    world["analyst"].locale = "en"
    db.session.flush()
    english = page(client, f"/indikator?region={kab.code}&period={YEAR}")
    assert cell(english, "Male") == "&lt;5"
    assert cell(english, "Female") == "hidden"
    assert "dirahasiakan" not in english


def test_dashboard_zero_is_zero_and_nothing_small_is_drawn(
    world: dict[str, Any], client: Any
) -> None:
    kab = world["kab"]
    put(BY_SEX, kab, 0, breakdown="L")
    put(BY_SEX, kab, 20, breakdown="P")
    put("korban_menurut_kelompok_umur", kab, 2, breakdown="0-5")
    put("korban_menurut_kelompok_umur", kab, 9, breakdown="6-12")
    put("korban_menurut_kelompok_umur", kab, 11, breakdown="13-17")
    put("pct_anak_layanan_komprehensif", kab, 3, 40)  # 7,50 from 3 children: marked
    put("pct_perempuan_layanan_komprehensif", kab, 35, 40)  # 87,50: not marked
    for month, numerator in (("01", 2), ("02", 30)):
        put("pct_anak_layanan_komprehensif", kab, numerator, 40, period=f"{YEAR}-{month}")
    login_as(client, world["analyst"])
    body = page(client, f"/indikator?region={kab.code}&period={YEAR}")
    assert breakdown_table(body, "jenis_kelamin") == ["0", "20", "20"]
    assert chart_data(body, "bd-jenis_kelamin")["series"][0]["data"] == ["0", "20"]
    ages = breakdown_table(body, "kelompok_umur")
    assert ages == ["&lt;5", "dirahasiakan", "11", "22"]
    assert chart_data(body, "bd-kelompok_umur")["series"][0]["data"] == [None, None, "11"]
    # the rate from 3 children is marked, with its footnote; the other is not
    assert re.search(r'<span class="ind-number">7,50</span><span class="ind-mark"', body)
    assert re.search(r'<span class="ind-number">87,50</span>\s*<span class="ind-unit">', body)
    assert "Dihitung dari kurang dari 5 korban." in body
    # the monthly trend: January (from 2 children) is drawn and marked in its table
    trend = next(
        chart_data(body, f"trend-{i}")
        for i in (1, 2, 3)
        if f'id="trend-{i}"' in body and "%" in chart_data(body, f"trend-{i}")["unit"]
    )
    anak = next(s for s in trend["series"] if "anak" in s["label"].lower())
    assert anak["data"][:3] == ["5.00", "75.00", None]
    assert '<td class="text-end">5,00*</td>' in body


def test_below_kabkota_no_cell_under_five(world: dict[str, Any], client: Any) -> None:
    kec = world["kec"]
    put(BY_SEX, kec, 0, breakdown="L")
    put(BY_SEX, kec, 12, breakdown="P")
    put("korban_menurut_kelompok_umur", kec, 1, breakdown="0-5")
    put("korban_menurut_kelompok_umur", kec, 4, breakdown="6-12")
    put("korban_menurut_kelompok_umur", kec, 7, breakdown="13-17")
    put("jumlah_korban", kec, 3)
    put("pct_anak_layanan_komprehensif", kec, 2, 5)  # 40,00 from 2 children
    put("pct_perempuan_layanan_komprehensif", kec, 0, 7)  # 0,00: a count of 0
    login_as(client, world["analyst"])
    body = page(client, f"/indikator?region={kec.code}&period={YEAR}")
    assert breakdown_table(body, "jenis_kelamin") == ["&lt;5", "dirahasiakan", "12"]
    assert breakdown_table(body, "kelompok_umur") == ["&lt;5", "&lt;5", "dirahasiakan", "12"]
    numbers = [
        text
        for text in re.findall(r'class="(?:text-end|ind-number)">([^<]*)<', body)
        if re.fullmatch(r"[\d.,]+\*?", text.strip())
    ]
    assert numbers, "no number on the page"
    for text in numbers:
        number = Decimal(text.strip().rstrip("*").replace(".", "").replace(",", "."))
        assert number >= 5, f"a cell under 5 is shown below kab/kota: {text}"
    assert "40,00" not in body and "0,00" not in body
    for name in ("jenis_kelamin", "kelompok_umur"):
        assert all(
            v is None or Decimal(v) >= 5
            for v in chart_data(body, f"bd-{name}")["series"][0]["data"]
        )


def test_json_keeps_exact_numbers_and_flags_from_the_module(
    app: Flask, world: dict[str, Any]
) -> None:
    kab = world["kab"]
    put(BY_SEX, kab, 3, breakdown="L")
    put(BY_SEX, kab, 34, breakdown="P")
    put("korban_menurut_kelompok_umur", kab, 0, breakdown="0-5")
    put("korban_menurut_kelompok_umur", kab, 20, breakdown="13-17")
    put("median_jam_rujukan_diterima", kab, 3)  # 3 hours: a median, not a count
    result = app.test_cli_runner().invoke(
        args=["indicators", "show", "--period", YEAR, "--region", kab.code]
    )
    assert result.exit_code == 0, result.output
    rows = {(r["code"], r.get("breakdown", "")): r for r in json.loads(result.output)}
    assert (rows[(BY_SEX, "L")]["numerator"], rows[(BY_SEX, "L")]["suppressed"]) == (3, True)
    assert (rows[(BY_SEX, "P")]["numerator"], rows[(BY_SEX, "P")]["suppressed"]) == (34, True)
    age = "korban_menurut_kelompok_umur"
    assert rows[(age, "0-5")]["suppressed"] is False and rows[(age, "0-5")]["numerator"] == 0
    assert rows[(age, "13-17")]["suppressed"] is False
    assert rows[("median_jam_rujukan_diterima", "")]["suppressed"] is False


# --- the report ----------------------------------------------------------------------------------


@pytest.fixture
def private_files(app: Any, tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "REPORT_DIR", str(tmp_path / "reports"))


@pytest.fixture
def month(world: dict[str, Any], private_files: None) -> dict[str, Any]:
    kab = world["kab"]
    put(BY_SEX, kab, 3, breakdown="L", period=MONTH)
    put(BY_SEX, kab, 34, breakdown="P", period=MONTH)
    put("korban_menurut_kelompok_umur", kab, 0, breakdown="0-5", period=MONTH)
    put("korban_menurut_kelompok_umur", kab, 37, breakdown="18+", period=MONTH)
    put("pct_anak_layanan_komprehensif", kab, 3, 40, period=MONTH)
    put("jumlah_korban_anak", kab, 3, period=MONTH)
    return world


def make_report(world: dict[str, Any], file_format: str) -> bytes:
    job = ReportJob(
        kind="report",
        region_id=world["kab"].id,
        period=MONTH,
        format=file_format,
        requested_by_id=world["analyst"].id,
    )
    db.session.add(job)
    db.session.flush()
    generate_report(job, progress=lambda p: None)
    return (report_files().root / job.stored_name).read_bytes()


def test_xlsx_shows_small_hidden_marked_and_zero(month: dict[str, Any]) -> None:
    workbook = load_workbook(io.BytesIO(make_report(month, "xlsx")))
    rows = [list(r) for r in workbook["Rincian korban"].iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] == "Korban menurut jenis kelamin")
    assert rows[start + 2 : start + 4] == [["Laki-laki", "<5"], ["Perempuan", "dirahasiakan"]]
    start = next(i for i, r in enumerate(rows) if r[0] == "Korban menurut kelompok umur")
    assert rows[start + 2 : start + 4] == [["0-5 tahun", 0], ["18+ tahun", 37]]
    values = [v for r in rows for v in r]
    assert 34 not in values
    headline = [list(r) for r in workbook["Indikator lain"].iter_rows(values_only=True)]
    anak = next(r for r in headline if r[0] == "Jumlah korban anak")
    assert anak[1] == "<5"
    main = [list(r) for r in workbook["Indikator utama"].iter_rows(values_only=True)]
    pct = next(r for r in main if r[0] and str(r[0]).startswith("Persentase anak"))
    assert Decimal(str(pct[1])) == Decimal("7.5")
    assert "* dihitung dari jumlah kecil" in pct[-1]


def test_pdf_text_shows_small_and_hidden(month: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setattr(report_module, "FONT_DIRS", ())  # the core font: readable page text
    monkeypatch.setattr(report_module, "PDF_COMPRESS", False)
    content = make_report(month, "pdf")
    texts = re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", content)
    assert b"dirahasiakan" in texts
    assert b"<5" in texts
    assert b"34" not in texts
    assert b"Laki-laki" in texts and b"Perempuan" in texts


def test_the_dashboard_and_the_report_suppress_identically(
    month: dict[str, Any], client: Any
) -> None:
    """Both renderers take their cells from disclosure.py: the same category is small, hidden
    or shown with the same text on the dashboard and in the XLSX of the same region and month."""
    kab = month["kab"]
    put("korban_menurut_kelompok_umur", kab, 2, breakdown="6-12", period=MONTH)
    put("korban_menurut_kelompok_umur", kab, 9, breakdown="13-17", period=MONTH)
    login_as(client, month["analyst"])
    body = page(client, f"/indikator?region={kab.code}&period={MONTH}")
    workbook = load_workbook(io.BytesIO(make_report(month, "xlsx")))
    rows = [list(r) for r in workbook["Rincian korban"].iter_rows(values_only=True)]
    for dimension, title, count in (
        ("jenis_kelamin", "Korban menurut jenis kelamin", 2),
        ("kelompok_umur", "Korban menurut kelompok umur", 4),
    ):
        start = next(i for i, r in enumerate(rows) if r[0] == title)
        in_report = [str(r[1]) for r in rows[start + 2 : start + 2 + count]]
        on_dashboard = [t.replace("&lt;", "<") for t in breakdown_table(body, dimension)[:count]]
        assert on_dashboard == in_report, dimension
    # small, hidden, zero and shown all occur, so the comparison covers every state
    assert in_report == ["0", "<5", "dirahasiakan", "37"]
    sex_start = next(i for i, r in enumerate(rows) if r[0] == "Korban menurut jenis kelamin")
    assert [r[1] for r in rows[sex_start + 2 : sex_start + 4]] == ["<5", "dirahasiakan"]
