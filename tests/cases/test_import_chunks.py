"""``flask cases import`` in chunks: each chunk is committed once written, so an interrupted
import keeps what it wrote and running the same file again imports only the rest; the progress
goes to stderr; the audit chain verifies after a chunked import; a record the database refuses
inside a batch is reported on its own and the rest of its batch imports."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.operations import SystemActor
from app.audit.queries import verify_chain
from app.cases.models import Case
from app.core.errors import DomainError
from app.extensions import db
from app.intake import importing, rows
from app.workflow.models import CaseTransition
from tests.cases.test_import import EXAMPLE, counts, example, just_received, line, terminated
from tests.cases.test_import import english as english_fixture
from tests.cases.test_import import world as world_fixture

world = world_fixture
english = english_fixture

SUMMARY = "imported {}, skipped {} (already present), rejected {}"


def records(n: int) -> list[str]:
    """``n`` good lines, three kinds of record, each with its own external_id."""
    kinds = [example, terminated, just_received]
    result = []
    for i in range(n):
        record: dict[str, Any] = copy.deepcopy(kinds[i % 3]())
        record["external_id"] = f"legacy-chunk-{i + 1}"
        result.append(line(record))
    return result


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(runner, path):
    return runner.invoke(args=["cases", "import", str(path)])


def external_ids() -> list[str]:
    return sorted(db.session.scalars(select(Case.external_id)))


def test_an_interrupted_import_keeps_its_chunks_and_the_rerun_imports_only_the_rest(
    world, english_cli, runner, tmp_path, small_chunks, monkeypatch
):
    lines = records(5)
    path = write(tmp_path, lines)
    real = importing._write_batch
    calls = []

    def interrupted(batch: Any, **kwargs: Any) -> None:
        calls.append(len(batch))
        if len(calls) == 2:  # the machine goes down while the second chunk is written
            raise RuntimeError("connection lost")
        real(batch, **kwargs)

    monkeypatch.setattr(importing, "_write_batch", interrupted)
    result = invoke(runner, path)
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError)
    assert external_ids() == ["legacy-chunk-1", "legacy-chunk-2"]  # the first chunk stays

    monkeypatch.setattr(importing, "_write_batch", real)
    result = invoke(runner, path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [SUMMARY.format(3, 2, 0)]
    assert external_ids() == sorted(f"legacy-chunk-{i}" for i in range(1, 6))
    references = list(db.session.scalars(select(Case.reference)))
    assert len(set(references)) == len(references) == 5


def test_importing_the_same_file_again_changes_nothing_and_says_so(
    world, english_cli, runner, tmp_path, small_chunks
):
    path = write(tmp_path, records(5))
    assert invoke(runner, path).stdout.splitlines() == [SUMMARY.format(5, 0, 0)]
    before = counts()
    again = invoke(runner, path)
    assert again.exit_code == 0
    assert again.stdout.splitlines() == [SUMMARY.format(0, 5, 0)]
    assert counts() == before


def test_the_progress_of_a_file_of_several_chunks_goes_to_stderr(
    world, english_cli, runner, tmp_path, small_chunks
):
    path = write(tmp_path, records(5))
    result = invoke(runner, path)
    assert result.exit_code == 0
    progress = result.stderr.splitlines()
    assert [p.split(" lines:")[0] for p in progress] == ["2/5", "4/5", "5/5"]
    assert progress[0].startswith("2/5 lines: imported 2, skipped 0, rejected 0; ")
    assert "cases/s, about " in progress[0] and progress[-1].endswith("about 0 s left")
    assert result.stdout.splitlines() == [SUMMARY.format(5, 0, 0)]


def test_a_file_of_one_chunk_prints_only_its_summary(world, english_cli, runner, tmp_path):
    result = invoke(runner, write(tmp_path, records(3)))
    assert result.stderr == ""
    assert result.output.splitlines() == [SUMMARY.format(3, 0, 0)]


def test_the_audit_chain_verifies_after_a_chunked_import(
    world, english_cli, runner, tmp_path, small_chunks
):
    sealed = verify_chain().sealed
    assert invoke(runner, write(tmp_path, records(7))).exit_code == 0
    report = verify_chain()
    assert report.problems == []
    # per case its registration and its import, and one entry per track: the example has two
    # tracks (lines 1, 4, 7), the terminated case two (2, 5), the case just received none
    assert report.sealed - sealed == 7 * 2 + 3 * 2 + 2 * 2


def test_each_case_of_a_batch_has_the_history_of_a_case_imported_alone(world, english):
    """The batch writes the rows ``_write`` writes for one case, in the same order."""
    alone = importing.import_lines([EXAMPLE.replace("\n", "")], actor=SystemActor("import"))
    assert alone.imported == 1
    one = db.session.scalar(select(Case).where(Case.external_id == "legacy-2025-0042"))
    second = copy.deepcopy(example())
    second["external_id"] = "legacy-2025-0043"
    third = copy.deepcopy(example())
    third["external_id"] = "legacy-2025-0044"
    batch = importing.import_lines(
        [line(second), line(third)], actor=SystemActor("import"), chunk_size=10
    )
    assert batch.imported == 2

    def history(case: Case) -> list[tuple[Any, ...]]:
        rows = db.session.scalars(
            select(CaseTransition)
            .where(CaseTransition.case_id == case.id)
            .order_by(CaseTransition.id)
        )
        return [(r.event, r.kind, r.from_state, r.to_state, r.at, r.track_id is None) for r in rows]

    for external_id in ("legacy-2025-0043", "legacy-2025-0044"):
        case = db.session.scalar(select(Case).where(Case.external_id == external_id))
        assert history(case) == history(one)
        assert case.state == one.state and case.closed_at == one.closed_at
        assert [v.sex for v in case.victims] == [v.sex for v in one.victims]
        assert len(case.victims[0].consents) == len(one.victims[0].consents)
    references = sorted(db.session.scalars(select(Case.reference)))
    assert references == [f"UPTDPPA-3273-2025-0000{i}" for i in (1, 2, 3)]


def test_a_record_refused_while_its_batch_is_written_is_reported_and_the_rest_imports(
    world, english, monkeypatch
):
    real = importing.create_tracks

    def refuse_one(case: Any, specs: Any, **kwargs: Any) -> Any:
        if case.external_id == "legacy-chunk-2":
            raise DomainError("refused by the test", field="tracks-0-type")
        return real(case, specs, **kwargs)

    real_entries = rows.append_entries

    def refuse_batch(session: Any, entries: Any) -> None:
        # a batch written as rows (PostgreSQL): refused once its rows are in
        if any(e["changes"].get("external_id") == "legacy-chunk-2" for e in entries):
            raise DomainError("refused by the test", field="status")
        real_entries(session, entries)

    monkeypatch.setattr(importing, "create_tracks", refuse_one)
    monkeypatch.setattr(rows, "append_entries", refuse_batch)
    result = importing.import_lines(records(4), actor=SystemActor("import"), chunk_size=10)
    assert result.rejected == [(2, "services[0].type: refused by the test")]
    assert result.imported == 3
    assert external_ids() == ["legacy-chunk-1", "legacy-chunk-3", "legacy-chunk-4"]
    assert verify_chain().problems == []
    count = db.session.scalar(select(func.count()).select_from(Case))
    assert count == 3
