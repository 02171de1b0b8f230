"""The deployment files of ``deploy/`` keep attachments and reports on persistent storage that
every process shares and the backup covers, and Redis keeps its queue across a restart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")  # PyYAML comes with bandit (dev dependency)

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
UPLOADS, REPORTS = "/var/lib/simpul/uploads", "/var/lib/simpul/reports"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def mounts(service: dict) -> dict[str, str]:
    """Mount point → named volume."""
    return {
        target: source for source, target in (v.split(":")[:2] for v in service.get("volumes", []))
    }


@pytest.mark.parametrize("name", ["web", "worker", "migrate"])
def test_compose_services_keep_files_on_the_shared_named_volumes(compose, name):
    service = compose["services"][name]
    env = service["environment"]
    assert env["APP_ENV"] == "production"
    assert (env["UPLOAD_DIR"], env["REPORT_DIR"]) == (UPLOADS, REPORTS)
    on = mounts(service)
    assert on[UPLOADS] == "uploads" and on[REPORTS] == "reports"
    assert {"uploads", "reports"} <= set(compose["volumes"])


def test_the_image_creates_both_mount_points_for_the_service_user():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert UPLOADS in dockerfile and REPORTS in dockerfile


def test_compose_redis_keeps_its_queue_across_a_restart(compose):
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_the_environment_example_sets_both_directories():
    example = (DEPLOY / "simpul.env.example").read_text()
    assert re.search(rf"^UPLOAD_DIR={UPLOADS}$", example, re.M)
    assert re.search(rf"^REPORT_DIR={REPORTS}$", example, re.M)


@pytest.mark.parametrize("unit", ["web", "worker", "beat", "outbox"])
def test_systemd_units_create_and_may_write_both_directories(unit):
    text = (DEPLOY / "systemd" / f"simpul-{unit}.service").read_text()
    state = re.search(r"^StateDirectory=(.*)$", text, re.M)
    assert state and {"simpul/uploads", "simpul/reports"} <= set(state.group(1).split())
    assert re.search(r"^ReadWritePaths=/var/lib/simpul$", text, re.M)


def test_the_backup_job_and_the_restore_drill_cover_the_files():
    runbook = (ROOT / "docs" / "operations.md").read_text()
    assert "--directory=/var/lib/simpul uploads reports" in runbook  # the backup job's tar
    assert "simpul_reports" in runbook  # the compose backup
    assert "attachments check" in runbook  # the restore drill compares files and rows
    assert "appendonly yes" in runbook  # Redis persistence outside compose
    drill = (ROOT / "scripts" / "drills" / "backup_restore.sh").read_text()
    assert "attachments check" in drill
