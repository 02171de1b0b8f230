"""The administration pages of regions and population: access, happy paths, form errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.enums import Role
from app.extensions import db
from app.regions import operations as ops
from app.regions.models import Population
from app.regions.queries import get_region_by_code
from tests.factories import AgencyFactory, UserFactory
from tests.fixtures import login_as


@pytest.fixture
def data(tree, actor):
    """The tree of conftest with 2025 figures for 91.71, kept by a commit: a request answered
    with an error status rolls back whatever was not committed before it (in tests the commit
    only releases a savepoint of the test's transaction, which is rolled back at the end)."""
    rows = [
        ("P", 0, 17, 20_000),
        ("P", 18, None, 40_000),
        ("L", 0, 17, 20_000),
        ("L", 18, None, 38_000),
    ]
    pops = [ops.upsert_population("91.71", 2025, *row, actor=actor)[0] for row in rows]
    db.session.commit()
    return SimpleNamespace(**vars(tree), pop=pops[0], pops=pops)


@pytest.fixture
def en(admin_client):
    """The admin's client, in English."""
    assert admin_client.post("/bahasa", data={"locale": "en"}).status_code == 302
    return admin_client


def page(response) -> str:
    return response.get_data(as_text=True)


ROUTES = [
    ("GET", "/admin/wilayah"),
    ("GET", "/admin/wilayah/baru"),
    ("POST", "/admin/wilayah/baru"),
    ("GET", "/admin/wilayah/{kec}"),
    ("POST", "/admin/wilayah/{kec}"),
    ("GET", "/admin/penduduk"),
    ("GET", "/admin/penduduk/wilayah/{kab}/baru"),
    ("POST", "/admin/penduduk/wilayah/{kab}/baru"),
    ("GET", "/admin/penduduk/{pop}"),
    ("POST", "/admin/penduduk/{pop}"),
    ("POST", "/admin/penduduk/{pop}/hapus"),
]


def url(template: str, data) -> str:
    return template.format(kec=data.kec.id, kab=data.kab.id, pop=data.pop.id)


def test_the_access_tests_cover_every_route(app):
    rules = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("regions.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    expected = {
        (
            method,
            template.replace("{kec}", "<int:region_id>")
            .replace("{kab}", "<int:region_id>")
            .replace("{pop}", "<int:population_id>"),
        )
        for method, template in ROUTES
    }
    assert rules == expected


@pytest.mark.parametrize(("method", "template"), ROUTES)
def test_anonymous_people_are_sent_to_sign_in(client, data, method, template):
    response = client.open(url(template, data), method=method)
    assert response.status_code == 302
    assert "/masuk" in response.headers["Location"]


@pytest.mark.parametrize(("method", "template"), ROUTES)
def test_a_user_without_the_permission_is_refused(client, data, method, template):
    user = UserFactory(
        roles=[(Role.MANAJER_KASUS, AgencyFactory()), (Role.ANALIS_DATA, AgencyFactory())]
    )
    login_as(client, user)
    response = client.open(url(template, data), method=method, data={"count": "1"})
    assert response.status_code == 403
    assert data.pop.count == 20_000


def test_admin_navigation_links_to_both_pages(admin_client):
    home = page(admin_client.get("/beranda"))
    assert 'href="/admin/wilayah"' in home and 'href="/admin/penduduk"' in home


def test_other_roles_do_not_see_the_links(client):
    login_as(client, UserFactory(roles=[(Role.MANAJER_KASUS, AgencyFactory())]))
    home = page(client.get("/beranda"))
    assert "/admin/wilayah" not in home and "/admin/penduduk" not in home


# --- regions: list -------------------------------------------------------------------------


def test_the_list_shows_regions_with_links(admin_client, data):
    response = admin_client.get("/admin/wilayah?q=91")
    assert response.status_code == 200
    html = page(response)
    for region in (data.prov, data.kab, data.kec, data.desa, data.kab2):
        assert f'href="/admin/wilayah/{region.id}"' in html
    assert f"/admin/wilayah?induk={data.prov.id}" in html  # link to its 2 children
    assert "table-responsive" in html


def test_the_list_filters_by_level(admin_client, data):
    html = page(admin_client.get("/admin/wilayah?q=91&tingkat=kabkota"))
    assert f'href="/admin/wilayah/{data.kab.id}"' in html
    assert f'href="/admin/wilayah/{data.kab2.id}"' in html
    assert f'href="/admin/wilayah/{data.kec.id}"' not in html
    assert f'href="/admin/wilayah/{data.prov.id}"' not in html


def test_an_unknown_level_filter_is_ignored(admin_client, data):
    assert "91.71.01" in page(admin_client.get("/admin/wilayah?q=91&tingkat=negara"))


def test_the_children_of_a_region_with_breadcrumbs(admin_client, data):
    html = page(admin_client.get(f"/admin/wilayah?induk={data.kec.id}"))
    assert "breadcrumb" in html
    assert f'href="/admin/wilayah?induk={data.prov.id}"' in html
    assert f'href="/admin/wilayah?induk={data.kab.id}"' in html
    assert "Desa Uji" in html and "Kabupaten Lain" not in html
    assert f"/admin/wilayah/baru?induk={data.kec.id}" in html


def test_the_list_is_paginated_by_50(en, data, actor):
    for n in range(2, 57):
        ops.upsert_region(f"91.71.{n:02d}", f"Kecamatan {n}", "kecamatan", "91.71", actor=actor)
    first = page(en.get(f"/admin/wilayah?induk={data.kab.id}"))
    assert "91.71.50" in first and "91.71.51" not in first
    assert "Page 1 of 2" in first
    second = page(en.get(f"/admin/wilayah?induk={data.kab.id}&page=2"))
    assert "91.71.56" in second and "91.71.02" not in second


def test_an_unknown_parent_is_404(admin_client, data):
    assert admin_client.get("/admin/wilayah?induk=999999").status_code == 404


# --- regions: create -----------------------------------------------------------------------


def test_the_create_form_is_prefilled_under_a_parent(admin_client, data):
    html = page(admin_client.get(f"/admin/wilayah/baru?induk={data.kec.id}"))
    assert 'value="91.71.01."' in html
    assert 'value="desa" selected' in html or 'selected value="desa"' in html


def test_creating_a_region(admin_client, admin_user, data):
    response = admin_client.post(
        "/admin/wilayah/baru",
        data={
            "level": "kecamatan",
            "code": "91.71.02",
            "name": "Kecamatan  Dua",
            "parent_code": "91.71",
        },
    )
    assert response.status_code == 302
    region = get_region_by_code("91.71.02")
    assert response.headers["Location"].endswith(f"/admin/wilayah/{region.id}")
    assert region.name == "Kecamatan Dua" and region.parent.code == "91.71"
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "region.create", AuditEntry.object_id == str(region.id)
        )
    )
    assert entry.actor_id == admin_user.id


def test_creating_a_province(admin_client):
    response = admin_client.post(
        "/admin/wilayah/baru",
        data={"level": "provinsi", "code": "93", "name": "Provinsi Baru", "parent_code": ""},
    )
    assert response.status_code == 302
    assert get_region_by_code("93").parent is None


@pytest.mark.parametrize(
    ("form", "message", "field"),
    [
        ({"level": "kabkota", "code": "91.7", "parent_code": "91"}, "NN.NN", "code"),
        ({"level": "kabkota", "code": "92.71", "parent_code": "91"}, "must start with 91.", "code"),
        ({"level": "kabkota", "code": "91.71", "parent_code": "91"}, "already exists", "code"),
        (
            {"level": "kecamatan", "code": "91.71.05", "parent_code": ""},
            "needs a parent region",
            "parent_code",
        ),
        (
            {"level": "kecamatan", "code": "91.71.05", "parent_code": "91"},
            "must be a Regency/City",
            "parent_code",
        ),
        ({"level": "negara", "code": "91", "parent_code": ""}, "Not a valid choice", "level"),
        ({"level": "kabkota", "code": "", "parent_code": "91"}, "This field is required", "code"),
    ],
)
def test_a_refused_region_is_shown_on_its_field(en, data, form, message, field):
    response = en.post("/admin/wilayah/baru", data={"name": "Nama", **form})
    assert response.status_code == 422
    html = page(response)
    assert message in html
    assert f'id="{field}"' in html and "is-invalid" in html
    assert get_region_by_code("91.71.05") is None


def test_a_refused_region_is_shown_in_indonesian_by_default(admin_client, data):
    response = admin_client.post(
        "/admin/wilayah/baru",
        data={"level": "kabkota", "code": "91.7", "name": "Nama", "parent_code": "91"},
    )
    assert response.status_code == 422
    assert "NN.NN" in page(response) and 'lang="id"' in page(response)


# --- regions: edit -------------------------------------------------------------------------


def test_the_edit_page_carries_the_version(admin_client, data):
    html = page(admin_client.get(f"/admin/wilayah/{data.kec.id}"))
    assert 'name="version" type="hidden" value="1"' in html or 'value="1"' in html
    assert 'value="Kecamatan Uji"' in html
    assert f'href="/admin/wilayah?induk={data.kab.id}"' in html  # breadcrumbs
    assert "/admin/penduduk?wilayah=91.71.01" in html


def test_renaming_a_region(admin_client, data):
    response = admin_client.post(
        f"/admin/wilayah/{data.kec.id}", data={"name": "Kecamatan Baru", "version": "1"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/wilayah/{data.kec.id}")
    assert data.kec.name == "Kecamatan Baru" and data.kec.version == 2


def test_a_stale_version_is_refused(en, data):
    en.post(f"/admin/wilayah/{data.kec.id}", data={"name": "Pertama", "version": "1"})
    response = en.post(f"/admin/wilayah/{data.kec.id}", data={"name": "Kedua", "version": "1"})
    assert response.status_code == 422
    assert "Someone else changed this region" in page(response)
    assert data.kec.name == "Pertama"


@pytest.mark.parametrize("version", ["", "abc"])
def test_a_missing_version_is_refused(admin_client, data, version):
    response = admin_client.post(
        f"/admin/wilayah/{data.kec.id}", data={"name": "Lain", "version": version}
    )
    assert response.status_code == 422
    assert data.kec.name == "Kecamatan Uji"


def test_an_empty_name_is_refused(en, data):
    response = en.post(f"/admin/wilayah/{data.kec.id}", data={"name": "  ", "version": "1"})
    assert response.status_code == 422
    assert "This field is required" in page(response)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_region_is_404(admin_client, method):
    response = admin_client.open(
        "/admin/wilayah/999999", method=method, data={"name": "x", "version": "1"}
    )
    assert response.status_code == 404


# --- population ----------------------------------------------------------------------------


def test_the_population_page_without_a_region_asks_for_one(admin_client):
    response = admin_client.get("/admin/penduduk")
    assert response.status_code == 200
    assert 'name="wilayah"' in page(response)


def test_the_population_page_shows_rows_and_totals(en, data):
    response = en.get("/admin/penduduk?wilayah=91.71&tahun=2025")
    assert response.status_code == 200
    html = page(response)
    assert "60,000" in html  # women
    assert "40,000" in html  # children 0-17
    assert "118,000" in html  # everyone
    assert "38,000" in html
    for pop in data.pops:
        assert f'action="/admin/penduduk/{pop.id}/hapus"' in html
        assert f'href="/admin/penduduk/{pop.id}"' in html
    assert "data-confirm=" in html
    assert "table-responsive" in html


def test_numbers_are_in_indonesian_format_by_default(admin_client, data):
    html = page(admin_client.get("/admin/penduduk?wilayah=91.71&tahun=2025"))
    assert "118.000" in html


def test_the_latest_year_is_shown_by_default(admin_client, data, actor):
    ops.upsert_population("91.71", 2023, "P", 0, None, 7_777, actor=actor)
    html = page(admin_client.get("/admin/penduduk?wilayah=91.71"))
    assert "118.000" in html and "7.777" not in html
    assert "/admin/penduduk?wilayah=91.71&amp;tahun=2023" in html


def test_a_total_that_cannot_be_computed_says_why(en, data, actor):
    for sex, age_from, age_to in [("P", 0, 19), ("P", 20, None), ("L", 0, 17), ("L", 18, None)]:
        ops.upsert_population("91.71.01", 2025, sex, age_from, age_to, 100, actor=actor)
    html = page(en.get("/admin/penduduk?wilayah=91.71.01&tahun=2025"))
    assert "Cannot be computed" in html
    assert "spans ages 17 and 18" in html


def test_an_unknown_region_code_is_404_with_a_message(en):
    response = en.get("/admin/penduduk?wilayah=99.99")
    assert response.status_code == 404
    assert "No region has the code 99.99" in page(response)


def test_adding_a_population_row(admin_client, data):
    response = admin_client.post(
        f"/admin/penduduk/wilayah/{data.kec.id}/baru",
        data={"year": "2025", "sex": "L", "age_from": "18", "age_to": "", "count": "5000"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/penduduk?wilayah=91.71.01&tahun=2025")
    pop = db.session.scalar(select(Population).where(Population.region_id == data.kec.id))
    assert (pop.sex.value, pop.age_from, pop.age_to, pop.count) == ("L", 18, None, 5000)


def test_the_add_form_is_prefilled_with_the_year(admin_client, data):
    html = page(admin_client.get(f"/admin/penduduk/wilayah/{data.kab.id}/baru?tahun=2024"))
    assert 'value="2024"' in html


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"age_from": "10", "age_to": "20"}, "overlap the range 0\u201317"),
        ({"age_from": "0", "age_to": "4"}, "There is already a row for ages from 0"),
        ({"count": "-1"}, "cannot be negative"),
        ({"count": "banyak"}, "Enter a whole number."),
        ({"age_to": "3", "age_from": "30"}, "The highest age must be between"),
        ({"year": "1850"}, "The year must be between 1900 and 2200"),
        ({"count": ""}, "This field is required"),
    ],
)
def test_a_refused_population_row_is_shown(en, data, form, message):
    values = {"year": "2025", "sex": "P", "age_from": "30", "age_to": "", "count": "1"}
    values.update(form)
    response = en.post(f"/admin/penduduk/wilayah/{data.kab.id}/baru", data=values)
    assert response.status_code == 422
    assert message in page(response)
    assert "is-invalid" in page(response)
    assert len(db.session.scalars(select(Population)).all()) == 4


def test_adding_to_an_unknown_region_is_404(admin_client):
    assert admin_client.get("/admin/penduduk/wilayah/999999/baru").status_code == 404


def test_editing_a_count(admin_client, data):
    html = page(admin_client.get(f"/admin/penduduk/{data.pop.id}"))
    assert 'value="20000"' in html
    response = admin_client.post(f"/admin/penduduk/{data.pop.id}", data={"count": "21000"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/penduduk?wilayah=91.71&tahun=2025")
    assert data.pop.count == 21_000
    assert db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "population.update", AuditEntry.object_id == str(data.pop.id)
        )
    ).changes == {"count": [20_000, 21_000]}


def test_a_negative_count_is_refused(en, data):
    response = en.post(f"/admin/penduduk/{data.pop.id}", data={"count": "-3"})
    assert response.status_code == 422
    assert "cannot be negative" in page(response)
    assert data.pop.count == 20_000


def test_deleting_a_row(admin_client, data):
    pop_id = data.pop.id
    response = admin_client.post(f"/admin/penduduk/{pop_id}/hapus")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/penduduk?wilayah=91.71&tahun=2025")
    assert db.session.get(Population, pop_id) is None
    assert db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "population.delete", AuditEntry.object_id == str(pop_id)
        )
    )


def test_deleting_needs_post(admin_client, data):
    assert admin_client.get(f"/admin/penduduk/{data.pop.id}/hapus").status_code == 405


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/penduduk/999999"),
        ("POST", "/admin/penduduk/999999"),
        ("POST", "/admin/penduduk/999999/hapus"),
    ],
)
def test_an_unknown_population_row_is_404(admin_client, method, path):
    assert admin_client.open(path, method=method, data={"count": "1"}).status_code == 404


# --- the English interface -----------------------------------------------------------------


def test_the_pages_speak_english_when_chosen(en, data):
    assert "<h1" in page(en.get("/admin/wilayah")) and "Regions" in page(en.get("/admin/wilayah"))
    assert "New region" in page(en.get("/admin/wilayah/baru"))
    html = page(en.get(f"/admin/wilayah/{data.kec.id}"))
    assert "District (kecamatan)" in html and 'lang="en"' in html
    html = page(en.get("/admin/penduduk?wilayah=91.71"))
    assert "Children (ages 0\u201317)" in html and "Female" in html
    assert "Number of residents" in page(en.get(f"/admin/penduduk/{data.pop.id}"))


def test_flash_messages_follow_the_language(en, data):
    response = en.post(
        f"/admin/wilayah/{data.kec.id}",
        data={"name": "Nama Baru", "version": "1"},
        follow_redirects=True,
    )
    assert "The region has been saved." in page(response)
