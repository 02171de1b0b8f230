"""factory_boy factories writing through the test's session (flushed, never committed)."""

from __future__ import annotations

from functools import cache
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.agencies.models import Agency, AgencyService, SubTaskForce, TaskForce
from app.auth.models import RoleGrant, User
from app.auth.passwords import hash_password
from app.core.enums import AgencyType, RegionLevel, Role, ServiceType, SubTaskForceKey
from app.extensions import db
from app.regions.models import Population, Region

TEST_PASSWORD = "kuda-laut biru menyanyi di pagi hari"


@cache
def test_password_hash() -> str:
    return hash_password(TEST_PASSWORD)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class ProvinceFactory(BaseFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"{(n % 60) + 11:02d}")
    name = factory.Sequence(lambda n: f"Provinsi Uji {n}")
    level = RegionLevel.PROVINSI
    parent = None


class KabkotaFactory(BaseFactory):
    class Meta:
        model = Region

    parent = factory.SubFactory(ProvinceFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}.{(n % 99) + 1:02d}")
    name = factory.Sequence(lambda n: f"Kabupaten Uji {n}")
    level = RegionLevel.KABKOTA


class KecamatanFactory(BaseFactory):
    class Meta:
        model = Region

    parent = factory.SubFactory(KabkotaFactory)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.parent.code}.{(n % 99) + 1:02d}")
    name = factory.Sequence(lambda n: f"Kecamatan Uji {n}")
    level = RegionLevel.KECAMATAN


class AgencyFactory(BaseFactory):
    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"AGENCY-{n:04d}")
    name = factory.Sequence(lambda n: f"Lembaga Uji {n}")
    type = AgencyType.UPTD_PPA
    region = factory.SubFactory(KabkotaFactory)

    @factory.post_generation
    def services(self, create: bool, extracted: list[ServiceType] | None, **kwargs: Any) -> None:
        for service_type in extracted or []:
            self.services.append(AgencyService(service_type=service_type))
        if create and extracted:
            db.session.flush()


class TaskForceFactory(BaseFactory):
    class Meta:
        model = TaskForce

    region = factory.SubFactory(KabkotaFactory)
    name = factory.LazyAttribute(lambda o: f"GT P2TPPO {o.region.name}")

    @factory.post_generation
    def with_sub_task_forces(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        for key in SubTaskForceKey:
            self.sub_task_forces.append(SubTaskForce(key=key))
        if create:
            db.session.flush()


class PopulationFactory(BaseFactory):
    class Meta:
        model = Population

    region = factory.SubFactory(KabkotaFactory)
    year = 2025
    sex = "P"
    age_from = 0
    age_to = 17
    count = 1000


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"pengguna{n}@contoh.go.id")
    name = factory.Sequence(lambda n: f"Pengguna Uji {n}")
    password_hash = factory.LazyFunction(test_password_hash)
    active = True

    @factory.post_generation
    def roles(self, create: bool, extracted: list[tuple[Role, Any]] | None, **kwargs: Any) -> None:
        """``roles=[(Role.ADMIN, agency), (Role.KOORDINATOR_SUBGT, sub_task_force)]``"""
        for role, scope in extracted or []:
            if role is Role.KOORDINATOR_SUBGT:
                self.grants.append(RoleGrant(role=role, sub_task_force=scope))
            else:
                self.grants.append(RoleGrant(role=role, agency=scope))
        if create and extracted:
            db.session.flush()
