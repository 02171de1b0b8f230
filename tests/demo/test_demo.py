"""`flask demo load` builds the demo city and changes nothing when run again."""

from sqlalchemy import func, select

from app.agencies.models import Agency, SubTaskForce, SubTaskForceMember, TaskForce
from app.audit.models import AuditEntry
from app.auth.models import User
from app.core.enums import AgencyType, RegionLevel, Role
from app.extensions import db
from app.regions.models import Population, Region
from app.regions.queries import get_region_by_code


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_load_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    snapshot = {m.__name__: count(m) for m in (Region, Agency, TaskForce, SubTaskForce,
                                               SubTaskForceMember, User, Population, AuditEntry)}
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "created" not in second.output.split("Demo logins")[0]
    assert "updated" not in second.output.split("Demo logins")[0]
    assert {m: count(globals()[m]) for m in snapshot} == snapshot
    assert "admin@simpul.demo" in second.output


def test_demo_city_has_what_the_issue_asks_for(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    city = get_region_by_code("32.73")
    kecamatan = [r for r in city.children if r.level is RegionLevel.KECAMATAN]
    assert len(kecamatan) >= 5
    assert all(any(c.level is RegionLevel.DESA for c in k.children) for k in kecamatan)
    types = set(db.session.scalars(select(Agency.type)))
    assert types == set(AgencyType)
    task_force = db.session.scalar(select(TaskForce).where(TaskForce.region_id == city.id))
    assert len(task_force.sub_task_forces) == 6
    assert all(stf.members for stf in task_force.sub_task_forces)
    roles = {g.role for u in db.session.scalars(select(User)) for g in u.grants}
    assert roles == set(Role)
    years = set(db.session.scalars(select(Population.year).where(Population.region_id == city.id)))
    assert {2024, 2025, 2026} <= years


def test_city_population_is_the_sum_of_its_kecamatan(app):
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    city = get_region_by_code("32.73")
    kec_ids = [r.id for r in city.children]
    city_total = db.session.scalar(
        select(func.sum(Population.count)).where(Population.region_id == city.id,
                                                 Population.year == 2025))
    kec_total = db.session.scalar(
        select(func.sum(Population.count)).where(Population.region_id.in_(kec_ids),
                                                 Population.year == 2025))
    assert city_total == kec_total > 500_000
