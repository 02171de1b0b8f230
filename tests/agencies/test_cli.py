from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.agencies.models import Agency, SubTaskForce, SubTaskForceMember, TaskForce
from app.agencies.queries import get_agency_by_code, get_sub_task_force
from app.audit.models import AuditEntry
from app.core.enums import AgencyType, ServiceType, SubTaskForceKey
from app.extensions import db
from tests.factories import AgencyFactory

HEADER = "code,name,type,region_code,services\n"

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "agencies.csv") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def run_import(runner, path, *extra):
    return runner.invoke(args=["agencies", "import", str(path), *extra])


def agency_count(prefix: str = "") -> int:
    return db.session.scalar(
        select(func.count()).select_from(Agency).where(Agency.code.startswith(prefix))
    )


GOOD = HEADER + (
    "UPTDPPA-9171,UPTD PPA Kota Jayapura,uptd_ppa,91.71,"
    "pengaduan;penjangkauan;rehabilitasi_sosial\n"
    'RSUD-9171,"RSUD Abepura, Jayapura",faskes,91.71.01,rehabilitasi_kesehatan\n'
    "KBRI-KL,KBRI Kuala Lumpur,perwakilan_ri,91,pemulangan; pendampingan ;\n"
    "DUKCAPIL-9103,Disdukcapil Kabupaten Jayapura,dukcapil,91.03,\n"
)


def test_import_good_file(place, runner, write):
    result = run_import(runner, write(GOOD))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 4, updated 0, unchanged 0"

    uptd = get_agency_by_code("UPTDPPA-9171")
    assert uptd.name == "UPTD PPA Kota Jayapura"
    assert uptd.type is AgencyType.UPTD_PPA
    assert uptd.region.code == "91.71"
    assert set(uptd.service_types) == {
        ServiceType.PENGADUAN,
        ServiceType.PENJANGKAUAN,
        ServiceType.REHABILITASI_SOSIAL,
    }
    assert get_agency_by_code("RSUD-9171").name == "RSUD Abepura, Jayapura"
    assert set(get_agency_by_code("KBRI-KL").service_types) == {
        ServiceType.PEMULANGAN,
        ServiceType.PENDAMPINGAN,
    }
    assert get_agency_by_code("DUKCAPIL-9103").service_types == []
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "agency", AuditEntry.object_id == str(uptd.id)
        )
    )
    assert (entry.action, entry.actor_label, entry.actor_id) == ("agency.create", "import", None)


def test_rerun_is_unchanged_and_changes_are_updates(place, runner, write):
    path = write(GOOD)
    assert run_import(runner, path).exit_code == 0
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 0, updated 0, unchanged 4"

    changed = GOOD.replace("pengaduan;penjangkauan;rehabilitasi_sosial", "pengaduan")
    result = run_import(runner, write(changed, "changed.csv"))
    assert result.output.strip() == "created 0, updated 1, unchanged 3"
    assert get_agency_by_code("UPTDPPA-9171").service_types == [ServiceType.PENGADUAN]


def test_bad_file_reports_every_bad_line_and_writes_nothing(place, runner, write):
    path = write(
        HEADER
        + (
            "uptd-bad,Lower case,uptd_ppa,91.71,\n"  # line 2
            "OK-1,Fine,uptd_ppa,91.71,pengaduan\n"  # line 3
            "OK-2,Unknown type,xyz,91.71,\n"  # line 4
            "\n"  # line 5: blank, skipped
            "OK-3,Unknown region,faskes,99.99,\n"  # line 6
            "OK-4,Unknown service,faskes,91.71,pengaduan;pijat\n"  # line 7
            "OK-5,Too few values,faskes\n"  # line 8
            "OK-1,Repeated code,uptd_ppa,91.71,\n"  # line 9
            ",No code,uptd_ppa,91.71,\n"  # line 10
            "OK-6,,uptd_ppa,91.71,\n"  # line 11: no name
        )
    )
    result = run_import(runner, path)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in lines] == [
        "line 2",
        "line 4",
        "line 6",
        "line 7",
        "line 8",
        "line 9",
        "line 10",
        "line 11",
    ]
    assert "'uptd-bad'" in lines[0]
    assert "'xyz'" in lines[1]
    assert "'99.99'" in lines[2]
    assert "'pijat'" in lines[3]
    assert "line 3" in lines[5]
    assert "8 bad row(s); nothing was imported" in result.output
    assert agency_count("OK-") == 0
    assert agency_count("uptd") == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_one_bad_row_among_good_ones_writes_nothing(place, runner, write):
    result = run_import(runner, write(GOOD + "LAST-1,Last,lainnya,91.71,bogus\n"))
    assert result.exit_code != 0
    assert "line 6: " in result.output
    assert agency_count() == 0


def test_bad_row_on_existing_agency_changes_nothing(place, runner, write):
    AgencyFactory(code="KEEP-1", name="Tetap", region=place.kota, services=[ServiceType.PENGADUAN])
    db.session.commit()
    result = run_import(
        runner, write(HEADER + "KEEP-1,Berubah,uptd_ppa,91.71,\nBAD-1,Bad,uptd_ppa,00.00,\n")
    )
    assert result.exit_code != 0
    db.session.expire_all()
    keep = get_agency_by_code("KEEP-1")
    assert keep.name == "Tetap"
    assert keep.service_types == [ServiceType.PENGADUAN]


@pytest.mark.parametrize(
    "header",
    [
        "code,name,type,region_code\n",
        "code,name,type,region,services\n",
        "code,name,type,region_code,services,extra\n",
    ],
)
def test_wrong_header_is_one_line_and_writes_nothing(place, runner, write, header):
    result = run_import(runner, write(header + "X-1,X,uptd_ppa,91.71,\n"))
    assert result.exit_code != 0
    assert result.output.count("\n") == 1
    assert "line 1:" in result.output
    assert agency_count("X-") == 0


def test_header_in_another_order_is_accepted(place, runner, write):
    result = run_import(
        runner,
        write(
            "services,region_code,type,name,code\npengaduan,91.71,uptd_ppa,Urutan Lain,ORDER-1\n"
        ),
    )
    assert result.exit_code == 0, result.output
    assert get_agency_by_code("ORDER-1").service_types == [ServiceType.PENGADUAN]


def test_missing_file_is_one_line(runner, tmp_path):
    result = run_import(runner, tmp_path / "nothing.csv")
    assert result.exit_code != 0
    assert result.output.count("\n") == 1
    assert "no such file" in result.output


def test_dry_run_writes_nothing(place, runner, write):
    result = run_import(runner, write(GOOD), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "created 4, updated 0, unchanged 0" in result.output
    assert "dry run" in result.output
    assert agency_count() == 0


def test_dry_run_with_bad_rows_fails(place, runner, write):
    result = run_import(runner, write(HEADER + "X-1,X,xyz,91.71,\n"), "--dry-run")
    assert result.exit_code != 0
    assert "line 2: " in result.output


# --- task forces ----------------------------------------------------------------------------


def test_taskforce_create(place, runner):
    result = runner.invoke(args=["agencies", "taskforce-create", "91.71"])
    assert result.exit_code == 0, result.output
    assert "6 Sub GTs" in result.output
    task_force = db.session.scalar(select(TaskForce).where(TaskForce.region_id == place.kota.id))
    assert task_force.name == "GT P2TPPO Kota Jayapura Uji"
    assert [s.key for s in task_force.sub_task_forces] == list(SubTaskForceKey)


def test_taskforce_create_with_name(place, runner):
    result = runner.invoke(args=["agencies", "taskforce-create", "91", "--name", "GT Papua"])
    assert result.exit_code == 0, result.output
    assert (
        db.session.scalar(select(TaskForce.name).where(TaskForce.region_id == place.province.id))
        == "GT Papua"
    )


@pytest.mark.parametrize("code", ["99.99", "91.71.01"])
def test_taskforce_create_refused(place, runner, code):
    result = runner.invoke(args=["agencies", "taskforce-create", code])
    assert result.exit_code != 0
    assert result.output.count("\n") == 1
    assert db.session.scalar(select(func.count()).select_from(TaskForce)) == 0


def test_taskforce_create_twice_is_refused(place, runner):
    assert runner.invoke(args=["agencies", "taskforce-create", "91.71"]).exit_code == 0
    result = runner.invoke(args=["agencies", "taskforce-create", "91.71"])
    assert result.exit_code != 0
    assert "already has a task force" in result.output
    assert db.session.scalar(select(func.count()).select_from(SubTaskForce)) == 6


def test_member_add_and_remove(place, runner):
    AgencyFactory(code="POLRES-9171", region=place.kota, type=AgencyType.KEPOLISIAN)
    db.session.commit()
    assert runner.invoke(args=["agencies", "taskforce-create", "91.71"]).exit_code == 0
    result = runner.invoke(
        args=["agencies", "member-add", "91.71", "penegakan_hukum", "POLRES-9171"]
    )
    assert result.exit_code == 0, result.output
    stf = get_sub_task_force("91.71", "penegakan_hukum")
    assert [m.agency.code for m in stf.members] == ["POLRES-9171"]

    result = runner.invoke(
        args=["agencies", "member-add", "91.71", "penegakan_hukum", "POLRES-9171"]
    )
    assert result.exit_code != 0
    assert "already a member" in result.output

    result = runner.invoke(
        args=["agencies", "member-remove", "91.71", "penegakan_hukum", "POLRES-9171"]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(SubTaskForceMember)) == 0


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["91.71", "nope", "POLRES-9171"], "unknown Sub GT key"),
        (["99.99", "penegakan_hukum", "POLRES-9171"], "no region"),
        (["91.03", "penegakan_hukum", "POLRES-9171"], "has no task force"),
        (["91.71", "penegakan_hukum", "NOBODY"], "no agency"),
        (["91.71", "penegakan_hukum", "POLRES-9103"], "outside"),
    ],
)
def test_member_add_refused(place, runner, args, reason):
    AgencyFactory(code="POLRES-9171", region=place.kota, type=AgencyType.KEPOLISIAN)
    AgencyFactory(code="POLRES-9103", region=place.kabupaten, type=AgencyType.KEPOLISIAN)
    db.session.commit()
    assert runner.invoke(args=["agencies", "taskforce-create", "91.71"]).exit_code == 0
    result = runner.invoke(args=["agencies", "member-add", *args])
    assert result.exit_code != 0
    assert result.output.count("\n") == 1, result.output
    assert reason in result.output
    assert db.session.scalar(select(func.count()).select_from(SubTaskForceMember)) == 0
