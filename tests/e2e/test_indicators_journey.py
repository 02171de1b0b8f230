"""A data officer's month end in the browser, on a phone: the indicators of Kota Bandung for a
past month are recomputed from the dashboard, checked (headline cards in Indonesian number
format, charts with their tables, small counts hidden), the month is closed, and its monthly
report is made and downloaded as XLSX; the command line shows the same figures as the page.

The month (September 2025) holds demo cases and is used by no other browser test: closing it is
irreversible in the session's shared demo database. Nothing here depends on what other tests
register (they work in the current month). The city is the analyst's own (their agency's region
in the demo data), then the report is made as PDF as well.

Background jobs: the served demo app sends them to Celery when Redis answers (the e2e setup has
no worker), so the test runs the queued job itself, as a worker would, once the job page shows it
waiting; without Redis — the embedded server of `make run` — they run in-process and the test
only waits (at most JOB_TIMEOUT) for the job to end by itself.

Elements are found by form actions, names, ids and data attributes. Screenshots go to
test-artifacts/e2e/.
"""

from __future__ import annotations

import decimal
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.demo import data
from tests.e2e.conftest import LiveServer, screenshot

pytestmark = pytest.mark.e2e

ANALYST = "analis@simpul.demo"
YEAR, MONTH_PART = "2025", "09"
MONTH = f"{YEAR}-{MONTH_PART}"
INDICATOR = "pct_perempuan_layanan_komprehensif"
TIMEOUT = 30_000
JOB_TIMEOUT = 120_000  # a rollup or a report ends within this, run by whoever runs tasks

RATE = re.compile(r"^\d{1,3}(\.\d{3})*,\d{2}$")  # 32,83 · 1.234,50
COUNT = re.compile(r"^\d{1,3}(\.\d{3})*$")  # 8 · 1.234


# --- helpers -----------------------------------------------------------------------------------


def sign_in(page: Any, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/masuk")
    page.locator("input[name='email']").fill(email)
    page.locator("input[name='password']").fill(data.DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(input[name='password']) button[type='submit']").click()
    assert page.url == f"{base}/beranda", f"not signed in: {page.url}"


def open_nav(page: Any, href: str) -> None:
    """Follow a main-menu link the way a phone user does: open the collapsed menu first."""
    toggler = page.locator("button.navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    link = page.locator(f"#mainnav a.nav-link[href='{href}']")
    link.wait_for(state="visible")
    with page.expect_navigation():
        link.click()


def id_number(text: str) -> decimal.Decimal:
    """A number as the pages write it (``1.234,50``)."""
    return decimal.Decimal(text.strip().rstrip("*").replace(".", "").replace(",", "."))


def home_region(email: str) -> str:
    """The region code of the agency of the demo user ``email`` (app/demo/data.py)."""
    agency = next(a for e, _name, _role, a in data.USERS if e == email)
    return next(r for code, _name, _type, r, _services in data.AGENCIES if code == agency)


def shown_state(locator: Any) -> str:
    """The key (antre, berjalan, selesai, gagal) of the state a job page shows."""
    text = locator.inner_text().strip()
    for key in ("antre", "berjalan", "selesai", "gagal"):
        if locator.get_attribute(f"data-label-{key}") == text:
            return key
    raise AssertionError(f"unknown job state shown: {text!r}")


def cli_figures(server: LiveServer, region: str) -> list[dict[str, Any]]:
    output = server.flask(
        "indicators", "show", "--period", MONTH, "--region", region, "--format", "json"
    )
    return json.loads(output)  # type: ignore[no-any-return]


def wait_until_ended(page: Any, element: Any, ended_js: str, shown: Any) -> None:
    """Wait (at most JOB_TIMEOUT) until ``ended_js`` holds for the job's ``element``; a job
    that does not end fails with what the page ``shown()`` last."""
    try:
        page.wait_for_function(ended_js, arg=element.element_handle(), timeout=JOB_TIMEOUT)
    except PlaywrightTimeout:
        pytest.fail(f"the job did not end within {JOB_TIMEOUT // 1000} s: {shown()}")


def request_report(page: Any, server: LiveServer, region: str, file_format: str) -> Any:
    """Ask for the monthly report of ``region`` in ``file_format`` and wait for it to be made;
    returns the download link."""
    base = server.url
    open_nav(page, "/indikator/laporan")
    form = page.locator("form[action='/indikator/laporan']")
    form.locator("input[name='period']").fill(MONTH)
    region_id = form.locator("select[name='region'] option").evaluate_all(
        f"os => (os.find(o => o.textContent.trim().endsWith('({region})')) || {{}}).value"
    )
    assert region_id, f"the region {region} is not offered in the report form"
    form.locator("select[name='region']").select_option(region_id)
    form.locator("select[name='format']").select_option(file_format)
    with page.expect_navigation():
        form.locator("button[type='submit']").click()
    match = re.fullmatch(rf"{re.escape(base)}/indikator/laporan/(\d+)", page.url)
    assert match, f"the report was not requested: {page.url}"
    report_id = int(match.group(1))
    server.run_queued_job(report_id)
    job = page.locator("#report-job")
    wait_until_ended(
        page,
        job,
        "box => box.querySelector('[data-field=reload]').hidden",
        lambda: " · ".join(job.locator("[data-field]:visible").all_inner_texts()),
    )
    download = job.locator("a[data-field='download']")
    assert download.is_visible(), job.inner_text()
    assert download.get_attribute("href") == f"/indikator/laporan/{report_id}/unduh"
    assert job.locator("progress[data-field='progress']").evaluate("p => p.value") == 100
    assert job.locator("a[data-field='reload']").is_hidden()
    return download


def password_confirmed(page: Any) -> Any:
    """On the re-authentication page: the password filled in; returns its submit button."""
    form = page.locator("main form:has(input[name='password'])")
    form.locator("input[name='password']").fill(data.DEMO_PASSWORD)
    return form.locator("button[type='submit']")


def download_report(page: Any, link: Any, folder: Path) -> tuple[Path, Any]:
    """Click ``link`` that downloads a report, confirming the password when the application asks
    for it (a bulk export needs a sign-in or a re-authentication within five minutes); returns
    the file saved and the response that carried it."""
    downloads: list[Any] = []
    responses: list[Any] = []

    def started(download: Any) -> None:
        downloads.append(download)

    def seen(response: Any) -> None:
        if response.url.endswith("/unduh"):
            responses.append(response)

    def wait_for(done: Any) -> None:
        for _ in range(TIMEOUT // 100):
            if done():
                return
            page.wait_for_timeout(100)

    page.on("download", started)
    page.on("response", seen)
    try:
        link.click()
        wait_for(lambda: downloads or "/masuk/ulang" in page.url)
        if not downloads and "/masuk/ulang" in page.url:
            password_confirmed(page).click()
            wait_for(lambda: downloads)
    finally:
        page.remove_listener("download", started)
        page.remove_listener("response", seen)
    assert downloads, f"no download started from {page.url}"
    download = downloads[0]
    saved = folder / download.suggested_filename
    download.save_as(saved)
    assert download.failure() is None
    assert responses, "no response seen for the download"
    return saved, responses[-1]


CHARTS_JS = """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map((c) => {
  const chart = window.Chart ? window.Chart.getChart(c) : undefined;
  let painted = false;
  if (chart && c.width > 0 && c.height > 0) {
    const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { painted = true; break; } }
  }
  return {
    id: c.id,
    shown: !c.parentElement.hidden && c.getBoundingClientRect().width > 0,
    painted: painted,
    labels: chart ? chart.data.labels : null,
    series: chart ? chart.data.datasets.map((d) => d.data) : null,
  };
})"""


def table_rows(page: Any, chart_id: str) -> list[list[str]]:
    return page.locator(f"details[data-chart-table='{chart_id}'] tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))"
    )


def check_chart_matches_table(chart: dict[str, Any], rows: list[list[str]]) -> None:
    """Each value drawn is the number its table shows; an undrawn one is shown as —, <5 or
    dirahasiakan (a cell hidden so that a <5 cannot be recomputed from the total)."""
    labels, series = chart["labels"], chart["series"]
    assert len(rows) >= len(labels), (chart["id"], rows)
    for i, label in enumerate(labels):
        row = rows[i]
        if chart["id"].startswith("bd-"):
            assert row[0] == label, (chart["id"], row, label)
        for j, values in enumerate(series):
            cell, value = row[j + 1], values[i]
            if value is None:
                assert cell.rstrip("*") in ("—", "<5", "dirahasiakan"), (chart["id"], row)
            else:
                assert id_number(cell) == decimal.Decimal(str(value)).quantize(id_number(cell)), (
                    chart["id"],
                    row,
                    value,
                )


# --- the journey -------------------------------------------------------------------------------


def test_a_data_officer_runs_checks_closes_and_exports_a_month(
    server: LiveServer, page: Any, tmp_path: Path
) -> None:
    base = server.url
    region = home_region(ANALYST)
    dashboard = f"/indikator?period={MONTH}&region={region}"
    page.set_default_timeout(TIMEOUT)
    assert page.viewport_size == {"width": 390, "height": 844}
    sign_in(page, base, ANALYST)

    # The dashboard, then the month and the city chosen in its filter.
    open_nav(page, "/indikator")
    page.locator("#f-year").select_option(YEAR)
    page.locator("#f-part").select_option(MONTH_PART)
    page.locator("#f-region").select_option(region)
    with page.expect_navigation():
        page.locator("form.ind-filter button[type='submit']").click()
    assert page.url.startswith(f"{base}/indikator?"), page.url
    rollup = page.locator("form[action='/indikator/rollup']")
    assert rollup.locator("input[name='period']").input_value() == MONTH
    assert rollup.locator("input[name='region']").input_value() == region
    assert page.locator("main div:has(> h1) > span.badge[title]").count() == 0, (
        f"{MONTH} is closed already: another test uses this month"
    )

    # Recompute the month from the page; the job page follows the progress to the end.
    with page.expect_navigation():
        rollup.locator("button[type='submit']").click()
    match = re.fullmatch(rf"{re.escape(base)}/indikator/pekerjaan/(\d+)", page.url)
    assert match, f"the rollup was not started: {page.url}"
    job_id = int(match.group(1))
    box = page.locator(f"section[data-job-poll='/indikator/pekerjaan/{job_id}.json']")
    state = box.locator("[data-job-state]")
    bar = box.locator("[role='progressbar']")
    if server.sends_to_broker:
        assert shown_state(state) == "antre"
    server.run_queued_job(job_id)
    wait_until_ended(  # finished (a green bar) or failed (a red one)
        page,
        box,
        "box => ['bg-success', 'bg-danger'].some("
        "c => box.querySelector('[data-job-bar]').classList.contains(c))",
        lambda: " · ".join(
            box.locator("[data-job-state], [data-job-bar], [data-job-message]").all_inner_texts()
        ),
    )
    assert shown_state(state) == "selesai", box.locator("[data-job-message]").inner_text()
    assert bar.get_attribute("aria-valuenow") == "100"
    assert box.locator("[data-job-bar]").inner_text().strip() == "100%"
    assert "bg-success" in (box.locator("[data-job-bar]").get_attribute("class") or "")
    assert re.match(r"^\d+ ", box.locator("[data-job-message]").inner_text().strip())
    page.wait_for_function(  # the bar fills its track once its width transition has ended
        "el => el.firstElementChild.getBoundingClientRect().width"
        " >= el.getBoundingClientRect().width - 2",
        arg=bar.element_handle(),
    )
    screenshot(page, "60-indicators-rollup-done")

    # Back on the dashboard: the headline cards.
    with page.expect_navigation():
        page.locator(f"main a[href='{dashboard}']").click()
    assert page.url == f"{base}{dashboard}"
    cards = page.locator("article.ind-card")
    assert cards.count() >= 1, "no headline indicators after the rollup"
    comma_values = 0
    for card in cards.all():
        href = card.locator("h3 a").get_attribute("href") or ""
        code = href.split("?")[0].rsplit("/", 1)[-1]
        text = card.locator(".ind-number").inner_text().strip()
        if text == "—":
            reason = card.locator("p.text-muted").first
            assert reason.count() == 1 and reason.inner_text().strip(), f"{code}: no reason"
        elif text == "<5":
            assert code.startswith("jumlah_"), f"{code}: <5 on a rate"
        elif code.startswith("jumlah_"):
            assert COUNT.match(text), f"{code}: {text!r}"
        else:
            assert RATE.match(text), f"{code}: {text!r} is not in Indonesian number format"
            comma_values += 1
    assert comma_values >= 1, "no headline rate shows a value with a decimal comma"
    headline_rate = (
        page.locator(f"article.ind-card:has(a[href^='/indikator/{INDICATOR}?']) .ind-number")
        .inner_text()
        .strip()
    )

    # The charts are drawn, and each table holds the same numbers.
    charts = [c for c in page.evaluate(CHARTS_JS) if c["id"].startswith(("bd-", "trend-"))]
    assert charts, "no chart on the dashboard"
    for chart in charts:
        assert chart["shown"] and chart["painted"], f"chart {chart['id']} is not drawn"
        check_chart_matches_table(chart, table_rows(page, chart["id"]))
    table = page.locator("details[data-chart-table='bd-jenis_kelamin']")
    assert table.get_attribute("open") is None, "the table stays open beside its chart"
    table.locator(":scope > summary").click()
    assert table.locator("table").is_visible()

    # Small counts: every 1-4 of the month is "<5" in its breakdown, and no cell shows 1-4.
    figures = cli_figures(server, region)
    breakdown = page.locator("section[aria-labelledby='h-breakdown']")
    for cell in breakdown.locator("tbody td").all_inner_texts():
        text = cell.strip()
        if COUNT.match(text):
            assert not 1 <= int(id_number(text)) <= 4, f"a small count is shown: {text}"
    for dimension in ("jenis_kelamin", "kelompok_umur", "jenis_kasus", "jenis_kekerasan"):
        small = [
            f
            for f in figures
            if f["code"] == f"korban_menurut_{dimension}"
            and f.get("breakdown")
            and 1 <= int(f["numerator"] or 0) <= 4
        ]
        cells = [r[1] for r in table_rows(page, f"bd-{dimension}")]
        assert cells.count("<5") >= len(small), (dimension, small, cells)
    screenshot(page, "61-indicators-dashboard")

    # Close the month: the tick box, the browser's confirmation, then the closed badge.
    with page.expect_navigation():
        page.locator(f"main a[href='/indikator/tutup?period={MONTH}&region={region}']").click()
    close_form = page.locator("form[action='/indikator/tutup']")
    close_form.locator("input[name='confirm']").check()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        close_form.locator("button[type='submit']").click()
    assert page.url == f"{base}{dashboard}", page.url
    assert page.locator("main > .alert-success[role='alert']").is_visible()
    assert page.locator("main div:has(> h1) > span.badge[title]").is_visible()
    assert page.locator("main a[href^='/indikator/tutup?']").count() == 0
    screenshot(page, "62-indicators-closed")

    # The monthly report of the closed month as XLSX, then as PDF.
    download = request_report(page, server, region, "xlsx")
    screenshot(page, "63-indicators-report-ready")
    saved, response = download_report(page, download, tmp_path)
    assert saved.name == f"laporan-{region.replace('.', '')}-{MONTH}.xlsx"
    assert response.status == 200
    disposition = response.headers.get("content-disposition", "")
    assert disposition.startswith("attachment") and ".xlsx" in disposition, disposition
    assert zipfile.is_zipfile(saved) and "xl/workbook.xml" in zipfile.ZipFile(saved).namelist()

    from openpyxl import load_workbook

    workbook = load_workbook(saved, read_only=True)
    first = workbook.worksheets[0]
    texts = [str(v) for row in first.iter_rows(values_only=True) for v in row if v is not None]
    workbook.close()
    assert any("RAHASIA" in t for t in texts), texts[:5]

    # The PDF through the re-authentication a sign-in older than five minutes is asked for.
    download = request_report(page, server, region, "pdf")
    page.goto(f"{base}/masuk/ulang?next={download.get_attribute('href')}")
    saved, response = download_report(page, password_confirmed(page), tmp_path)
    assert saved.name == f"laporan-{region.replace('.', '')}-{MONTH}.pdf"
    assert response.status == 200
    assert response.headers.get("content-type", "").startswith("application/pdf")
    assert saved.read_bytes().startswith(b"%PDF-"), saved.read_bytes()[:40]

    # The command line prints the numerator and denominator the detail page shows.
    page.goto(f"{base}{dashboard}")
    with page.expect_navigation():
        page.locator(f"article.ind-card a[href^='/indikator/{INDICATOR}?']").click()
    assert page.url == f"{base}/indikator/{INDICATOR}?period={MONTH}&region={region}"
    value_box = page.locator("section[aria-labelledby='h-value']")
    assert value_box.locator(".ind-number").inner_text().strip() == headline_rate
    shown = value_box.locator("dl > dd").evaluate_all(
        "dds => dds.slice(0, 2).map(d => d.firstChild.textContent.trim())"
    )
    row = next(
        f for f in cli_figures(server, region) if f["code"] == INDICATOR and "breakdown" not in f
    )
    assert row["value"] is not None and id_number(headline_rate) == decimal.Decimal(row["value"])
    for text, exact in zip(shown, (row["numerator"], row["denominator"]), strict=True):
        assert exact is not None, row
        if text == "<5":
            # a suppressed cell (domain.md §6.7) stands for 1 to 4: a hidden 0 or 5+ fails here
            assert 1 <= decimal.Decimal(str(exact)) <= 4, (text, row)
        else:
            assert id_number(text) == decimal.Decimal(str(exact)), (text, row)
