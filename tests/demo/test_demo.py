"""`flask demo load` builds the demo city and changes nothing when run again."""

from sqlalchemy import func, select

from app.agencies.models import Agency, SubTaskForce, SubTaskForceMember, TaskForce
from app.audit.models import AuditEntry
from app.auth.models import RoleGrant, User
from app.cases.models import Attachment, Case, CaseNote, ConsentEntry
from app.core.enums import AgencyType, RegionLevel, Role
from app.deadlines.models import Deadline
from app.demo import data
from app.extensions import db
from app.indicators.models import IndicatorTarget, IndicatorValue
from app.notifications.models import Notification
from app.referrals.models import Referral, ReferralEvent
from app.regions.models import Population, Region
from app.regions.queries import get_region_by_code
from app.services.models import ServiceTrack
from app.workflow.models import CaseTransfer, CaseTransition

MODELS = (
    Region,
    Agency,
    TaskForce,
    SubTaskForce,
    SubTaskForceMember,
    User,
    RoleGrant,
    Population,
    Case,
    CaseTransition,
    ServiceTrack,
    ConsentEntry,
    CaseNote,
    Attachment,
    Referral,
    ReferralEvent,
    CaseTransfer,
    Deadline,
    Notification,
    IndicatorTarget,
    IndicatorValue,
    AuditEntry,
)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_load_builds_the_city_and_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    snapshot = {m.__name__: count(m) for m in MODELS}
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    summary = second.output.split("Demo logins")[0]
    assert "created" not in summary and "updated" not in summary and "imported: " not in summary
    assert {m.__name__: count(m) for m in MODELS} == snapshot
    assert "admin@simpul.demo" in second.output
    # every demo account is printed, with its role and where it works
    for email, _name, role, scope in data.USERS:
        assert f"{email:<26} {role.value:<18} {scope}" in second.output

    city = get_region_by_code("32.73")
    kecamatan = [r for r in city.children if r.level is RegionLevel.KECAMATAN]
    assert len(kecamatan) >= 5
    assert all(any(c.level is RegionLevel.DESA for c in k.children) for k in kecamatan)
    assert set(db.session.scalars(select(Agency.type))) == set(AgencyType)
    task_force = db.session.scalar(select(TaskForce).where(TaskForce.region_id == city.id))
    assert len(task_force.sub_task_forces) == 6
    assert all(stf.members for stf in task_force.sub_task_forces)
    roles = {g.role for u in db.session.scalars(select(User)) for g in u.grants}
    assert roles == set(Role)
    years = set(db.session.scalars(select(Population.year).where(Population.region_id == city.id)))
    assert {2024, 2025, 2026} <= years

    # the city's figures are the sum of its kecamatan
    kec_ids = [r.id for r in kecamatan]
    city_total = db.session.scalar(
        select(func.sum(Population.count)).where(
            Population.region_id == city.id, Population.year == 2025
        )
    )
    kec_total = db.session.scalar(
        select(func.sum(Population.count)).where(
            Population.region_id.in_(kec_ids), Population.year == 2025
        )
    )
    assert city_total == kec_total > 500_000
