"""The rollup computes every definition once per period for all regions (``grouped.py``); the
per-region statements of ``compute.py`` are the reference. On rich worlds both must give the same
figure for every (definition, region, breakdown) — numerator, denominator and reason — and a
rollup by one path must find every value stored by the other unchanged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.audit.operations import SystemActor
from app.core.enums import CaseState, ReferralState, ServiceType, TrackState
from app.deadlines.models import Deadline
from app.deadlines.rules import DeadlineCode
from app.extensions import db
from app.indicators.compute import region_tree
from app.indicators.definitions import current_definitions, sync_definitions
from app.indicators.grouped import compute_all
from app.indicators.models import IndicatorValue
from app.indicators.operations import regions_under, rollup
from app.indicators.periods import parse
from app.privacy.models import VictimRestriction
from app.referrals.models import Referral
from tests.factories import AgencyFactory, KabkotaFactory, KecamatanFactory, ProvinceFactory
from tests.indicators import test_history_end_to_end as history
from tests.indicators.test_compute import (
    ACTOR,
    ALL_SERVICES,
    close_as_duplicate,
    done,
    person,
    register,
    standard_population,
    track,
    wib,
)
from tests.indicators.test_history_end_to_end import ALL_SCENARIOS, import_cases

world = history.world  # the fixture: regions, agencies and population of the history scenarios

SYSTEM = SystemActor("t")


def stored(period: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    db.session.expire_all()
    return {
        (v.definition_id, v.region_id, v.breakdown): (v.numerator, v.denominator, v.reason)
        for v in db.session.scalars(select(IndicatorValue).where(IndicatorValue.period == period))
    }


def assert_same(app: Flask, periods: list[str]) -> int:
    """Both paths agree on every figure of every region (and nationally) of each period: the
    reference rollup (``per_region``) stores its figures, the grouped computation gives exactly
    those, and a grouped rollup then finds every stored value unchanged. The number of figures
    compared."""
    sync_definitions()
    compared = 0
    by_incident = app.config.get("INDICATOR_REGION", "agency") == "incident"
    for code in periods:
        period = parse(code)
        first = rollup(code, actor=SYSTEM, per_region=True)
        reference = stored(code)
        assert first.written == len(reference) > 0
        ids = [r.id if r is not None else None for r in regions_under(None)]
        definitions = current_definitions(period.start_date)
        grouped = compute_all(definitions, period, ids, region_tree(), by_incident=by_incident)
        figures = {
            (definition_id, region_id, breakdown): (
                result.numerator,
                result.denominator,
                result.reason,
            )
            for (definition_id, region_id), results in grouped.items()
            for breakdown, result in results.items()
        }
        assert set(figures) == set(reference), code
        for key, want in reference.items():
            assert figures[key] == want, (code, key)
        compared += len(reference)
        second = rollup(code, actor=SYSTEM)
        assert (second.written, second.revised, second.unchanged) == (0, 0, len(reference))
        assert stored(code) == reference
    return compared


# the reference is slow (regions x definitions statements): the periods that cover the
# scenarios — the year, and the month across the new-year edge in Jakarta — once by the
# agency's region and the year by the incident's (test_history_end_to_end checks the production
# path's figures of every period against the expected values)
@pytest.mark.parametrize(
    ("region_rule", "periods"),
    [("agency", ["2025", "2026-01"]), ("incident", ["2025"])],
)
def test_grouped_equals_per_region_on_the_history_scenarios(
    app: Flask, world: Path, region_rule: str, periods: list[str]
) -> None:
    records = [r for build, _ in ALL_SCENARIOS for r in build()]
    import_cases(app, world, records)
    app.config["INDICATOR_REGION"] = region_rule
    try:
        assert assert_same(app, periods) > 400 * len(periods)
    finally:
        app.config["INDICATOR_REGION"] = "agency"


@pytest.mark.parametrize(
    ("region_rule", "periods"), [("agency", ["2025", "2025-04"]), ("incident", ["2025-Q2"])]
)
def test_grouped_equals_per_region_on_persons_refusals_referrals_and_deadlines(
    app: Flask, region_rule: str, periods: list[str]
) -> None:
    """A world for what the scenarios lack: one person a victim in two kab/kota (counted once
    nationally, once in each), refusals of statistics, restrictions, duplicates, transfers away,
    first-response deadlines and referrals, an agency in a kecamatan, a region with none."""
    from app.cases.intake import ConsentData
    from app.cases.operations import add_consent

    province = ProvinceFactory()
    kab_a, kab_b, kab_empty = (KabkotaFactory(parent=province) for _ in range(3))
    kec = KecamatanFactory(parent=kab_a)
    KecamatanFactory(parent=kab_empty)
    a = AgencyFactory(region=kab_a, services=ALL_SERVICES)
    a_kec = AgencyFactory(region=kec, services=ALL_SERVICES)
    b = AgencyFactory(region=kab_b, services=ALL_SERVICES)
    standard_population(kab_a, girls=8000, women=7000, boys=8000, men=7000)
    standard_population(kab_b, girls=500, women=400, boys=600, men=300)

    first = register(
        a, [person("P", age=30, name="Sari"), person("L", age=9)], assessed=wib(2025, 3, 20)
    )
    done(first, first.victims[0], ServiceType.PENGADUAN, wib(2025, 3, 25))
    done(first, first.victims[1], ServiceType.PENGADUAN, wib(2025, 4, 2))
    track(
        first,
        first.victims[1],
        ServiceType.MEDIASI,
        TrackState.DITOLAK_KORBAN,
        end=wib(2025, 3, 28),
    )
    # the same woman again, in another kab/kota, in April: comprehensive there, not in kab A
    again = register(
        b,
        [person("P", age=30, name="Sari")],
        received=wib(2025, 4, 3),
        assessed=wib(2025, 4, 4),
        case_types=("tppo",),
        place="tempat_kerja",
    )
    # (a person is linked within one agency at intake; across agencies the data can still hold
    # one, e.g. an agency that moved to another kab/kota — the figures must not depend on it)
    assert first.victims[0].person_id is not None
    again.victims[0].person_id = first.victims[0].person_id
    done(again, again.victims[0], ServiceType.REHABILITASI_SOSIAL, wib(2025, 4, 10))
    track(again, again.victims[0], ServiceType.BANTUAN_HUKUM, TrackState.BERJALAN)
    child = register(
        a_kec,
        [person("P", age=15, violence=("psikis", "seksual"), disability=True)],
        received=wib(2025, 3, 31, 23, 30),
        assessed=wib(2025, 4, 1),
        case_types=("ktp", "tppo"),
    )
    done(child, child.victims[0], ServiceType.REHABILITASI_KESEHATAN, wib(2025, 4, 5))
    unknown_age = register(b, [person("L", age=None, birth_date=None)], received=wib(2025, 5, 2))
    unknown_age.victims[0].age_at_incident = None
    refused = register(a, [person("P", age=44), person("P", age=12)], received=wib(2025, 6, 1))
    add_consent(
        refused.victims[0],
        ConsentData("pelaporan_statistik", "menolak", "korban", wib(2025, 6, 1)),
        actor=ACTOR,
    )
    restricted = register(b, [person("P", age=25)], received=wib(2025, 6, 2))
    db.session.add(VictimRestriction(victim_id=restricted.victims[0].id))
    copy = register(a, [person("P", age=30)], received=wib(2025, 6, 3))
    close_as_duplicate(copy, first)
    gone = register(b, [person("L", age=16)], received=wib(2025, 7, 1))
    gone.state = CaseState.DILIMPAHKAN
    gone.closed_at = gone.received_at + dt.timedelta(days=2)
    gone.closed_reason = "Dilimpahkan"
    db.session.flush()

    # first responses: met, missed, still running
    deadlines = {
        c.id: db.session.scalar(
            select(Deadline).where(Deadline.case_id == c.id, Deadline.track_id.is_(None))
        )
        for c in (first, again, child)
    }
    met, missed, _running = deadlines.values()
    assert met is not None and missed is not None
    met.completed_at = met.met_at = met.started_at + dt.timedelta(hours=2)
    missed.completed_at = missed.due_at + dt.timedelta(hours=1)
    missed.missed_at = missed.due_at

    # referrals to agencies of both kab/kota: accepted (after 5 h, 7 h and 10 h), declined,
    # answered late, one to the kecamatan's agency
    def refer(case: Any, to: Any, sent: dt.datetime, **fields: Any) -> Referral:
        service = fields.pop("service", ServiceType.PENDAMPINGAN)
        t = track(case, case.victims[0], service, TrackState.DIRUJUK)
        referral = Referral(
            case_id=case.id,
            track_id=t.id,
            from_agency_id=case.agency_id,
            to_agency_id=to.id,
            sent_at=sent,
            override_reason="Darurat",
            **fields,
        )
        db.session.add(referral)
        db.session.flush()
        return referral

    sent = wib(2025, 4, 7)
    refer(first, b, sent, state=ReferralState.DITERIMA, accepted_at=sent + dt.timedelta(hours=5))
    refer(
        again,
        a_kec,
        sent,
        state=ReferralState.DITERIMA,
        accepted_at=sent + dt.timedelta(hours=7),
        service=ServiceType.PEMULANGAN,
    )
    refer(
        child,
        a,
        sent,
        state=ReferralState.DITERIMA,
        accepted_at=sent + dt.timedelta(hours=10),
        service=ServiceType.PENDAMPINGAN_ROHANI,
    )
    declined = refer(
        first,
        a_kec,
        sent,
        state=ReferralState.DITOLAK,
        decline_reason="Penuh",
        service=ServiceType.MEDIASI,
    )
    late = refer(unknown_age, a, sent, state=ReferralState.DIKIRIM)
    db.session.add(
        Deadline(
            case_id=unknown_age.id,
            track_id=late.track_id,
            code=DeadlineCode.REFERRAL_RESPONSE,
            responsible_agency_id=a.id,
            started_at=sent,
            due_at=sent + dt.timedelta(days=1),
            missed_at=sent + dt.timedelta(days=1),
        )
    )
    assert declined.state == ReferralState.DITOLAK
    db.session.flush()

    app.config["INDICATOR_REGION"] = region_rule
    try:
        compared = assert_same(app, periods)
        # a rollup of one kab/kota (and its kecamatan) by the grouped path: nothing changes
        one = rollup(periods[-1], region_code=kab_a.code, actor=SYSTEM)
    finally:
        app.config["INDICATOR_REGION"] = "agency"
    assert compared > 150 * len(periods)
    assert one.regions == 2 and one.written == 0 and one.unchanged > 0
    # the person of two kab/kota: once nationally, once in each (not summed)
    values = stored("2025")
    code = {d.code: d.id for d in current_definitions(parse("2025").start_date)}
    women = code["jumlah_korban_perempuan"]
    if region_rule == "agency":
        assert values[(women, None, "")][0] == Decimal(1)
        assert values[(women, kab_a.id, "")][0] == Decimal(1)
        assert values[(women, kab_b.id, "")][0] == Decimal(1)
        assert values[(code["rujukan_diterima"], kab_a.id, "")][0] == Decimal(2)


def _persons_of_several_rows_world() -> tuple[Any, Any, Any]:
    """Persons with several victim rows in one agency (as the intake's duplicate check links
    them) beside persons with one row each: a woman served in one case and not in the other, a
    girl served in both (different case types, violence types and services), a woman in two
    agencies of one kab/kota; and single-row victims of every group."""
    province = ProvinceFactory()
    kab = KabkotaFactory(parent=province)
    kec = KecamatanFactory(parent=kab)
    a = AgencyFactory(region=kab, services=ALL_SERVICES)
    a_kec = AgencyFactory(region=kec, services=ALL_SERVICES)
    standard_population(kab, girls=8000, women=7000, boys=8000, men=7000)

    def linked(first: Any, again: Any) -> None:
        assert first.person_id is not None
        again.person_id = first.person_id

    one = register(
        a,
        [person("P", age=30, name="Wati"), person("P", age=12, name="Ani")],
        assessed=wib(2025, 3, 20),
    )
    done(one, one.victims[0], ServiceType.PENGADUAN, wib(2025, 3, 25))
    done(one, one.victims[1], ServiceType.PENGADUAN, wib(2025, 3, 26))
    two = register(
        a,
        [
            person("P", age=30, name="Wati"),
            person("P", age=12, name="Ani", violence=("seksual",), disability=True),
        ],
        received=wib(2025, 5, 2),
        assessed=wib(2025, 5, 3),
        case_types=("tppo",),
        place="tempat_kerja",
    )
    linked(one.victims[0], two.victims[0])
    linked(one.victims[1], two.victims[1])
    track(two, two.victims[0], ServiceType.BANTUAN_HUKUM, TrackState.BERJALAN)
    done(two, two.victims[1], ServiceType.REHABILITASI_SOSIAL, wib(2025, 5, 20))
    three = register(a_kec, [person("P", age=41, name="Tini")], received=wib(2025, 6, 9))
    four = register(
        a,
        [person("P", age=41, name="Tini", violence=("psikis", "fisik"))],
        received=wib(2025, 7, 1),
    )
    linked(three.victims[0], four.victims[0])
    singles = register(
        a,
        [person("L", age=9), person("L", age=50), person("P", age=17, violence=("psikis",))],
        received=wib(2025, 4, 4),
        assessed=wib(2025, 4, 5),
        case_types=("ktp", "tppo"),
    )
    for victim in singles.victims:
        done(singles, victim, ServiceType.PENDAMPINGAN, wib(2025, 4, 20))
    db.session.flush()
    return kab, kec, two


def test_grouped_equals_per_region_with_persons_of_several_rows_in_one_region(
    app: Flask,
) -> None:
    kab, kec, _two = _persons_of_several_rows_world()
    compared = assert_same(app, ["2025", "2025-05"])
    assert compared > 100
    values = stored("2025")
    code = {d.code: d.id for d in current_definitions(parse("2025").start_date)}
    # the woman and the girl of two cases count once each; the woman of two agencies once in
    # the kab/kota, once in its kecamatan
    assert values[(code["jumlah_korban_perempuan"], kab.id, "")][0] == Decimal(2)
    assert values[(code["jumlah_korban_perempuan"], kec.id, "")][0] == Decimal(1)
    assert values[(code["jumlah_korban_anak"], kab.id, "")][0] == Decimal(3)


def test_the_rollup_reads_the_counted_victims_once_in_as_many_statements_with_more_victims(
    app: Flask,
) -> None:
    """The period's counted victims (the refusal, restriction and comprehensive-service
    conditions of each) are evaluated once, by the statement that keeps them for the others,
    and once more for the refusals; the persons with one row are counted in SQL grouped by
    leaf, so the statements do not grow with the victims of the period."""
    import re

    from tests.sql_count import count_statements

    _persons_of_several_rows_world()
    sync_definitions()
    period = parse("2025")
    definitions = current_definitions(period.start_date)
    ids = [r.id if r is not None else None for r in regions_under(None)]
    consents = re.compile(r"\bFROM\s+consent_entries\b", re.IGNORECASE)

    def statements() -> tuple[int, int]:
        with count_statements() as counted:
            compute_all(definitions, period, ids, region_tree(), by_incident=False)
        conditions = sum(1 for s in counted.statements if consents.search(s))
        return counted.n, conditions

    before = statements()
    assert before[1] == 3, before
    _persons_of_several_rows_world()
    assert statements() == before
