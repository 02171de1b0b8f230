"""``flask cases import FILE.jsonl [--dry-run] [--as EMAIL]`` (interfaces.md §2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.cases.models import Case
from app.extensions import db
from app.workflow.models import CaseTransition
from tests.cases.test_import import (
    EXAMPLE,
    counts,
    example,
    just_received,
    line,
    terminated,
    victim,
)
from tests.cases.test_import import world as world_fixture

world = world_fixture

SUMMARY = "imported {}, skipped {} (already present), rejected {}"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def write(tmp_path):
    def write(*lines: str, name: str = "cases.jsonl") -> Path:
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


def invoke(runner, path, *extra):
    return runner.invoke(args=["cases", "import", str(path), *extra])


def case_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_a_good_file(world, english_cli, runner, write):
    path = write(EXAMPLE.replace("\n", ""), line(terminated()), "", line(just_received()))
    result = invoke(runner, path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [SUMMARY.format(3, 0, 0)]
    assert case_count() == 3


def test_bad_lines_are_listed_the_good_ones_import_and_the_exit_code_says_so(
    world, english_cli, runner, write
):
    path = write(
        line(example()),
        line(victim(example(external_id="legacy-2"), consents=[])),
        "{not json",
        line(just_received()),
    )
    result = invoke(runner, path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "line 2: victims[0].consents: A case past asesmen needs the victim's consent to services "
        "(purpose layanan, decision setuju).",
        "line 3: not valid JSON (Expecting property name enclosed in double quotes, column 2)",
        SUMMARY.format(2, 0, 2),
    ]
    assert case_count() == 2


def test_running_the_same_file_again_imports_nothing_new(world, english_cli, runner, write):
    path = write(line(example()), line(terminated()), line(just_received()))
    assert invoke(runner, path).output.strip() == SUMMARY.format(3, 0, 0)
    before = counts()
    second = invoke(runner, path)
    assert second.exit_code == 0
    assert second.output.strip() == SUMMARY.format(0, 3, 0)
    assert counts() == before


def test_a_dry_run_reports_the_same_counts_and_writes_nothing(world, english_cli, runner, write):
    path = write(line(example()), line(example(agency="NOPE")), line(terminated()))
    before = counts()
    dry = invoke(runner, path, "--dry-run")
    assert dry.exit_code == 1
    assert dry.output.splitlines()[-1] == SUMMARY.format(2, 0, 1)
    assert "nothing was written" in dry.output
    assert counts() == before

    real = invoke(runner, path)
    assert real.output.splitlines()[-1] == SUMMARY.format(2, 0, 1)
    assert [x for x in dry.output.splitlines() if x.startswith("line ")] == [
        x for x in real.output.splitlines() if x.startswith("line ")
    ]
    assert case_count() == 2


def test_as_email_makes_the_user_the_actor_of_the_history(world, english_cli, runner, write):
    result = invoke(runner, write(line(example())), "--as", "Data@Contoh.go.id")
    assert result.exit_code == 0, result.output
    rows = db.session.scalars(select(CaseTransition)).all()
    assert len(rows) == 4
    assert {(r.actor_id, r.actor_label, r.kind) for r in rows} == {
        (world.officer.id, "user", "import")
    }


def test_by_default_the_system_actor_imports(world, english_cli, runner, write):
    assert invoke(runner, write(line(example()))).exit_code == 0
    rows = db.session.scalars(select(CaseTransition)).all()
    assert {(r.actor_id, r.actor_label) for r in rows} == {(None, "import")}


def test_an_unknown_user_imports_nothing(world, english_cli, runner, write):
    result = invoke(runner, write(line(example())), "--as", "nobody@contoh.go.id")
    assert result.exit_code != 0
    assert result.output.strip() == "Error: No active user has the email nobody@contoh.go.id."
    assert case_count() == 0


def test_a_missing_file(world, english_cli, runner, tmp_path):
    result = invoke(runner, tmp_path / "absent.jsonl")
    assert result.exit_code != 0
    assert result.output.strip().startswith("Error: ")
    assert "absent.jsonl: no such file" in result.output


def test_reasons_follow_the_default_locale(world, app, runner, write):
    """Without the English override, the command speaks the app's default locale (Indonesian);
    the summary line is part of the interface and stays as it is."""
    result = invoke(runner, write(line(example(received_at="2025-03-14T09:30:00"))))
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == SUMMARY.format(0, 0, 1)
    assert result.output.startswith("line 1: received_at: ")
