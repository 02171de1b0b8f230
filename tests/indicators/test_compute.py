"""Indicator computations (domain.md §6) on fixed case histories, each figure worked out by hand
in a comment; periods (§6.6) and the exact arithmetic of ``math.py`` (§6.5-§6.7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.operations import SystemActor
from app.cases.intake import ConsentData, PerpetratorData, VictimData
from app.cases.models import Case, Victim
from app.cases.operations import add_consent
from app.core.enums import CaseState, ServiceType, TrackState
from app.deadlines.models import Deadline
from app.extensions import db
from app.indicators.compute import (
    CHILD_BANDS_MIXED,
    NO_POPULATION,
    Result,
    Scope,
    agencies_in,
    compute,
    descendants,
    region_tree,
)
from app.indicators.definitions import current_definitions, sync_definitions
from app.indicators.disclosure import suppress_table
from app.indicators.math import capaian, format_id, round_half_up, suppressed, value_of
from app.indicators.periods import PeriodError, month_containing, parse
from app.workflow.tracks import create_track
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, PopulationFactory
from tests.factories.cases import create_case

WIB = ZoneInfo("Asia/Jakarta")
ACTOR = SystemActor("test")
ALL_SERVICES = list(ServiceType)
INCIDENT = dt.date(2025, 3, 1)


def wib(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=WIB)


MARCH_14 = wib(2025, 3, 14)


# --- building histories ------------------------------------------------------------------------


def person(
    sex: str = "P",
    *,
    age: int | None = None,
    birth_date: dt.date | None = None,
    name: str | None = None,
    link: int | None = None,
    violence: tuple[str, ...] = ("fisik",),
    disability: bool = False,
) -> VictimData:
    if age is None and birth_date is None:
        age = 30
    return VictimData(
        sex=sex,
        name=name,
        age=age,
        birth_date=birth_date,
        link_person_id=link,
        violence_types=list(violence),
        disability=disability,
    )


def register(
    agency: Any,
    victims: list[VictimData],
    *,
    received: dt.datetime = MARCH_14,
    incident: dt.date | None = INCIDENT,
    assessed: dt.datetime | None = None,
    case_types: tuple[str, ...] = ("ktp",),
    place: str = "rumah_tangga",
) -> Case:
    """A registered case; every victim gave consent to services at registration. ``assessed``:
    when the assessment was completed (None: not completed)."""
    for v in victims:
        v.consents = [
            ConsentData(purpose="layanan", decision="setuju", given_by="korban", at=received)
        ]
    case = create_case(
        agency,
        actor=ACTOR,
        received_at=received,
        incident_date=incident,
        incident_place=place,
        case_types=list(case_types),
        victims=victims,
        perpetrators=[
            PerpetratorData(name="Pelaku", sex="L", age=40, relationships={1: "lainnya"})
        ],
    )
    case.assessment_completed_at = assessed
    db.session.flush()
    return case


def track(
    case: Case,
    victim: Victim,
    service: ServiceType,
    state: TrackState,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    planned: dt.datetime | None = None,
) -> Any:
    """A service track with its history: planned at ``planned`` (default: the registration),
    started at ``start``, ended at ``end``."""
    planned = planned or case.received_at
    if state is TrackState.DITOLAK_KORBAN:
        add_consent(
            victim,
            ConsentData(
                purpose=f"layanan:{service.value}",
                decision="menolak",
                given_by="korban",
                at=end or planned,
            ),
            actor=ACTOR,
        )
    if state in (TrackState.BERJALAN, TrackState.SELESAI) and start is None:
        start = planned
    result = create_track(
        case,
        victim,
        service,
        provider=case.agency,
        state=state,
        started_at=start,
        ended_at=end,
        actor=ACTOR,
    )
    result.planned_at = planned  # the track was planned then (not when the test ran)
    db.session.flush()
    return result


def done(case: Case, victim: Victim, service: ServiceType, end: dt.datetime) -> Any:
    return track(case, victim, service, TrackState.SELESAI, end=end)


def close_as_duplicate(case: Case, original: Case) -> None:
    case.state = CaseState.DITUTUP
    case.closed_at = case.received_at + dt.timedelta(days=1)
    case.closed_reason = "Duplikat"
    case.duplicate_of_id = original.id
    db.session.flush()


def results(code: str, period: str = "2025", region: Any = None) -> dict[str, Result]:
    """Compute one indicator directly (no rollup) for ``region`` (None: national)."""
    sync_definitions()
    p = parse(period)
    definition = next(d for d in current_definitions(p.start_date) if d.code == code)
    tree = region_tree()
    agency_ids = None if region is None else agencies_in(descendants(region.id, tree))
    scope = Scope(period=p, agency_ids=agency_ids, region_id=region.id if region else None)
    return compute(definition, scope, tree)


def whole(code: str, period: str = "2025", region: Any = None) -> Result:
    return results(code, period, region)[""]


def value(code: str, period: str = "2025", region: Any = None) -> Decimal | None:
    sync_definitions()
    definition = next(d for d in current_definitions(parse(period).start_date) if d.code == code)
    r = whole(code, period, region)
    return value_of(r.numerator, r.denominator, definition.scale, definition.rounding)


def nd(result: Result) -> tuple[Any, Any]:
    return (
        None if result.numerator is None else int(result.numerator),
        None if result.denominator is None else int(result.denominator),
    )


@pytest.fixture
def kab() -> Any:
    return KabkotaFactory()


@pytest.fixture
def agency(kab: Any) -> Any:
    return AgencyFactory(region=kab, services=ALL_SERVICES)


# --- §6.1 layanan komprehensif ------------------------------------------------------------------


def test_worked_example_shape_87_50(agency: Any, kab: Any) -> None:
    # §6.1 at a fifth of the scale: 8 women; 5 with every planned track selesai; 2 with one
    # selesai and one ditolak_korban; 1 with a track still open → (5 + 2) ÷ 8 x 100 = 87.50 %
    assessed = wib(2025, 3, 15)
    for i in range(8):
        case = register(agency, [person("P", age=25 + i)], assessed=assessed)
        v = case.victims[0]
        done(case, v, ServiceType.PENGADUAN, wib(2025, 3, 20))
        if i < 5:
            done(case, v, ServiceType.REHABILITASI_KESEHATAN, wib(2025, 4, 1))
        elif i < 7:
            track(
                case,
                v,
                ServiceType.REHABILITASI_SOSIAL,
                TrackState.DITOLAK_KORBAN,
                end=wib(2025, 3, 18),
            )
        else:
            track(case, v, ServiceType.BANTUAN_HUKUM, TrackState.BERJALAN)
    r = whole("pct_perempuan_layanan_komprehensif", region=kab)
    assert nd(r) == (7, 8)
    assert value("pct_perempuan_layanan_komprehensif", region=kab) == Decimal("87.50")


def test_comprehensive_counting_rules(agency: Any, kab: Any) -> None:
    assessed = wib(2025, 3, 15)
    ended = wib(2025, 4, 1)
    # W1: woman 30, one track selesai → comprehensive
    c = register(agency, [person("P", age=30)], assessed=assessed)
    done(c, c.victims[0], ServiceType.PENGADUAN, ended)
    original = c
    # W2: turns 18 on the incident day → perempuan (not anak); selesai + ditolak_korban (left
    # out of the requirement) → comprehensive
    c = register(agency, [person("P", birth_date=dt.date(2007, 3, 1))], assessed=assessed)
    assert c.victims[0].age_at_incident == 18
    done(c, c.victims[0], ServiceType.PENGADUAN, ended)
    track(c, c.victims[0], ServiceType.PENDAMPINGAN, TrackState.DITOLAK_KORBAN, end=ended)
    # W3: one person in two cases: first case comprehensive, second has an open track → counted
    # once, NOT comprehensive
    a = register(agency, [person("P", age=33, name="Ani Tiga")], assessed=assessed)
    done(a, a.victims[0], ServiceType.PENGADUAN, ended)
    b = register(
        agency,
        [person("P", age=33, name="Ani Tiga", link=a.victims[0].person_id)],
        received=wib(2025, 6, 2),
        assessed=wib(2025, 6, 3),
    )
    assert b.victims[0].person_id == a.victims[0].person_id is not None
    done(b, b.victims[0], ServiceType.PENGADUAN, wib(2025, 6, 4))
    track(b, b.victims[0], ServiceType.BANTUAN_HUKUM, TrackState.DIRUJUK)
    # W4: one person in two cases, both comprehensive → counted once, comprehensive
    a = register(agency, [person("P", age=41, name="Budi Empat")], assessed=assessed)
    done(a, a.victims[0], ServiceType.PENGADUAN, ended)
    b = register(
        agency,
        [person("P", age=41, name="Budi Empat", link=a.victims[0].person_id)],
        received=wib(2025, 7, 2),
        assessed=wib(2025, 7, 3),
    )
    done(b, b.victims[0], ServiceType.REHABILITASI_SOSIAL, wib(2025, 7, 10))
    # W5: a track dibatalkan → not comprehensive
    c = register(agency, [person("P", age=50)], assessed=assessed)
    done(c, c.victims[0], ServiceType.PENGADUAN, ended)
    track(c, c.victims[0], ServiceType.MEDIASI, TrackState.DIBATALKAN, end=ended)
    # W6: assessment not complete, its only track selesai → not comprehensive
    c = register(agency, [person("P", age=22)], assessed=None)
    done(c, c.victims[0], ServiceType.PENGADUAN, ended)
    # W7: an open track (berjalan) → not comprehensive
    c = register(agency, [person("P", age=27)], assessed=assessed)
    done(c, c.victims[0], ServiceType.PENGADUAN, ended)
    track(c, c.victims[0], ServiceType.REHABILITASI_KESEHATAN, TrackState.BERJALAN)
    # W8: a track tidak_tersedia → not comprehensive
    c = register(agency, [person("P", age=36)], assessed=assessed)
    track(c, c.victims[0], ServiceType.PEMULANGAN, TrackState.TIDAK_TERSEDIA, end=ended)
    # excluded: a case closed as a duplicate of W1's (would otherwise be comprehensive)
    dup = register(agency, [person("P", age=30)], assessed=assessed)
    done(dup, dup.victims[0], ServiceType.PENGADUAN, ended)
    close_as_duplicate(dup, original)
    # children: G1 girl of 17 (anak, NOT perempuan), all selesai → comprehensive;
    # B1 boy of 10 with an open track → not
    c = register(agency, [person("P", age=17)], assessed=assessed, case_types=("kta",))
    assert c.victims[0].age_at_incident == 17
    done(c, c.victims[0], ServiceType.PENGADUAN, ended)
    c = register(agency, [person("L", age=10)], assessed=assessed, case_types=("kta",))
    track(c, c.victims[0], ServiceType.PENDAMPINGAN, TrackState.DIRENCANAKAN)
    # an adult man: neither group
    c = register(agency, [person("L", age=40)], assessed=assessed)
    done(c, c.victims[0], ServiceType.PENGADUAN, ended)

    # perempuan: W1 ✓ W2 ✓ W3 ✗ W4 ✓ W5 ✗ W6 ✗ W7 ✗ W8 ✗ → 3 ÷ 8 x 100 = 37.50
    assert nd(whole("pct_perempuan_layanan_komprehensif", region=kab)) == (3, 8)
    assert value("pct_perempuan_layanan_komprehensif", region=kab) == Decimal("37.50")
    # anak: G1 ✓ B1 ✗ → 1 ÷ 2 x 100 = 50.00
    assert nd(whole("pct_anak_layanan_komprehensif", region=kab)) == (1, 2)
    assert value("pct_anak_layanan_komprehensif", region=kab) == Decimal("50.00")
    # counts: 8 women (persons), 2 children, 11 victims in all (duplicate excluded)
    assert nd(whole("jumlah_korban_perempuan", region=kab)) == (8, None)
    assert nd(whole("jumlah_korban_anak", region=kab)) == (2, None)
    assert nd(whole("jumlah_korban", region=kab)) == (11, None)


def test_track_completed_after_month_end_is_not_comprehensive_for_that_month(
    agency: Any, kab: Any
) -> None:
    c = register(
        agency, [person("P", age=30)], received=wib(2025, 7, 10), assessed=wib(2025, 7, 11)
    )
    done(c, c.victims[0], ServiceType.PENGADUAN, wib(2025, 8, 5))
    # 2025-07 ends 2025-08-01 00:00 WIB: the track was still open then → 0 ÷ 1
    assert nd(whole("pct_perempuan_layanan_komprehensif", "2025-07", kab)) == (0, 1)
    assert value("pct_perempuan_layanan_komprehensif", "2025-07", kab) == Decimal("0.00")
    # the year (and Q3) end later: → 1 ÷ 1 = 100.00
    assert value("pct_perempuan_layanan_komprehensif", "2025-Q3", kab) == Decimal("100.00")
    assert value("pct_perempuan_layanan_komprehensif", "2025", kab) == Decimal("100.00")


def test_assessment_completed_after_month_end_is_not_comprehensive(agency: Any, kab: Any) -> None:
    c = register(agency, [person("L", age=9)], received=wib(2025, 7, 10), assessed=wib(2025, 8, 2))
    done(c, c.victims[0], ServiceType.PENGADUAN, wib(2025, 7, 20))
    assert nd(whole("pct_anak_layanan_komprehensif", "2025-07", kab)) == (0, 1)
    assert nd(whole("pct_anak_layanan_komprehensif", "2025", kab)) == (1, 1)


def test_no_victims_gives_no_value_with_reason(agency: Any, kab: Any) -> None:
    r = whole("pct_anak_layanan_komprehensif", region=kab)
    assert r.reason
    assert value_of(r.numerator, r.denominator, 100) is None


# --- §6.2 rasio kekerasan -----------------------------------------------------------------------


def test_rates_worked_example_figures() -> None:
    # §6.2: 12 ÷ 60,000 x 100,000 = 20.00; 5 ÷ 40,000 x 100,000 = 12.50;
    # (12 + 5) ÷ (60,000 + 40,000) x 10,000 = 1.70
    assert value_of(Decimal(12), Decimal(60000), 100_000) == Decimal("20.00")
    assert value_of(Decimal(5), Decimal(40000), 100_000) == Decimal("12.50")
    assert value_of(Decimal(17), Decimal(100000), 10_000) == Decimal("1.70")


def standard_population(region: Any, *, girls: int, women: int, boys: int, men: int) -> None:
    PopulationFactory(region=region, year=2025, sex="P", age_from=0, age_to=17, count=girls)
    PopulationFactory(region=region, year=2025, sex="P", age_from=18, age_to=None, count=women)
    PopulationFactory(region=region, year=2025, sex="L", age_from=0, age_to=17, count=boys)
    PopulationFactory(region=region, year=2025, sex="L", age_from=18, age_to=None, count=men)


def test_rates_from_cases_and_population(agency: Any, kab: Any) -> None:
    # population: P 0-17 8,000; P 18+ 7,000; L 0-17 8,000; L 18+ 7,000
    # penduduk_perempuan = 8,000 + 7,000 = 15,000; penduduk_anak = 8,000 + 8,000 = 16,000
    standard_population(kab, girls=8000, women=7000, boys=8000, men=7000)
    # victims: 3 women (one in a TPPO case), 2 children (girl 10, boy 5), 1 man
    register(agency, [person("P", age=30), person("P", age=45)])
    register(agency, [person("P", age=19)], case_types=("tppo",))
    register(agency, [person("P", age=10), person("L", age=5)], case_types=("kta",))
    register(agency, [person("L", age=50)])
    # perempuan: 3 ÷ 15,000 x 100,000 = 20.00
    assert nd(whole("rasio_kekerasan_perempuan", region=kab)) == (3, 15000)
    assert value("rasio_kekerasan_perempuan", region=kab) == Decimal("20.00")
    # anak: 2 ÷ 16,000 x 100,000 = 12.50
    assert nd(whole("rasio_kekerasan_anak", region=kab)) == (2, 16000)
    assert value("rasio_kekerasan_anak", region=kab) == Decimal("12.50")
    # combined: (3 + 2) ÷ (15,000 + 16,000) x 10,000 = 1.6129… → 1.61
    assert nd(whole("rasio_kekerasan_perempuan_anak", region=kab)) == (5, 31000)
    assert value("rasio_kekerasan_perempuan_anak", region=kab) == Decimal("1.61")


def test_rate_without_population_is_missing_with_reason(agency: Any, kab: Any) -> None:
    register(agency, [person("P", age=30)])
    for code in ("rasio_kekerasan_perempuan", "rasio_kekerasan_anak"):
        r = whole(code, region=kab)
        assert r.numerator is None and r.denominator is None  # not computed, never zero
        assert r.reason == NO_POPULATION
        assert value(code, region=kab) is None
    # population of another year does not count either
    standard_population(kab, girls=1, women=1, boys=1, men=1)
    r = whole("rasio_kekerasan_perempuan", "2026", kab)
    assert r.numerator is None and r.reason


def test_population_of_the_kecamatan_is_summed_for_the_kabkota(kab: Any) -> None:
    k1 = KecamatanFactory(parent=kab)
    k2 = KecamatanFactory(parent=kab)
    standard_population(k1, girls=3000, women=7000, boys=3000, men=6000)
    standard_population(k2, girls=2000, women=8000, boys=2000, men=7000)
    agency = AgencyFactory(region=k1, services=ALL_SERVICES)
    register(agency, [person("P", age=30), person("P", age=31), person("P", age=12)])
    # kabkota: penduduk_perempuan = (3,000 + 7,000) + (2,000 + 8,000) = 20,000
    # → 2 ÷ 20,000 x 100,000 = 10.00; penduduk_anak = 6,000 + 4,000 = 10,000 → 1 ÷ 10,000 x
    # 100,000 = 10.00
    assert nd(whole("rasio_kekerasan_perempuan", region=kab)) == (2, 20000)
    assert value("rasio_kekerasan_perempuan", region=kab) == Decimal("10.00")
    assert nd(whole("rasio_kekerasan_anak", region=kab)) == (1, 10000)
    # the kecamatan of the agency on its own: 2 ÷ 10,000 x 100,000 = 20.00
    assert nd(whole("rasio_kekerasan_perempuan", region=k1)) == (2, 10000)


def test_age_bands_not_separating_children(agency: Any, kab: Any) -> None:
    # bands 0-19 and 20+: the number of 0-17 year olds cannot be known
    PopulationFactory(region=kab, year=2025, sex="P", age_from=0, age_to=19, count=9000)
    PopulationFactory(region=kab, year=2025, sex="P", age_from=20, age_to=None, count=11000)
    PopulationFactory(region=kab, year=2025, sex="L", age_from=0, age_to=19, count=9000)
    PopulationFactory(region=kab, year=2025, sex="L", age_from=20, age_to=None, count=11000)
    register(agency, [person("P", age=30), person("L", age=8)])
    r = whole("rasio_kekerasan_anak", region=kab)
    assert r.numerator is None and r.reason == CHILD_BANDS_MIXED
    r = whole("rasio_kekerasan_perempuan_anak", region=kab)
    assert r.numerator is None and r.reason == CHILD_BANDS_MIXED
    # women are still known: 1 ÷ 20,000 x 100,000 = 5.00
    assert nd(whole("rasio_kekerasan_perempuan", region=kab)) == (1, 20000)
    assert value("rasio_kekerasan_perempuan", region=kab) == Decimal("5.00")


# --- §6.3 cakupan layanan -----------------------------------------------------------------------


def test_coverage_worked_example(agency: Any, kab: Any) -> None:
    # §6.3: 25 victims (5 cases of 5); pengaduan selesai for 20 (planned, open for 2 more);
    # rehabilitasi_kesehatan selesai for 9 (planned, open for 3 more)
    victims = []
    for i in range(5):
        c = register(agency, [person("P", age=20 + j + i) for j in range(5)])
        victims += [(c, v) for v in c.victims]
    assert len(victims) == 25
    for i, (c, v) in enumerate(victims):
        if i < 20:
            done(c, v, ServiceType.PENGADUAN, wib(2025, 4, 1))
        elif i < 22:
            track(c, v, ServiceType.PENGADUAN, TrackState.BERJALAN)
        if i < 9:
            done(c, v, ServiceType.REHABILITASI_KESEHATAN, wib(2025, 5, 1))
        elif i < 12:
            track(c, v, ServiceType.REHABILITASI_KESEHATAN, TrackState.DIRENCANAKAN)
    # cakupan_pengaduan = 20 ÷ 25 x 100 = 80.00
    assert nd(whole("cakupan_pengaduan", region=kab)) == (20, 25)
    assert value("cakupan_pengaduan", region=kab) == Decimal("80.00")
    # cakupan_rehabilitasi_kesehatan = 9 ÷ 25 x 100 = 36.00
    assert nd(whole("cakupan_rehabilitasi_kesehatan", region=kab)) == (9, 25)
    assert value("cakupan_rehabilitasi_kesehatan", region=kab) == Decimal("36.00")
    # of those planned: pengaduan 20 ÷ 22 x 100 = 90.909… → 90.91; rehab 9 ÷ 12 = 75.00
    assert nd(whole("cakupan_pengaduan_direncanakan", region=kab)) == (20, 22)
    assert value("cakupan_pengaduan_direncanakan", region=kab) == Decimal("90.91")
    assert nd(whole("cakupan_rehabilitasi_kesehatan_direncanakan", region=kab)) == (9, 12)
    assert value("cakupan_rehabilitasi_kesehatan_direncanakan", region=kab) == Decimal("75.00")
    # a service nobody got: 0 ÷ 25 = 0.00; of those planned: no denominator → no value
    assert value("cakupan_mediasi", region=kab) == Decimal("0.00")
    assert value("cakupan_mediasi_direncanakan", region=kab) is None


def test_coverage_counts_only_tracks_completed_by_the_period_end(agency: Any, kab: Any) -> None:
    c = register(agency, [person("P", age=30)], received=wib(2025, 7, 10))
    done(c, c.victims[0], ServiceType.PENGADUAN, wib(2025, 8, 3))
    assert nd(whole("cakupan_pengaduan", "2025-07", kab)) == (0, 1)
    assert nd(whole("cakupan_pengaduan", "2025", kab)) == (1, 1)


# --- §6.4 counts and breakdowns -----------------------------------------------------------------


def test_counts_and_breakdowns(agency: Any, kab: Any) -> None:
    # ages 3 | 6 12 | 13 17 | 18 24 | 25 44 | 45 59 | 60 : 12 persons; sexes: 7 P, 5 L
    c1 = register(
        agency,
        [
            person("P", age=3, violence=("fisik", "psikis")),
            person("L", age=6, violence=("fisik",)),
            person("P", age=12, violence=("seksual",), disability=True),
            person("L", age=13, violence=("penelantaran",)),
        ],
        case_types=("kta",),
        place="sekolah",
    )
    register(
        agency,
        [person("P", age=17, violence=("seksual", "psikis")), person("P", age=18, name="Rina")],
        case_types=("kta", "tpks"),
    )
    c3 = register(
        agency,
        [
            person("P", age=24, violence=("trafficking",)),
            person("L", age=25, violence=("trafficking",)),
        ],
        case_types=("tppo",),
        place="lainnya",
    )
    register(agency, [person("P", age=44), person("L", age=45), person("P", age=59)])
    register(agency, [person("L", age=60, violence=("psikis",))])
    # the same person as the 18-year-old (Rina) in a second case → counted once everywhere
    rina = db.session.scalar(select(Victim).where(Victim.age_at_incident == 18))
    register(
        agency, [person("P", age=18, name="Rina", link=rina.person_id)], received=wib(2025, 9, 1)
    )
    # a duplicate of c1 is left out
    close_as_duplicate(register(agency, [person("P", age=3)]), c1)
    assert c3.id

    assert nd(whole("jumlah_korban", region=kab)) == (12, None)
    assert nd(whole("jumlah_korban_tppo", region=kab)) == (2, None)
    # women: 18, 24, 44, 59 → 4; children: 3, 6, 12, 13, 17 → 5
    assert nd(whole("jumlah_korban_perempuan", region=kab)) == (4, None)
    assert nd(whole("jumlah_korban_anak", region=kab)) == (5, None)

    def counts(code: str) -> dict[str, int]:
        return {k: int(r.numerator) for k, r in results(code, region=kab).items() if r.numerator}

    assert counts("korban_menurut_kelompok_umur") == {
        "0-5": 1,
        "6-12": 2,
        "13-17": 2,
        "18-24": 2,
        "25-44": 2,
        "45-59": 2,
        "60+": 1,
    }
    assert counts("korban_menurut_jenis_kelamin") == {"P": 7, "L": 5}
    # several types per victim: each type counts the victim once
    # fisik: 3, 6, 18(Rina, default), 44, 45, 59 → 6; psikis: 3, 17, 60 → 3; seksual: 12, 17
    # trafficking: 24, 25; penelantaran: 13
    assert counts("korban_menurut_jenis_kekerasan") == {
        "fisik": 6,
        "psikis": 3,
        "seksual": 2,
        "trafficking": 2,
        "penelantaran": 1,
    }
    assert counts("korban_menurut_disabilitas") == {"ya": 1, "tidak": 11}
    assert counts("korban_menurut_tempat_kejadian") == {
        "sekolah": 4,
        "rumah_tangga": 6,
        "lainnya": 2,
    }
    # case types: kta 6 (4 + 2), tpks 2, tppo 2, ktp 4 (44, 45, 59, 60) — Rina's second case is
    # ktp but she is the same person as in the kta/tpks case: counted in both categories
    assert counts("korban_menurut_jenis_kasus") == {"kta": 6, "tpks": 2, "tppo": 2, "ktp": 5}


def test_first_response_within_deadline(agency: Any, kab: Any) -> None:
    cases = [register(agency, [person("P", age=30 + i)]) for i in range(3)]
    rows = [
        db.session.scalar(
            select(Deadline).where(Deadline.case_id == c.id, Deadline.track_id.is_(None))
        )
        for c in cases
    ]
    assert all(rows)
    # two met, one missed → 2 ÷ 3 x 100 = 66.666… → 66.67
    for row in rows[:2]:
        row.completed_at = row.met_at = row.started_at + dt.timedelta(hours=1)
    rows[2].completed_at = rows[2].due_at + dt.timedelta(hours=1)
    rows[2].missed_at = rows[2].due_at
    db.session.flush()
    assert nd(whole("pct_respons_pertama_tepat_waktu", region=kab)) == (2, 3)
    assert value("pct_respons_pertama_tepat_waktu", region=kab) == Decimal("66.67")


# --- periods ------------------------------------------------------------------------------------


def test_registration_time_in_jakarta_decides_the_month(agency: Any, kab: Any) -> None:
    # 31 July 23:30 WIB = 31 July 16:30 UTC → July; 1 August 00:10 WIB = 31 July 17:10 UTC →
    # August (although it is still 31 July in UTC)
    late = wib(2025, 7, 31, 23, 30)
    early = wib(2025, 8, 1, 0, 10)
    assert early.astimezone(dt.UTC).day == 31
    register(agency, [person("P", age=30)], received=late, incident=dt.date(2025, 7, 30))
    register(
        agency,
        [person("P", age=31), person("P", age=32)],
        received=early,
        incident=dt.date(2025, 7, 30),
    )
    assert month_containing(late).code == "2025-07"
    assert month_containing(early).code == "2025-08"
    assert nd(whole("jumlah_korban", "2025-07", kab)) == (1, None)
    assert nd(whole("jumlah_korban", "2025-08", kab)) == (2, None)
    assert nd(whole("jumlah_korban", "2025-Q3", kab)) == (3, None)


def test_year_and_quarter_are_computed_from_the_cases_not_from_months(
    agency: Any, kab: Any
) -> None:
    # July: Wa comprehensive; Wb's only track ends 5 August (not by the end of July)
    # August: Wc comprehensive; Wd, We have an open track
    a = register(agency, [person("P", age=30)], received=wib(2025, 7, 5), assessed=wib(2025, 7, 6))
    done(a, a.victims[0], ServiceType.PENGADUAN, wib(2025, 7, 20))
    b = register(agency, [person("P", age=31)], received=wib(2025, 7, 8), assessed=wib(2025, 7, 9))
    done(b, b.victims[0], ServiceType.PENGADUAN, wib(2025, 8, 5))
    for i, ok in enumerate((True, False, False)):
        c = register(
            agency,
            [person("P", age=40 + i)],
            received=wib(2025, 8, 10 + i),
            assessed=wib(2025, 8, 20),
        )
        if ok:
            done(c, c.victims[0], ServiceType.PENGADUAN, wib(2025, 8, 25))
        else:
            track(c, c.victims[0], ServiceType.PENGADUAN, TrackState.BERJALAN)
    code = "pct_perempuan_layanan_komprehensif"
    # July 1 ÷ 2 = 50.00; August 1 ÷ 3 = 33.33
    assert value(code, "2025-07", kab) == Decimal("50.00")
    assert value(code, "2025-08", kab) == Decimal("33.33")
    # Q3 and the year, from the cases: Wa, Wb, Wc ✓ → 3 ÷ 5 = 60.00 — not the mean of the
    # months (41.67) nor their sum (83.33)
    for period in ("2025-Q3", "2025-S2", "2025"):
        assert nd(whole(code, period, kab)) == (3, 5)
        assert value(code, period, kab) == Decimal("60.00")
    # counts do add up
    assert nd(whole("jumlah_korban", "2025", kab)) == (5, None)


def test_period_codes() -> None:
    assert parse("2025").months == 12
    q3 = parse("2025-Q3")
    assert (q3.start_date, q3.end_date) == (dt.date(2025, 7, 1), dt.date(2025, 10, 1))
    s1 = parse("2025-S1")
    assert (s1.start_date, s1.end_date) == (dt.date(2025, 1, 1), dt.date(2025, 7, 1))
    dec = parse("2025-12")
    assert dec.end_date == dt.date(2026, 1, 1)
    # bounds are Jakarta midnights
    assert parse("2025-08").start == dt.datetime(2025, 7, 31, 17, 0, tzinfo=dt.UTC)
    for bad in ("2025-13", "2025-Q5", "2025-S3", "25", "2025-7", "", "juli"):
        with pytest.raises(PeriodError):
            parse(bad)


# --- math ---------------------------------------------------------------------------------------


def test_half_up_rounding() -> None:
    # 1 ÷ 8 x 100 = 12.5 → 13 with no decimals (banker's rounding would give 12)
    assert value_of(Decimal(1), Decimal(8), 100, places=0) == Decimal("13")
    assert round_half_up(Decimal("12.5"), 0) == Decimal("13")
    assert round_half_up(Decimal("2.125")) == Decimal("2.13")
    # as a binary float 1.005 is 1.00499999…: round(1.005, 2) == 1.0; Decimal gives 1.01
    assert round(1.005, 2) == 1.0
    assert round_half_up(Decimal("1.005")) == Decimal("1.01")
    # 1 ÷ 3 = 33.33; 2 ÷ 3 = 66.67; 1 ÷ 200 x 100 = 0.5 → 0.50
    assert value_of(Decimal(1), Decimal(3), 100) == Decimal("33.33")
    assert value_of(Decimal(2), Decimal(3), 100) == Decimal("66.67")
    assert str(value_of(Decimal(1), Decimal(200), 100)) == "0.50"
    # 1 ÷ 80,000 x 100,000 = 1.25
    assert value_of(Decimal(1), Decimal(80000), 100_000) == Decimal("1.25")
    # a value that cannot be computed
    assert value_of(Decimal(0), Decimal(0), 100) is None
    assert value_of(None, None, 100) is None
    # a count
    assert value_of(Decimal(7), None, 1, places=0) == Decimal("7")


def test_capaian_both_directions() -> None:
    # §6.5 lower-is-better: (2 x 3.20 - 2.80) ÷ 3.20 x 100 = 112.50 (not 87.50)
    assert capaian(Decimal("2.80"), Decimal("3.20"), "lower") == Decimal("112.50")
    # lower-is-better above the target: (6.40 - 4.00) ÷ 3.20 x 100 = 75.00
    assert capaian(Decimal("4.00"), Decimal("3.20"), "lower") == Decimal("75.00")
    # higher-is-better: 87.50 ÷ 80 x 100 = 109.375 → 109.38; 60 ÷ 80 = 75.00
    assert capaian(Decimal("87.50"), Decimal("80"), "higher") == Decimal("109.38")
    assert capaian(Decimal("60"), Decimal("80"), "higher") == Decimal("75.00")
    # no target, no value, target 0 or no direction → no capaian
    assert capaian(None, Decimal("80"), "higher") is None
    assert capaian(Decimal("1"), None, "higher") is None
    assert capaian(Decimal("1"), Decimal("0"), "lower") is None
    assert capaian(Decimal("1"), Decimal("2"), "none") is None


def test_indonesian_number_format() -> None:
    assert format_id(Decimal("32.83")) == "32,83"
    assert format_id(Decimal("1234.5")) == "1.234,50"
    assert format_id(Decimal("1234567.891")) == "1.234.567,89"
    assert format_id(Decimal("13"), 0) == "13"
    assert format_id(None) == "—"


def test_suppression_of_small_counts() -> None:
    for n in (1, 2, 3, 4):
        assert suppressed(Decimal(n), None)
    for n in (0, 5, 100):
        assert not suppressed(Decimal(n), None)
    # a percentage from a small numerator or a small denominator of victims is marked
    assert suppressed(Decimal(3), Decimal(40))
    assert suppressed(Decimal(0), Decimal(4))
    assert not suppressed(Decimal(35), Decimal(40))


def test_secondary_suppression() -> None:
    # one small cell with the total shown: the smallest other non-zero cell is hidden too, so
    # 3 cannot be recomputed as total - the rest
    assert suppress_table({"fisik": 3, "psikis": 10, "seksual": 7, "lainnya": 0}) == {
        "fisik": True,
        "psikis": False,
        "seksual": True,
        "lainnya": False,
    }
    # two small cells already protect each other
    assert suppress_table({"a": 3, "b": 2, "c": 10}) == {"a": True, "b": True, "c": False}
    # no total shown: only the small cell
    assert suppress_table({"a": 3, "b": 10, "c": 7}, total_shown=False) == {
        "a": True,
        "b": False,
        "c": False,
    }
    # nothing small: nothing hidden; zeros are not hidden
    assert suppress_table({"a": 0, "b": 5, "c": 9}) == {"a": False, "b": False, "c": False}


def test_a_first_response_still_running_or_cancelled_is_not_counted(agency: Any, kab: Any) -> None:
    cases = [register(agency, [person("P", age=30 + i)]) for i in range(3)]
    rows = [
        db.session.scalar(
            select(Deadline).where(Deadline.case_id == c.id, Deadline.track_id.is_(None))
        )
        for c in cases
    ]
    rows[0].completed_at = rows[0].met_at = rows[0].started_at + dt.timedelta(minutes=30)
    rows[1].cancelled_at = rows[1].started_at + dt.timedelta(minutes=10)  # the case ended first
    # rows[2] still running: not decided yet
    db.session.flush()
    # only the decided one counts: 1 ÷ 1 x 100 = 100.00
    assert nd(whole("pct_respons_pertama_tepat_waktu", region=kab)) == (1, 1)


def test_children_need_the_population_of_both_sexes(agency: Any, kab: Any) -> None:
    register(agency, [person("P", age=12)])
    PopulationFactory(region=kab, year=2025, sex="P", age_from=0, age_to=17, count=8000)
    PopulationFactory(region=kab, year=2025, sex="P", age_from=18, age_to=None, count=30000)
    # no rows for boys: the child population (both sexes) is unknown, never the girls alone
    result = whole("rasio_kekerasan_anak", region=kab)
    assert result.numerator is None and result.reason is not None
    assert whole("rasio_kekerasan_perempuan", region=kab).denominator == 38000


def test_a_victim_who_refused_statistics_is_left_out_and_counted_apart(
    agency: Any, kab: Any
) -> None:
    from app.cases.operations import add_consent

    counted = register(agency, [person("P", age=30), person("P", age=12)])
    refused = register(agency, [person("P", age=31)])
    changed_mind = register(agency, [person("P", age=32)])
    add_consent(
        refused.victims[0],
        ConsentData("pelaporan_statistik", "menolak", "korban", MARCH_14),
        actor=ACTOR,
    )
    # refused first, agreed later: the latest decision is in force, so counted
    add_consent(
        changed_mind.victims[0],
        ConsentData("pelaporan_statistik", "menolak", "korban", MARCH_14),
        actor=ACTOR,
    )
    add_consent(
        changed_mind.victims[0],
        ConsentData("pelaporan_statistik", "setuju", "korban", MARCH_14 + dt.timedelta(days=1)),
        actor=ACTOR,
    )
    db.session.flush()
    assert counted.victims and refused.victims
    # counted: the two of the first case and the one who changed her mind = 3; refused: 1
    assert whole("jumlah_korban", region=kab).numerator == 3
    assert whole("jumlah_korban_perempuan", region=kab).numerator == 2
    assert whole("jumlah_korban_menolak_statistik", region=kab).numerator == 1
    assert whole("pct_perempuan_layanan_komprehensif", region=kab).denominator == 2
