"""Hostile input in the imports (issue #7, item 11): ``flask regions|agencies|population import
FILE.csv`` and ``flask cases import FILE.jsonl`` given script/SQL payloads, control characters,
overlong values, binary garbage, latin-1 bytes, empty files and huge lines.

Every run ends with a message, never a traceback; a refused file (or line) writes nothing; what
an accepted file stores reads back as plain text.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st

from app.agencies.models import Agency
from app.cases.models import Case
from app.extensions import db
from app.regions.models import Region
from tests.cases.test_import import EXAMPLE
from tests.cases.test_import import world as world_fixture
from tests.factories import KabkotaFactory
from tests.security.test_hostile_forms import (
    HYPOTHESIS,
    assert_round_trip,
    hostile,
    hostile_text,
    row_counts,
)

world = world_fixture

BAD_FILES = [
    b"",
    b"\xef\xbb\xbf",  # a byte-order mark and nothing else
    b"\x00\x01\x02\xff\xfe\xfd" * 100,
    "code,name\nNIÑO,Ca\xf1on\n".encode("latin-1"),  # not UTF-8
    b"PK\x03\x04" + bytes(range(256)),  # a zip (an .xlsx given by mistake)
    b"\n\n\n",
    b'"unterminated,quote\n',
    b"A" * 2_000_000,  # one huge line
    b"\r\r\r",
]


@pytest.fixture
def write(tmp_path: Path) -> Any:
    numbers = itertools.count()

    def write(content: bytes | str, suffix: str = ".csv") -> Path:
        path = tmp_path / f"file{next(numbers)}{suffix}"
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogatepass")
        path.write_bytes(content)
        return path

    return write


@pytest.fixture
def runner(app: Any) -> Any:
    return app.test_cli_runner()


def run(runner: Any, *args: str) -> Any:
    """Run the command; a traceback (any exception but the exit of a message) fails the test."""
    db.session.commit()  # what the test set up is written first
    before = row_counts()
    result = runner.invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        db.session.rollback()
        pytest.fail(
            f"{' '.join(args[:2])} raised {type(result.exception).__name__}: "
            f"{str(result.exception)[:400]}\noutput: {result.output[:400]!r}"
        )
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.output.strip(), "refused without a message"
        db.session.expire_all()
        assert row_counts() == before, "a refused file wrote rows"
    return result


def csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


# --- whole files that are not CSV ---------------------------------------------------------------


@pytest.mark.parametrize("group", ["regions", "agencies", "population", "cases"])
@pytest.mark.parametrize("content", BAD_FILES, ids=lambda c: repr(c[:12]))
def test_garbage_files_are_refused_with_a_message(
    runner: Any, write: Any, group: str, content: bytes
) -> None:
    suffix = ".jsonl" if group == "cases" else ".csv"
    result = run(runner, group, "import", str(write(content, suffix)))
    if group != "cases":  # a CSV import needs its header: none of these files has it
        assert result.exit_code != 0, result.output


@HYPOTHESIS
@given(content=st.binary(min_size=1, max_size=2000))
def test_random_bytes_are_refused_with_a_message(runner: Any, write: Any, content: bytes) -> None:
    for group in ("regions", "agencies", "population"):
        run(runner, group, "import", str(write(content)))
    run(runner, "cases", "import", str(write(content, ".jsonl")))


# --- hostile values in good CSV files -----------------------------------------------------------


@HYPOTHESIS
@given(column=st.sampled_from(["code", "name", "level", "parent_code"]), value=hostile)
@example(column="name", value="Desa\x00Satu")
def test_region_import(runner: Any, write: Any, column: str, value: str) -> None:
    row = {"code": "97", "name": "Provinsi Uji Impor", "level": "provinsi", "parent_code": ""}
    row[column] = value
    text = "code,name,level,parent_code\n" + ",".join(csv_field(row[c]) for c in row) + "\n"
    result = run(runner, "regions", "import", str(write(text)))
    if result.exit_code == 0 and column == "name":
        region = db.session.scalar(sa.select(Region).where(Region.code == "97"))
        assert region is not None
        assert_round_trip(region.name, value, column)


@HYPOTHESIS
@given(column=st.sampled_from(["code", "name", "type", "region_code", "services"]), value=hostile)
@example(column="name", value="UPTD\x00PPA")
def test_agency_import(runner: Any, write: Any, column: str, value: str) -> None:
    kab = KabkotaFactory()
    row = {
        "code": "UJI-IMPOR",
        "name": "Lembaga Uji Impor",
        "type": "uptd_ppa",
        "region_code": kab.code,
        "services": "pengaduan",
    }
    row[column] = value
    text = "code,name,type,region_code,services\n" + ",".join(csv_field(v) for v in row.values())
    result = run(runner, "agencies", "import", str(write(text + "\n")))
    if result.exit_code == 0 and column == "name":
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == "UJI-IMPOR"))
        assert agency is not None
        assert_round_trip(agency.name, value, column)


@HYPOTHESIS
@given(
    column=st.sampled_from(["region_code", "year", "sex", "age_from", "age_to", "count"]),
    value=hostile,
)
@example(column="count", value="9" * 5000)
@example(column="count", value="9" * 40)
@example(column="year", value="\u00b2")
def test_population_import(runner: Any, write: Any, column: str, value: str) -> None:
    kab = KabkotaFactory()
    row = {
        "region_code": kab.code,
        "year": "2025",
        "sex": "P",
        "age_from": "0",
        "age_to": "17",
        "count": "1000",
    }
    row[column] = value
    text = "region_code,year,sex,age_from,age_to,count\n" + ",".join(
        csv_field(v) for v in row.values()
    )
    run(runner, "population", "import", str(write(text + "\n")))


# --- hostile values in a JSON Lines case file ---------------------------------------------------

# where a value goes in the §3 example, and how to read it back from the imported case
CASE_TEXT = {
    ("kronologi",): lambda c: c.kronologi,
    ("victims", 0, "name"): lambda c: c.victims[0].name,
    ("perpetrators", 0, "name"): lambda c: c.perpetrators[0].name,
}
CASE_TYPED = [
    ("external_id",),
    ("agency",),
    ("received_at",),
    ("channel",),
    ("risk",),
    ("case_types",),
    ("status",),
    ("incident", "date"),
    ("incident", "region"),
    ("victims", 0, "birth_date"),
    ("victims", 0, "sex"),
    ("victims", 0, "key"),
    ("victims", 0, "consents", 0, "at"),
    ("perpetrators", 0, "age"),
    ("services", 0, "type"),
    ("services", 0, "provider"),
    ("services", 0, "started_at"),
    ("closed_at",),
]
WRONG_JSON = st.one_of(
    hostile,
    st.sampled_from([None, True, 0, -1, 10**30, 1.5e308, [], {}, ["x"], {"$gt": ""}, [[[[[]]]]]]),
    st.integers(-(2**80), 2**80),
)


def put(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


@HYPOTHESIS
@given(path=st.sampled_from([*CASE_TEXT, *CASE_TYPED]), value=WRONG_JSON)
@example(path=("kronologi",), value="Korban\x00datang")
@example(path=("victims", 0, "name"), value="Siti\x00")
@example(path=("external_id",), value="legacy\x00")
def test_case_import(runner: Any, write: Any, world: Any, path: Any, value: Any) -> None:
    record = copy.deepcopy(json.loads(EXAMPLE))
    record["external_id"] = f"hostile-{abs(hash((path, repr(value)))) % 10**9}"
    put(record, path, value)
    line = json.dumps(record, ensure_ascii=bool(path[0] == "agency"))
    result = run(runner, "cases", "import", str(write(line + "\n", ".jsonl")))
    if result.exit_code == 0 and path in CASE_TEXT and isinstance(value, str):
        case = db.session.scalar(sa.select(Case).order_by(Case.id.desc()))
        assert case is not None
        assert_round_trip(CASE_TEXT[path](case), value, ".".join(map(str, path)))


@HYPOTHESIS
@given(line=st.one_of(hostile_text, st.text(max_size=300)))
def test_case_import_of_lines_that_are_not_json_objects(
    runner: Any, write: Any, world: Any, line: str
) -> None:
    run(runner, "cases", "import", str(write(line.replace("\n", " ") + "\n", ".jsonl")))
