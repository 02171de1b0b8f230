"""The case list: only cases the user may see, filters, sorting, search, pagination — and never a
victim's name."""

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.agencies.models import SubTaskForce
from app.cases.intake import VictimData
from app.core.enums import CaseState, Role
from app.deadlines.models import Deadline
from app.extensions import db
from app.workflow.operations import apply_case_event
from tests.factories import AgencyFactory, TaskForceFactory, UserFactory
from tests.factories.cases import create_case
from tests.fixtures import login_as

REF = re.compile(r">([A-Z0-9-]+-\d{4}-\d{5})<")


def references(response):
    assert response.status_code == 200, response.status_code
    return REF.findall(response.get_data(as_text=True))


def adult(name="Siti Aminah", violence=("fisik",), **overrides):
    values = {"sex": "P", "name": name, "age": 30, "violence_types": list(violence)}
    values.update(overrides)
    return VictimData(**values)


@pytest.fixture
def agency():
    return AgencyFactory(code="UPTD-A")


@pytest.fixture
def other_agency():
    return AgencyFactory(code="UPTD-B")


@pytest.fixture
def staff(agency, other_agency):
    return {
        "supervisor": UserFactory(roles=[(Role.SUPERVISOR, agency)]),
        "manager": UserFactory(name="Manajer Satu", roles=[(Role.MANAJER_KASUS, agency)]),
        "manager2": UserFactory(name="Manajer Dua", roles=[(Role.MANAJER_KASUS, agency)]),
        "intake": UserFactory(roles=[(Role.PETUGAS_PENGADUAN, agency)]),
        "other_supervisor": UserFactory(roles=[(Role.SUPERVISOR, other_agency)]),
    }


@pytest.fixture
def cases(agency, other_agency, staff):
    s = staff
    return {
        # registered by the intake officer, managed by manager
        "managed": create_case(agency, actor=s["intake"], case_manager=s["manager"]),
        # registered by the intake officer, nobody manages it yet
        "unassigned": create_case(agency, actor=s["intake"]),
        # registered by manager, nobody manages it yet
        "own_unassigned": create_case(agency, actor=s["manager"]),
        # managed by another case manager
        "other_manager": create_case(agency, actor=s["intake"], case_manager=s["manager2"]),
        # another agency's
        "elsewhere": create_case(other_agency, actor=s["other_supervisor"]),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("supervisor", {"managed", "unassigned", "own_unassigned", "other_manager"}),
        ("manager", {"managed", "own_unassigned"}),
        ("manager2", {"other_manager"}),
        ("intake", {"unassigned"}),
        ("other_supervisor", {"elsewhere"}),
    ],
)
def test_list_shows_only_cases_in_scope(client, staff, cases, who, expected):
    login_as(client, staff[who])
    shown = set(references(client.get("/kasus")))
    assert shown == {cases[k].reference for k in expected}


@pytest.mark.parametrize(
    "role",
    [Role.PETUGAS_LAYANAN, Role.ANALIS_DATA, Role.PIMPINAN, Role.ADMIN, Role.KOORDINATOR_SUBGT],
)
def test_roles_without_case_access_are_forbidden(client, agency, cases, role):
    if role is Role.KOORDINATOR_SUBGT:
        task_force = TaskForceFactory(region=agency.region)
        scope = db.session.scalars(
            db.select(SubTaskForce).where(SubTaskForce.task_force_id == task_force.id)
        ).first()
    else:
        scope = agency
    login_as(client, UserFactory(roles=[(role, scope)]))
    assert client.get("/kasus").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/kasus")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]


def test_list_never_shows_victim_names(client, staff, cases):
    login_as(client, staff["supervisor"])
    html = client.get("/kasus").get_data(as_text=True)
    assert "Siti Aminah" not in html
    assert "Joko" not in html  # nor perpetrators


def test_list_columns(client, agency, staff):
    case = create_case(
        agency,
        actor=staff["intake"],
        case_manager=staff["manager"],
        risk="tinggi",
        case_types=["ktp", "tpks"],
        victims=[adult(), adult(name="Rina")],
    )
    login_as(client, staff["supervisor"])
    client.post("/bahasa", data={"locale": "en"})
    html = client.get("/kasus").get_data(as_text=True)
    row = html[html.index(case.reference) :]
    row = row[: row.index("</tr>")]
    assert "9:30" in row  # 02:30 UTC shown in Asia/Jakarta
    assert "text-bg-danger" in row  # high risk in red
    assert '<td class="text-end">2</td>' in row  # two victims, counted not named
    assert "Manajer Satu" in row
    assert "(KtP)" in row and "(TPKS)" in row  # case types by their labels


def test_drafts_are_listed_for_their_author_only(client, app, agency, staff):
    from app.cases.views import _draft_url

    draft = create_case(agency, actor=staff["intake"], draft=True)
    with app.test_request_context():
        link = f'href="{_draft_url(draft)}"'  # the intake form once it exists, else the page
    login_as(client, staff["intake"])
    html = client.get("/kasus").get_data(as_text=True)
    assert link in html
    assert "badge text-bg-secondary" in html  # the draft badge

    supervisor = app.test_client()
    login_as(supervisor, staff["supervisor"])
    html = supervisor.get("/kasus").get_data(as_text=True)
    assert link not in html and "badge text-bg-secondary" not in html


# --- filters -------------------------------------------------------------------------------


@pytest.fixture
def varied(agency, staff):
    s = staff
    return {
        "tinggi_kta": create_case(
            agency,
            actor=s["intake"],
            case_manager=s["manager"],
            risk="tinggi",
            case_types=["kta"],
            victims=[VictimData(sex="L", age=10, violence_types=["seksual"])],
            received_at=dt.datetime(2025, 1, 5, 3, tzinfo=dt.UTC),
            incident_date=None,
        ),
        "sedang_ktp": create_case(
            agency,
            actor=s["intake"],
            case_manager=s["manager2"],
            risk="sedang",
            case_types=["ktp"],
            victims=[adult(violence=("fisik",))],
            received_at=dt.datetime(2025, 2, 10, 3, tzinfo=dt.UTC),
            incident_date=None,
        ),
        "rendah_tppo": create_case(
            agency,
            actor=s["intake"],
            risk="rendah",
            case_types=["tppo"],
            victims=[adult(violence=("trafficking",))],
            received_at=dt.datetime(2025, 3, 1, 3, tzinfo=dt.UTC),
            incident_date=None,
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("risk=tinggi", {"tinggi_kta"}),
        ("risk=rendah", {"rendah_tppo"}),
        ("case_type=kta", {"tinggi_kta"}),
        ("case_type=tppo", {"rendah_tppo"}),
        ("violence_type=seksual", {"tinggi_kta"}),
        ("violence_type=fisik", {"sedang_ktp"}),
        ("received_from=2025-02-01", {"sedang_ktp", "rendah_tppo"}),
        ("received_to=2025-02-10", {"tinggi_kta", "sedang_ktp"}),
        ("received_from=2025-02-10&received_to=2025-02-10", {"sedang_ktp"}),
        ("risk=tinggi&case_type=ktp", set()),
        ("risk=bogus", {"tinggi_kta", "sedang_ktp", "rendah_tppo"}),  # unknown values ignored
        ("received_from=kemarin", {"tinggi_kta", "sedang_ktp", "rendah_tppo"}),
        ("case_manager=abc", {"tinggi_kta", "sedang_ktp", "rendah_tppo"}),
    ],
)
def test_filters(client, staff, varied, query, expected):
    login_as(client, staff["supervisor"])
    assert set(references(client.get(f"/kasus?{query}"))) == {varied[k].reference for k in expected}


def test_filter_by_state(client, staff, varied):
    varied["sedang_ktp"].state = CaseState.IDENTIFIKASI
    login_as(client, staff["supervisor"])
    assert references(client.get("/kasus?state=identifikasi")) == [varied["sedang_ktp"].reference]
    assert varied["sedang_ktp"].reference not in references(client.get("/kasus?state=diterima"))


def test_filter_by_case_manager_offers_the_agency_s_managers(client, staff, varied):
    login_as(client, staff["supervisor"])
    html = client.get("/kasus").get_data(as_text=True)
    assert "Manajer Satu" in html and "Manajer Dua" in html
    assert f'value="{staff["other_supervisor"].id}"' not in html
    found = references(client.get(f"/kasus?case_manager={staff['manager2'].id}"))
    assert found == [varied["sedang_ktp"].reference]


def test_filter_first_response_overdue(client, agency, staff):
    now = dt.datetime.now(dt.UTC)
    s = staff

    def received(risk, hours_ago):
        case = create_case(
            agency,
            actor=s["intake"],
            risk=risk,
            received_at=now - dt.timedelta(hours=hours_ago),
            incident_date=None,
            victims=[adult()],
        )
        # registered ``hours_ago``: the first-response clock (a deadline row) started then
        for deadline in db.session.scalars(select(Deadline).where(Deadline.case_id == case.id)):
            deadline.started_at -= dt.timedelta(hours=hours_ago)
            deadline.due_at -= dt.timedelta(hours=hours_ago)
        return case

    late_high = received("tinggi", 2)
    fresh_low = received("rendah", 2)
    late_medium = received("sedang", 7)
    answered = received("tinggi", 3)
    apply_case_event(
        answered.id,
        "start_identification",
        actor=s["supervisor"],
        expected_version=answered.version,
    )  # late, but done
    login_as(client, s["supervisor"])
    found = set(references(client.get("/kasus?overdue=y")))
    assert found == {late_high.reference, late_medium.reference}
    assert fresh_low.reference in references(client.get("/kasus"))
    # a first response recorded (the first step) ends the overdue state
    apply_case_event(
        late_medium.id,
        "start_identification",
        actor=s["supervisor"],
        expected_version=late_medium.version,
    )
    assert set(references(client.get("/kasus?overdue=y"))) == {late_high.reference}


# --- sorting, search, pages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["rendah_tppo", "sedang_ktp", "tinggi_kta"]),  # newest first by default
        ("received_at", ["tinggi_kta", "sedang_ktp", "rendah_tppo"]),
        ("-received_at", ["rendah_tppo", "sedang_ktp", "tinggi_kta"]),
        ("reference", ["tinggi_kta", "sedang_ktp", "rendah_tppo"]),
        ("-reference", ["rendah_tppo", "sedang_ktp", "tinggi_kta"]),
        ("-risk", ["tinggi_kta", "sedang_ktp", "rendah_tppo"]),
        ("risk", ["rendah_tppo", "sedang_ktp", "tinggi_kta"]),
    ],
)
def test_sorting(client, staff, varied, sort, order):
    login_as(client, staff["supervisor"])
    assert references(client.get(f"/kasus?sort={sort}")) == [varied[k].reference for k in order]


def test_sort_by_state(client, staff, varied):
    varied["tinggi_kta"].state = CaseState.IDENTIFIKASI
    login_as(client, staff["supervisor"])
    found = references(client.get("/kasus?sort=state"))
    assert found[0] != varied["tinggi_kta"].reference  # diterima < identifikasi
    assert references(client.get("/kasus?sort=-state"))[0] == varied["tinggi_kta"].reference


def test_sort_links_keep_the_filters_and_flip_direction(client, staff, varied):
    login_as(client, staff["supervisor"])
    html = client.get("/kasus?risk=tinggi&sort=reference").get_data(as_text=True)
    assert "risk=tinggi&amp;sort=-reference" in html
    assert "risk=tinggi&amp;sort=-risk" in html


def search(client, term, **fields):
    """The list searched by ``term``: posted, so the term never reaches a URL."""
    return client.post("/kasus/cari", data={"q": term, **fields})


def test_search_by_part_of_the_reference(client, staff, varied):
    login_as(client, staff["supervisor"])
    target = varied["sedang_ktp"].reference
    assert references(search(client, target[-5:])) == [target]
    assert references(search(client, "%")) == []  # a wildcard is a plain character


def test_search_by_the_name_of_a_victim_best_matches_first(client, agency, other_agency, staff):
    mine = create_case(agency, actor=staff["intake"], victims=[adult(name="Maria Ulfa Susanti")])
    short = create_case(agency, actor=staff["intake"], victims=[adult(name="Maria Ulfa")])
    later = create_case(agency, actor=staff["intake"], victims=[adult(name="Mariya Oelfa")])
    theirs = create_case(
        other_agency, actor=staff["other_supervisor"], victims=[adult(name="Maria Ulfa Susanti")]
    )
    login_as(client, staff["supervisor"])
    assert references(search(client, "maria  ulfa SUSANTI")) == [mine.reference]
    # a word of the name: the cases with that word, then those with a word that sounds alike
    # (the newest first within each)
    assert references(search(client, "Maria")) == [short.reference, mine.reference, later.reference]
    # the exact full name first, then every word, then every word by sound
    assert references(search(client, "maria ulfa")) == [
        short.reference,
        mine.reference,
        later.reference,
    ]
    assert references(search(client, "Mariya Oelfa")) == [
        later.reference,
        short.reference,
        mine.reference,
    ]
    in_any_order = references(search(client, "Ulfa Maria"))
    assert in_any_order == [short.reference, mine.reference, later.reference]
    html = search(client, "Maria Ulfa Susanti").get_data(as_text=True)
    assert theirs.reference not in html and "Maria Ulfa Susanti" not in html.split("value=")[0]


def test_search_keeps_the_filters_and_sorts_and_pages_by_post(client, agency, staff, varied):
    login_as(client, staff["supervisor"])
    ref = varied["tinggi_kta"].reference
    assert references(search(client, ref[:-6], risk="tinggi")) == [ref]
    assert references(search(client, ref, risk="rendah")) == []
    found = references(search(client, ref[:-6], sort_to="reference"))
    assert found == sorted(found) and len(found) == 3
    for _ in range(26):
        create_case(agency, actor=staff["intake"])
    prefix = ref[: ref.rindex("-")]  # every case of the agency and year
    first = search(client, prefix)
    assert len(references(first)) == 25
    assert 'name="page" value="2"' in first.get_data(as_text=True)
    assert len(references(search(client, prefix, page="2"))) == 4


def test_an_empty_search_goes_to_the_filters_by_get(client, staff, varied):
    login_as(client, staff["supervisor"])
    response = client.post("/kasus/cari", data={"q": "  ", "risk": "tinggi"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/kasus?risk=tinggi")


def test_a_search_term_in_the_url_is_dropped(client, staff, varied):
    login_as(client, staff["supervisor"])
    response = client.get("/kasus?q=Siti+Aminah&risk=tinggi")
    assert response.status_code == 303 and "Siti" not in response.headers["Location"]
    assert response.headers["Location"].endswith("/kasus?risk=tinggi")


def test_the_search_needs_the_csrf_token(app, client, staff, varied):
    login_as(client, staff["supervisor"])  # the suite runs with CSRF off; on for this request
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/kasus/cari", data={"q": "x"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_pages_of_25(client, agency, staff):
    for _ in range(26):
        create_case(agency, actor=staff["intake"])
    login_as(client, staff["supervisor"])
    assert len(references(client.get("/kasus"))) == 25
    assert len(references(client.get("/kasus?page=2"))) == 1
    assert references(client.get("/kasus?page=9")) == []
