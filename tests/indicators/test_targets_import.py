"""Targets in bulk (interfaces.md §2, §4; domain.md §6.5): ``flask indicators targets import``,
the upload on the targets page (preview, then apply), and ``target``/``capaian`` in
``flask indicators show``."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.audit.models import AuditEntry
from app.core.enums import RegionLevel, Role
from app.extensions import db
from app.indicators.definitions import sync_definitions
from app.indicators.models import IndicatorDefinition, IndicatorTarget, IndicatorValue
from app.indicators.operations import set_target
from app.regions.models import Region
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, UserFactory
from tests.fixtures import login_as

HEADER = "region_code,year,code,target\n"


@pytest.fixture
def world() -> dict[str, Any]:
    sync_definitions()
    kab = KabkotaFactory(name="Kabupaten Target")
    kec = KecamatanFactory(parent=kab, name="Kecamatan Target")
    desa = Region(code=f"{kec.code}.2001", name="Desa Target", level=RegionLevel.DESA, parent=kec)
    db.session.add(desa)
    agency = AgencyFactory(region=kab)
    other = AgencyFactory()  # another kabupaten, another province
    db.session.flush()
    return {
        "kab": kab,
        "kec": kec,
        "desa": desa,
        "other_region": other.region,
        "analyst": UserFactory(roles=[(Role.ANALIS_DATA, agency)]),
        "leader": UserFactory(roles=[(Role.PIMPINAN, agency)]),
    }


@pytest.fixture
def run(app: Flask, tmp_path: Any) -> Any:
    runner = app.test_cli_runner()
    files = iter(range(1000))

    def invoke(text: str | bytes, *options: str) -> Any:
        path = tmp_path / f"targets{next(files)}.csv"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return runner.invoke(args=["indicators", "targets", "import", str(path), *options])

    return invoke


def stored() -> dict[tuple[str, int, str], Decimal]:
    return {
        (t.region.code, t.year, t.code): t.value
        for t in db.session.scalars(sa.select(IndicatorTarget))
    }


def audited() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "indicators.target")
            .order_by(AuditEntry.id)
        )
    )


def bad_lines(output: str) -> list[int]:
    return [int(n) for n in re.findall(r"^line (\d+): ", output, flags=re.MULTILINE)]


def reason_of(output: str, line: int) -> str:
    found = re.findall(rf"^line {line}: (.*)$", output, flags=re.MULTILINE)
    assert len(found) == 1, output
    return str(found[0])


# --- flask indicators targets import -----------------------------------------------------------


def test_target_columns() -> None:
    from app.indicators.operations import TARGET_COLUMNS

    assert TARGET_COLUMNS == ("region_code", "year", "code", "target")


def test_a_good_file_is_imported_with_decimal_targets_and_audited(
    world: dict[str, Any], run: Any
) -> None:
    kab, kec = world["kab"], world["kec"]
    text = (
        HEADER
        + f"{kab.code},2025,pct_perempuan_layanan_komprehensif,80.5\n"
        + f"{kab.code},2026,rasio_kekerasan_perempuan_anak,3.20\n"
        + f"{kec.code},2025,rasio_kekerasan_perempuan,12\n"
    )
    result = run(text)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 3, updated 0, unchanged 0"
    assert stored() == {
        (kab.code, 2025, "pct_perempuan_layanan_komprehensif"): Decimal("80.5"),
        (kab.code, 2026, "rasio_kekerasan_perempuan_anak"): Decimal("3.2"),
        (kec.code, 2025, "rasio_kekerasan_perempuan"): Decimal("12"),
    }
    assert all(isinstance(v, Decimal) for v in stored().values())
    entries = audited()
    assert len(entries) == 3
    assert {e.actor_label for e in entries} == {"import"}
    assert entries[1].changes == {
        "code": "rasio_kekerasan_perempuan_anak",
        "year": 2026,
        "value": [None, "3.20"],
    }


def test_the_same_key_replaces_the_target_and_an_equal_one_is_unchanged(
    world: dict[str, Any], run: Any
) -> None:
    from app.audit.operations import SystemActor

    kab = world["kab"]
    actor = SystemActor("test")
    set_target("pct_perempuan_layanan_komprehensif", kab, 2025, Decimal("80"), actor=actor)
    set_target("rasio_kekerasan_perempuan", kab, 2025, Decimal("3.2"), actor=actor)
    before = len(audited())
    text = (
        HEADER
        + f"{kab.code},2025,pct_perempuan_layanan_komprehensif,85.25\n"  # changed
        + f"{kab.code},2025,rasio_kekerasan_perempuan,3.20\n"  # the same number
        + f"{kab.code},2025,pct_anak_layanan_komprehensif,90\n"  # new
    )
    result = run(text)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 1, updated 1, unchanged 1"
    assert stored() == {
        (kab.code, 2025, "pct_perempuan_layanan_komprehensif"): Decimal("85.25"),
        (kab.code, 2025, "rasio_kekerasan_perempuan"): Decimal("3.2"),
        (kab.code, 2025, "pct_anak_layanan_komprehensif"): Decimal("90"),
    }
    changes = [e.changes for e in audited()[before:]]
    assert changes == [
        {"code": "pct_perempuan_layanan_komprehensif", "year": 2025, "value": ["80.0000", "85.25"]},
        {"code": "pct_anak_layanan_komprehensif", "year": 2025, "value": [None, "90"]},
    ]
    # running the file again changes nothing
    again = run(text)
    assert again.output.strip() == "created 0, updated 0, unchanged 3"


def test_a_dry_run_writes_nothing(world: dict[str, Any], run: Any) -> None:
    kab = world["kab"]
    text = (
        HEADER
        + f"{kab.code},2025,pct_perempuan_layanan_komprehensif,80\n"
        + f"{kab.code},2025,rasio_kekerasan_perempuan,3.2\n"
    )
    result = run(text, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "dry run, nothing written: created 2, updated 0, unchanged 0"
    assert stored() == {}
    assert audited() == []


def test_every_bad_line_is_reported_and_nothing_is_written(
    world: dict[str, Any], run: Any, english_cli: None
) -> None:
    kab, desa = world["kab"], world["desa"]
    good = f"{kab.code},2025,pct_perempuan_layanan_komprehensif,80\n"
    text = (
        HEADER  # line 1
        + good  # 2
        + "99.99,2025,pct_perempuan_layanan_komprehensif,80\n"  # 3: unknown region
        + f"{desa.code},2025,pct_perempuan_layanan_komprehensif,80\n"  # 4: a desa
        + f"{kab.code},1999,pct_perempuan_layanan_komprehensif,80\n"  # 5: year too early
        + f"{kab.code},2101,pct_perempuan_layanan_komprehensif,80\n"  # 6: year too late
        + f"{kab.code},dua ribu,pct_perempuan_layanan_komprehensif,80\n"  # 7: not a year
        + f"{kab.code},2025,pct_tidak_ada,80\n"  # 8: unknown code
        + f"{kab.code},2025,jumlah_korban,80\n"  # 9: no direction, no target
        + f"{kab.code},2025,pct_anak_layanan_komprehensif,-1\n"  # 10: negative
        + f'{kab.code},2025,pct_anak_layanan_komprehensif,"3,20"\n'  # 11: comma
        + f"{kab.code},2025,pct_anak_layanan_komprehensif,3.205\n"  # 12: 3 decimals
        + f"{kab.code},2025,pct_anak_layanan_komprehensif,tiga\n"  # 13: not a number
        + f"{kab.code},2025,pct_anak_layanan_komprehensif,\n"  # 14: empty
        + f"{kab.code},2025,pct_perempuan_layanan_komprehensif,81\n"  # 15: same key as line 2
        + f"{kab.code},2025,pct_anak_layanan_komprehensif\n"  # 16: a value missing
        + f"{kab.code},2025,pct_anak_layanan_komprehensif,1e3\n"  # 17: exponent
        + "\n"  # 18: blank, skipped
        + f"{kab.code},2025,rasio_kekerasan_anak,1.5\n"  # 19: good
        + f"{kab.code},2025,rasio_kekerasan_perempuan,99999999999999999\n"  # 20: too large
        + "88.88,1999,pct_tidak_ada,x\n"  # 21: everything wrong
    )
    result = run(text)
    assert result.exit_code == 1
    assert bad_lines(result.output) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21]
    out = result.output
    assert reason_of(out, 3) == "region_code: unknown region 99.99"
    assert reason_of(out, 4) == (
        f"region_code: {desa.code} is a desa; targets are set for a kecamatan or above"
    )
    assert reason_of(out, 5) == "year: 1999 is not a year from 2000 to 2100"
    assert reason_of(out, 6) == "year: 2101 is not a year from 2000 to 2100"
    assert reason_of(out, 7) == "year: dua ribu is not a year from 2000 to 2100"
    assert reason_of(out, 8) == "code: unknown indicator pct_tidak_ada"
    assert reason_of(out, 9) == (
        "code: jumlah_korban takes no target (it is neither higher- nor lower-is-better)"
    )
    assert reason_of(out, 10) == "target: -1 is negative"
    assert reason_of(out, 11) == "target: 3,20: write decimals with a dot, e.g. 3.20"
    assert reason_of(out, 12) == "target: 3.205 has more than 2 decimals"
    assert "target: tiga is not a number such as 3.20" in reason_of(out, 13)
    assert reason_of(out, 14) == "target: empty"
    assert reason_of(out, 15) == (
        f"region {kab.code}, year 2025 and code pct_perempuan_layanan_komprehensif are already "
        "on line 2"
    )
    assert reason_of(out, 16) == "expected 4 values, found 3"
    assert "target: 1e3 is not a number" in reason_of(out, 17)
    assert reason_of(out, 20) == "target: 99999999999999999 is too large"
    assert reason_of(out, 21).split("; ") == [
        "region_code: unknown region 88.88",
        "year: 1999 is not a year from 2000 to 2100",
        "code: unknown indicator pct_tidak_ada",
        "target: x is not a number such as 3.20 (a dot before at most 2 decimals)",
    ]
    assert out.strip().splitlines()[-1] == "Error: 17 bad row(s); nothing was imported"
    assert stored() == {}
    assert audited() == []


def test_reasons_are_in_indonesian_by_default(world: dict[str, Any], run: Any) -> None:
    result = run(HEADER + "99.99,2025,pct_perempuan_layanan_komprehensif,80\n")
    assert result.exit_code == 1
    assert reason_of(result.output, 2) == "region_code: wilayah 99.99 tidak dikenal"


@pytest.mark.parametrize(
    "header",
    [
        "region_code,year,code",  # missing
        "region_code,year,code,target,note",  # one too many
        "wilayah,tahun,kode,target",  # wrong names
        "",  # no header at all
    ],
)
def test_a_wrong_header_is_refused_in_one_line(
    world: dict[str, Any], run: Any, english_cli: None, header: str
) -> None:
    kab = world["kab"]
    body = f"{kab.code},2025,pct_perempuan_layanan_komprehensif,80\n" if header else ""
    result = run(header + ("\n" if header else "") + body)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    if header:
        assert "line 1: the header must be region_code,year,code,target" in lines[0]
    assert stored() == {}


def test_a_byte_order_mark_and_crlf_are_accepted(world: dict[str, Any], run: Any) -> None:
    kab = world["kab"]
    text = (HEADER + f"{kab.code},2025,pct_perempuan_layanan_komprehensif,80.00\n").replace(
        "\n", "\r\n"
    )
    result = run(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 1, updated 0, unchanged 0"
    assert stored() == {(kab.code, 2025, "pct_perempuan_layanan_komprehensif"): Decimal("80")}


def test_a_file_that_is_not_utf8_is_refused(world: dict[str, Any], run: Any) -> None:
    kab = world["kab"]
    result = run((HEADER + f"{kab.code},2025,pct_\xe9,80\n").encode("latin-1"))
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert stored() == {}


# --- the upload on the targets page -------------------------------------------------------------


def upload(client: Any, text: str | bytes, name: str = "target.csv", **extra: str) -> Any:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return client.post(
        "/indikator/target/unggah",
        data={"file": (io.BytesIO(raw), name), **extra},
        content_type="multipart/form-data",
    )


def hidden(body: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', body)
    assert found is not None, (name, body[:3000])
    return found.group(1)


def apply_data(body: str) -> dict[str, str]:
    return {name: hidden(body, name) for name in ("content", "digest", "name")}


def test_upload_previews_then_applies(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    analyst = world["analyst"]
    set_target("rasio_kekerasan_perempuan", kab, 2025, Decimal("3.5"), actor=analyst)
    set_target("pct_anak_layanan_komprehensif", kab, 2025, Decimal("90"), actor=analyst)
    before = len(audited())
    login_as(client, analyst)
    assert 'action="/indikator/target/unggah"' in client.get("/indikator/target").get_data(
        as_text=True
    )
    text = (
        HEADER
        + f"{kab.code},2025,rasio_kekerasan_perempuan,3.20\n"  # 3,5 → 3,2
        + f"{kab.code},2025,pct_anak_layanan_komprehensif,90.00\n"  # unchanged
        + f"{kab.code},2026,pct_perempuan_layanan_komprehensif,75.5\n"  # new
    )
    response = upload(client, text, "renstra-2025.csv")
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:3000]
    assert "1 baru, 1 berubah, 1 sudah tersimpan (tidak berubah)." in body
    table = body.split('id="target-changes"')[1].split("</table>")[0]
    assert "3,5" in table and "3,2" in table and "75,5" in table
    assert "Kabupaten Target" in table and "renstra-2025.csv" in body
    assert "Terapkan" in body
    # the preview wrote nothing
    assert stored()[(kab.code, 2025, "rasio_kekerasan_perempuan")] == Decimal("3.5")
    assert (kab.code, 2026, "pct_perempuan_layanan_komprehensif") not in stored()
    assert len(audited()) == before

    response = client.post("/indikator/target/unggah", data=apply_data(body))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].startswith("/indikator/target?")
    assert stored() == {
        (kab.code, 2025, "rasio_kekerasan_perempuan"): Decimal("3.2"),
        (kab.code, 2025, "pct_anak_layanan_komprehensif"): Decimal("90"),
        (kab.code, 2026, "pct_perempuan_layanan_komprehensif"): Decimal("75.5"),
    }
    entries = audited()[before:]
    assert len(entries) == 2 and {e.actor_id for e in entries} == {analyst.id}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 baru, 1 berubah, 1 tidak berubah" in page


def test_an_upload_with_bad_lines_shows_them_and_cannot_be_applied(
    world: dict[str, Any], client: Any
) -> None:
    kab = world["kab"]
    login_as(client, world["analyst"])
    text = (
        HEADER
        + f"{kab.code},2025,rasio_kekerasan_perempuan,3.20\n"
        + f"{kab.code},2025,pct_tidak_ada,3\n"
        + f"{kab.code},20x5,rasio_kekerasan_anak,1\n"
    )
    response = upload(client, text)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = body.split('id="target-errors"')[1].split("</ul>")[0]
    assert "baris 3: code: indikator pct_tidak_ada tidak dikenal" in errors
    assert "baris 4: year: 20x5 bukan tahun 2000 sampai 2100" in errors
    assert "Tidak ada yang disimpan" in body
    assert 'name="content"' not in body  # no apply button
    assert stored() == {}


def test_a_wrong_header_on_the_page_is_one_error(world: dict[str, Any], client: Any) -> None:
    login_as(client, world["analyst"])
    response = upload(client, "wilayah,tahun,kode,target\n")
    assert response.status_code == 422
    assert "baris 1: " in response.get_data(as_text=True)


def test_an_upload_without_a_file_is_refused(world: dict[str, Any], client: Any) -> None:
    login_as(client, world["analyst"])
    response = client.post("/indikator/target/unggah", data={})
    assert response.status_code == 422
    assert "Pilih berkas CSV." in response.get_data(as_text=True)


def test_a_region_outside_the_users_is_refused_and_nothing_is_written(
    world: dict[str, Any], client: Any
) -> None:
    kab, kec, other = world["kab"], world["kec"], world["other_region"]
    login_as(client, world["analyst"])
    text = (
        HEADER
        + f"{kab.code},2025,rasio_kekerasan_perempuan,3.20\n"
        + f"{other.code},2025,rasio_kekerasan_perempuan,3.20\n"
        # under the user's kabupaten, but the targets page sets them down to kabupaten/kota
        + f"{kec.code},2025,rasio_kekerasan_perempuan,3.20\n"
    )
    response = upload(client, text)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    refused = "tidak termasuk wilayah yang targetnya Anda tetapkan"
    assert f"baris 3: region_code: {other.code} {refused}" in body
    assert f"baris 4: region_code: {kec.code} {refused}" in body
    assert stored() == {}
    # an apply form forged with that content is checked again and writes nothing
    from app.indicators.views.targets import _pack

    forged = {"content": _pack(text.encode()), "digest": "0" * 64, "name": "x.csv"}
    response = client.post("/indikator/target/unggah", data=forged)
    assert response.status_code == 422
    assert stored() == {}


def test_the_upload_needs_indicators_manage(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    login_as(client, world["leader"])  # pimpinan: indicators:view, not indicators:manage
    response = upload(client, HEADER + f"{kab.code},2025,rasio_kekerasan_perempuan,3.20\n")
    assert response.status_code == 403
    assert stored() == {}


def test_the_upload_needs_the_csrf_token(
    app: Flask, world: dict[str, Any], client: Any, monkeypatch: Any
) -> None:
    kab = world["kab"]
    login_as(client, world["analyst"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    text = HEADER + f"{kab.code},2025,rasio_kekerasan_perempuan,3.20\n"
    assert upload(client, text).status_code == 400
    page = client.get("/indikator/target").get_data(as_text=True)
    upload_form = page.split('action="/indikator/target/unggah"')[1].split("</form>")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', upload_form)
    assert token is not None
    response = upload(client, text, csrf_token=token.group(1))
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:2000]
    # the apply step needs it too
    data = apply_data(body)
    assert client.post("/indikator/target/unggah", data=data).status_code == 400
    assert stored() == {}
    data["csrf_token"] = hidden(body, "csrf_token")
    assert client.post("/indikator/target/unggah", data=data).status_code == 302
    assert stored() == {(kab.code, 2025, "rasio_kekerasan_perempuan"): Decimal("3.2")}


def test_a_stale_preview_is_not_applied(world: dict[str, Any], client: Any) -> None:
    kab = world["kab"]
    login_as(client, world["analyst"])
    text = HEADER + f"{kab.code},2025,rasio_kekerasan_perempuan,3.20\n"
    body = upload(client, text).get_data(as_text=True)
    # a colleague saves a target after the preview
    set_target("rasio_kekerasan_perempuan", kab, 2025, Decimal("4"), actor=world["analyst"])
    response = client.post("/indikator/target/unggah", data=apply_data(body))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "berubah setelah pratinjau" in page
    assert stored() == {(kab.code, 2025, "rasio_kekerasan_perempuan"): Decimal("4")}
    # the new preview can be applied
    assert client.post("/indikator/target/unggah", data=apply_data(page)).status_code == 302
    assert stored() == {(kab.code, 2025, "rasio_kekerasan_perempuan"): Decimal("3.2")}


def test_a_file_too_large_for_the_page_is_refused(
    world: dict[str, Any], client: Any, monkeypatch: Any
) -> None:
    from app.indicators.views import targets as target_views

    monkeypatch.setattr(target_views, "UPLOAD_MAX_LINES", 2)
    kab = world["kab"]
    login_as(client, world["analyst"])
    lines = [f"{kab.code},{year},rasio_kekerasan_perempuan,3.20\n" for year in (2025, 2026, 2027)]
    response = upload(client, HEADER + "".join(lines))
    assert response.status_code == 422
    assert "paling banyak 2 baris" in response.get_data(as_text=True)
    assert stored() == {}
    assert upload(client, HEADER + "".join(lines[:2])).status_code == 200


def test_a_tampered_apply_form_is_refused(world: dict[str, Any], client: Any) -> None:
    login_as(client, world["analyst"])
    data = {"content": "not base64!", "digest": "0" * 64, "name": "x.csv"}
    assert client.post("/indikator/target/unggah", data=data).status_code == 400


# --- flask indicators show: target and capaian --------------------------------------------------


def put(
    code: str, region: Any, numerator: int | None, denominator: int | None, period: str
) -> None:
    definition = db.session.scalar(
        sa.select(IndicatorDefinition)
        .where(IndicatorDefinition.code == code)
        .order_by(IndicatorDefinition.version.desc())
        .limit(1)
    )
    assert definition is not None
    db.session.add(
        IndicatorValue(
            definition_id=definition.id,
            region_id=region.id,
            period=period,
            breakdown="",
            numerator=Decimal(numerator) if numerator is not None else None,
            denominator=Decimal(denominator) if denominator is not None else None,
            reason=None if numerator is not None else "Data penduduk belum ada.",
        )
    )


def target(code: str, region: Any, year: int, value: str) -> None:
    db.session.add(IndicatorTarget(code=code, region_id=region.id, year=year, value=Decimal(value)))


def show(app: Flask, region: Any, period: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    result = app.test_cli_runner().invoke(
        args=["indicators", "show", "--period", period, "--region", region.code]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    return rows, {row["code"]: row for row in rows}


def test_show_carries_target_and_capaian(app: Flask, world: dict[str, Any]) -> None:
    kab = world["kab"]
    # §6.5: target 3.20, realisasi 2.80 (28 ÷ 100,000 x 10,000), lower-is-better → 112.50
    put("rasio_kekerasan_perempuan_anak", kab, 28, 100000, "2025")
    target("rasio_kekerasan_perempuan_anak", kab, 2025, "3.2")
    # higher-is-better: 33 ÷ 40 x 100 = 82.50 against 80 → 103.125 → 103.13 (half-up)
    put("pct_perempuan_layanan_komprehensif", kab, 33, 40, "2025")
    target("pct_perempuan_layanan_komprehensif", kab, 2025, "80")
    # no target
    put("pct_anak_layanan_komprehensif", kab, 9, 10, "2025")
    # a target, but no value (no population)
    put("rasio_kekerasan_anak", kab, None, None, "2025")
    target("rasio_kekerasan_anak", kab, 2025, "10")
    # a target of 0 for a higher-is-better indicator
    put("cakupan_pengaduan", kab, 1, 2, "2025")
    target("cakupan_pengaduan", kab, 2025, "0")
    # an indicator without a direction: a stored target, never a capaian
    put("jumlah_korban", kab, 40, None, "2025")
    target("jumlah_korban", kab, 2025, "35")
    # another year's target is not this year's
    target("pct_anak_layanan_komprehensif", kab, 2024, "95")
    db.session.flush()

    rows, by_code = show(app, kab, "2025")
    lower = by_code["rasio_kekerasan_perempuan_anak"]
    assert (lower["value"], lower["target"], lower["capaian"]) == ("2.80", "3.20", "112.50")
    higher = by_code["pct_perempuan_layanan_komprehensif"]
    assert (higher["value"], higher["target"], higher["capaian"]) == ("82.50", "80.00", "103.13")
    none = by_code["pct_anak_layanan_komprehensif"]
    assert none["target"] is None and none["capaian"] is None
    no_value = by_code["rasio_kekerasan_anak"]
    assert (no_value["value"], no_value["target"], no_value["capaian"]) == (None, "10.00", None)
    zero = by_code["cakupan_pengaduan"]
    assert (zero["target"], zero["capaian"]) == ("0.00", None)
    count = by_code["jumlah_korban"]
    assert (count["target"], count["capaian"]) == ("35.00", None)
    # keys are added last; the older keys keep their order
    assert list(lower) == [
        "code",
        "definition_version",
        "region",
        "period",
        "numerator",
        "denominator",
        "scale",
        "value",
        "suppressed",
        "computed_at",
        "target",
        "capaian",
    ]
    assert all("target" in row and "capaian" in row for row in rows)


def test_a_month_uses_its_years_target(app: Flask, world: dict[str, Any]) -> None:
    kab = world["kab"]
    put("rasio_kekerasan_perempuan_anak", kab, 28, 100000, "2025-07")
    put("rasio_kekerasan_perempuan_anak", kab, 28, 100000, "2025-Q3")
    target("rasio_kekerasan_perempuan_anak", kab, 2025, "3.20")
    target("rasio_kekerasan_perempuan_anak", kab, 2026, "1")
    db.session.flush()
    for period in ("2025-07", "2025-Q3"):
        _rows, by_code = show(app, kab, period)
        row = by_code["rasio_kekerasan_perempuan_anak"]
        assert (row["target"], row["capaian"]) == ("3.20", "112.50"), period


def test_an_imported_target_shows_up_in_show(app: Flask, world: dict[str, Any], run: Any) -> None:
    kab = world["kab"]
    put("rasio_kekerasan_perempuan_anak", kab, 28, 100000, "2025")
    db.session.flush()
    assert run(HEADER + f"{kab.code},2025,rasio_kekerasan_perempuan_anak,3.20\n").exit_code == 0
    _rows, by_code = show(app, kab, "2025")
    assert by_code["rasio_kekerasan_perempuan_anak"]["capaian"] == "112.50"
