"""Loading the demo data through the ordinary operations, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.agencies import operations as agency_ops
from app.agencies.models import SubTaskForceMember, TaskForce
from app.agencies.queries import get_agency_by_code, get_sub_task_force
from app.audit.operations import SystemActor
from app.auth import operations as auth_ops
from app.auth.models import User
from app.core.enums import RegionLevel, Sex
from app.demo import data
from app.demo.cases import demo_records, host_records, load_demo_cases
from app.demo.day import DAY_SERVICES, load_demo_day
from app.demo.figures import load_demo_figures
from app.extensions import db
from app.regions import operations as region_ops
from app.regions.queries import get_region_by_code


@dataclass
class DemoReport:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, outcome: str, count: int = 1) -> None:
        key = f"{kind} {outcome}"
        self.counts[key] = self.counts.get(key, 0) + count


def population_rows(year: int) -> list[tuple[str, int, Sex, int, int | None, int]]:
    """Population of every demo kecamatan and of the city (the sum) for one year."""
    rows = []
    growth = (1 + data.YEARLY_GROWTH) ** (year - data.POPULATION_YEARS[0])
    city: dict[tuple[Sex, int], int] = {}
    for suffix, residents in data.KECAMATAN_RESIDENTS.items():
        code = f"{data.KABKOTA[0]}.{suffix}"
        total = round(residents * growth)
        for (age_from, age_to), share in zip(data.AGE_BANDS, data.AGE_SHARES, strict=True):
            band = round(total * share)
            female = round(band * data.FEMALE_SHARE)
            for sex, count in ((Sex.P, female), (Sex.L, band - female)):
                rows.append((code, year, sex, age_from, age_to, count))
                city[(sex, age_from)] = city.get((sex, age_from), 0) + count
    for age_from, age_to in data.AGE_BANDS:
        for sex in (Sex.P, Sex.L):
            rows.append((data.KABKOTA[0], year, sex, age_from, age_to, city[(sex, age_from)]))
    return rows


def load_demo() -> DemoReport:
    actor = SystemActor("demo")
    report = DemoReport()

    _, outcome = region_ops.upsert_region(
        data.PROVINCE[0], data.PROVINCE[1], RegionLevel.PROVINSI, None, actor=actor
    )
    report.add("region", outcome)
    _, outcome = region_ops.upsert_region(
        data.KABKOTA[0], data.KABKOTA[1], RegionLevel.KABKOTA, data.PROVINCE[0], actor=actor
    )
    report.add("region", outcome)
    for suffix, name, villages in data.KECAMATAN:
        kec_code = f"{data.KABKOTA[0]}.{suffix}"
        _, outcome = region_ops.upsert_region(
            kec_code, name, RegionLevel.KECAMATAN, data.KABKOTA[0], actor=actor
        )
        report.add("region", outcome)
        for index, village in enumerate(villages, start=1):
            _, outcome = region_ops.upsert_region(
                f"{kec_code}.{1000 + index}", village, RegionLevel.DESA, kec_code, actor=actor
            )
            report.add("region", outcome)

    for code, name, agency_type, region_code, services in data.AGENCIES:
        _, outcome = agency_ops.upsert_agency(
            code, name, agency_type, region_code, services, actor=actor
        )
        report.add("agency", outcome)

    for region_code in (data.KABKOTA[0], data.PROVINCE[0]):
        region = get_region_by_code(region_code)
        assert region is not None
        exists = db.session.scalar(select(TaskForce).where(TaskForce.region_id == region.id))
        if exists is None:
            agency_ops.create_task_force(region, actor=actor)
            report.add("task force", "created")
        else:
            report.add("task force", "unchanged")

    for key, codes in data.MEMBERSHIPS.items():
        stf = get_sub_task_force(data.KABKOTA[0], key)
        assert stf is not None
        for code in codes:
            agency = get_agency_by_code(code)
            assert agency is not None
            member = db.session.get(SubTaskForceMember, (stf.id, agency.id))
            if member is None:
                agency_ops.add_member(stf, agency, actor=actor)
                report.add("membership", "created")
            else:
                report.add("membership", "unchanged")

    for email, name, role, scope in data.USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        outcome = "unchanged"
        if user is None:
            user = auth_ops.create_user(email, name, data.DEMO_PASSWORD, actor=actor)
            outcome = "created"
        stf = get_sub_task_force(data.KABKOTA[0], scope) if role.scoped_to_subtaskforce else None
        agency = None if stf is not None else get_agency_by_code(scope)
        held = {(g.role, g.agency_id, g.sub_task_force_id) for g in user.grants}
        scope_ids = (agency.id if agency else None, stf.id if stf else None)
        if (role, *scope_ids) not in held:
            # a demo account of an older demo database gets the grant it has now (the data
            # officer moved from the dinas to the UPTD PPA); the grants it had are kept
            auth_ops.grant_role(
                user,
                role,
                agency=agency,
                sub_task_force=stf,
                actor=actor,
                tell_supervisors=False,  # the demo's own accounts: nobody to warn
            )
            outcome = "updated" if outcome == "unchanged" else outcome
        report.add("user", outcome)

    # Each row is flushed by its operation, which then records it; the look-ups of the next
    # row need nothing of what is still pending (the previous row's audit entry), so they do not
    # flush it on their own: it is written with the next row, one flush per row instead of two.
    with db.session.no_autoflush:
        for year in data.POPULATION_YEARS:
            for region_code, yr, sex, age_from, age_to, count in population_rows(year):
                _, outcome = region_ops.upsert_population(
                    region_code, yr, sex, age_from, age_to, count, actor=actor
                )
                report.add("population row", outcome)
    records = [*demo_records(), *host_records(DAY_SERVICES)]
    load_demo_cases(report, records)
    load_demo_day(report, records)
    load_demo_figures(report)
    return report
