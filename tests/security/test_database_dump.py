"""A database dump holds none of the identities entered (issue #7 item 4), while the blind
indexes still find them. Runs on committed data in databases of its own, dumped with pg_dump."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DB_NAME, database_url, make_app

pytestmark = [pytest.mark.postgres, pytest.mark.demo_database]

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def pg_dump(database: str) -> str:
    assert shutil.which("pg_dump"), "pg_dump (PostgreSQL client) is not on PATH"
    url = make_url(database_url())
    env = {"PGPASSWORD": url.password} if url.password else {}
    result = subprocess.run(
        [
            "pg_dump",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "--no-owner",
            database,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**_path_env(), **env},
        timeout=120,
    )
    return result.stdout


def _path_env() -> dict[str, str]:
    import os

    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@pytest.fixture
def dump_app(app: Flask) -> Iterator[Flask]:
    """An application on a fresh database of this test, dropped afterwards."""
    from flask_migrate import upgrade

    from app import celery_init_app
    from app.extensions import db

    name = f"{TEST_DB_NAME}_dump"
    server = make_url(database_url())
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    scratch = make_app(DATABASE_URL=server.set(database=name).render_as_string(False))
    celery_init_app(app)  # building another app rebinds the shared Celery app: give it back
    try:
        with scratch.app_context():
            upgrade()
            yield scratch
            db.session.remove()
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


IDENTITIES: dict[str, Any] = {
    "victim": "Kinanti Larasati Wiraguna",
    "nik": "3273016607950004",
    "victim_phone": "0857 4412 9083",
    "address": "Jl. Kenari Sunyi No. 88",
    "reporter": "Bagaskara Hadiwijoyo",
    "reporter_phone": "0821 7760 3314",
    "kronologi": "Korban Kinanti dipukul di dapur pada malam Lebaran",
    "guardian": "Sekar Ayu Pramesti",
    "perpetrator": "Dharmawangsa Kertajaya",
    "witness": "Panembahan Srigading",
    "second_victim": "Ratih Kumalasari Wiraguna",
    "second_nik": "3273014212080002",
    # with sex and region, an exact birth date picks out nearly every victim of a dump
    "birth_date": "1995-07-26",
    "second_birth_date": "2008-12-02",
}


def test_a_database_dump_holds_no_seeded_identity(dump_app):
    from app.cases.intake import ConsentData, GuardianData, PerpetratorData, VictimData
    from app.cases.queries import find_duplicates
    from app.extensions import db
    from tests.factories import AgencyFactory
    from tests.factories.cases import RECEIVED, create_case

    i = IDENTITIES
    agency = AgencyFactory()
    case = create_case(
        agency,
        reporter_kind="pihak_ketiga",
        reporter_name=i["reporter"],
        reporter_phone=i["reporter_phone"],
        reporter_relation="paman",
        kronologi=i["kronologi"],
        victims=[
            VictimData(
                sex="P",
                name=i["victim"],
                nik=i["nik"],
                birth_date=dt.date.fromisoformat(i["birth_date"]),
                phone=i["victim_phone"],
                address=i["address"],
                violence_types=["fisik"],
                consents=[
                    ConsentData(
                        purpose="layanan", decision="setuju", given_by="korban", at=RECEIVED
                    )
                ],
            ),
            VictimData(
                sex="P",
                name=i["second_victim"],
                nik=i["second_nik"],
                birth_date=dt.date.fromisoformat(i["second_birth_date"]),
                violence_types=["psikis"],
                guardians=[GuardianData(name=i["guardian"], relation="ibu")],
                consents=[
                    ConsentData(
                        purpose="layanan",
                        decision="setuju",
                        given_by="wali",
                        given_by_name=i["guardian"],
                        at=RECEIVED,
                    )
                ],
            ),
        ],
        perpetrators=[
            PerpetratorData(
                name=i["perpetrator"], sex="L", age=40, relationships={1: "suami_istri"}
            )
        ],
        witnesses=[(i["witness"], None)],
    )
    db.session.commit()
    agency_id, case_id = agency.id, case.id

    dump = pg_dump(make_url(dump_app.config["SQLALCHEMY_DATABASE_URI"]).database or "")
    assert "CREATE TABLE public.victims" in dump  # a real dump of the schema and the data
    assert "enc1:" in dump
    leaked = [label for label, value in i.items() if value in dump]
    assert leaked == [], f"the dump holds these identities in clear: {leaked}"
    # nor any part of a name of the victims longer than a common word
    for part in (*i["victim"].split(), *i["perpetrator"].split()):
        assert part not in dump, part

    # the blind indexes still find the person, by NIK and by name + birth date
    db.session.remove()
    by_nik = find_duplicates(agency_id, name=None, birth_date=None, nik=i["nik"])
    assert [(hit.case.id, hit.matched_on) for hit in by_nik] == [(case_id, "nik")]
    by_name = find_duplicates(
        agency_id,
        name=i["second_victim"].upper(),
        birth_date=dt.date(2008, 12, 2),
        nik=None,
    )
    assert [(hit.case.id, hit.victim.name) for hit in by_name] == [(case_id, i["second_victim"])]


def _post_form(client: Any, page_url: str, action: str, data: dict[str, str]) -> Any:
    page = client.get(page_url).get_data(as_text=True)
    tokens = CSRF.findall(page)
    if tokens:
        data = {**data, "csrf_token": tokens[0]}
    return client.post(action, data=data)


def test_the_demo_database_dump_holds_no_demo_victim_name(demo_app):
    """The 240 demo cases are loaded through the same models: their names are encrypted too,
    and the case list still finds a case by the victim's full name (blind index)."""
    from app.auth.models import User
    from app.cases.models import Case, Victim
    from app.demo import data
    from app.extensions import db, limiter

    with demo_app.app_context():
        limiter.reset()
        staff = {name for (name,) in db.session.execute(sa.select(User.name))}
        supervisor = db.session.scalar(sa.select(User).where(User.email == data.USERS[3][0]))
        agency_ids = {g.agency_id for g in supervisor.grants}
        rows = db.session.execute(
            sa.select(Victim.name, Case.reference, Case.agency_id)
            .join(Case)
            .where(Victim.name.is_not(None), Case.reference.is_not(None))
            .order_by(Victim.id)
        ).all()
        # no birth date is stored readable (with sex and region it re-identifies a victim)
        stored_dates = db.session.scalars(
            sa.select(sa.type_coerce(Victim.birth_date, sa.Text)).where(
                Victim.birth_date.is_not(None)
            )
        ).all()
        db.session.remove()
    assert len(stored_dates) > 50
    assert all(d.startswith("enc1:") for d in stored_dates)
    names = [(name, ref, agency) for name, ref, agency in rows if name not in staff]
    assert len(names) > 100
    dump = pg_dump(make_url(demo_app.config["SQLALCHEMY_DATABASE_URI"]).database or "")
    leaked = sorted({name for name, _, _ in names if name in dump})
    assert leaked == [], f"the demo dump holds {len(leaked)} victim names in clear"

    name, reference, _ = next(n for n in names if n[2] in agency_ids)
    client = demo_app.test_client()
    response = _post_form(
        client, "/masuk", "/masuk", {"email": data.USERS[3][0], "password": data.DEMO_PASSWORD}
    )
    assert response.status_code == 302
    # the search posts the name (never in an address); the blind index still finds the case
    page = _post_form(client, "/kasus", "/kasus/cari", {"q": name}).get_data(as_text=True)
    assert reference in page
