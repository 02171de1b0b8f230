"""``flask regions import`` and ``flask population import`` (interfaces.md §2).

Both read a UTF-8 CSV whose header holds exactly the documented columns (any order), check and
apply every row in one transaction, and either print ``created N, updated M, unchanged K`` and
commit, or print ``line L: reason`` for every bad row and exit 1 having written nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.audit.operations import SystemActor, write_batch
from app.core.cli import import_command
from app.core.errors import DomainError, ImportRowError
from app.core.i18n import gettext
from app.core.imports import SeenKeys
from app.extensions import db
from app.regions import operations as ops

REGION_COLUMNS = ("code", "name", "level", "parent_code")
POPULATION_COLUMNS = ("region_code", "year", "sex", "age_from", "age_to", "count")

regions_cli = click.Group("regions", help="Regions (wilayah).")
population_cli = click.Group("population", help="Population figures.")

_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


def _write() -> None:
    """The file's rows, written together (new rows inserted table by table)."""
    write_batch(db.session)


def _file_argument(f: click.decorators.FC) -> click.decorators.FC:
    return click.argument(
        "file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path)
    )(f)


def _dry_run_option(f: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--dry-run", is_flag=True, help="Check every row and print the counts; write nothing."
    )(f)


@regions_cli.command("import")
@_file_argument
@_dry_run_option
@with_appcontext
def import_regions(file: Path, dry_run: bool) -> None:
    """Create or rename regions from FILE.csv with the columns code,name,level,parent_code.

    level is provinsi, kabkota, kecamatan or desa; parent_code is empty for a province. Rows
    are applied in file order, so a parent must come before its children (a file sorted by
    code does). The level and parent of an existing code never change; only its name does.
    """
    actor = SystemActor("import")
    seen = SeenKeys()
    book = ops.ImportBook()

    def apply_row(line: int, row: dict[str, str]) -> str:
        code = row["code"]
        earlier = seen.first_line(code, line)
        if earlier is not None:
            raise ImportRowError(
                line, gettext("the code %(code)s is already on line %(n)d", code=code, n=earlier)
            )
        parent_code = row["parent_code"] or None
        try:
            _, outcome = ops.upsert_region(
                code, row["name"], row["level"], parent_code, actor=actor, book=book
            )
        except DomainError as exc:
            if (
                exc.field == "parent_code"
                and parent_code is not None
                and book.region(parent_code) is None
            ):
                raise ImportRowError(
                    line,
                    gettext(
                        "%(reason)s A parent must be in the database or on an earlier line.",
                        reason=str(exc.message),
                    ),
                ) from exc
            raise
        return outcome

    import_command(file, REGION_COLUMNS, apply_row, dry_run=dry_run, batched=True, write=_write)


def _integer(line: int, row: dict[str, str], column: str) -> int:
    text = row[column]
    if not _INTEGER.fullmatch(text):
        raise ImportRowError(
            line,
            gettext("%(column)s: %(value)s is not a whole number", column=column, value=repr(text)),
        )
    return int(text)


@population_cli.command("import")
@_file_argument
@_dry_run_option
@with_appcontext
def import_population(file: Path, dry_run: bool) -> None:
    """Create or update population figures from FILE.csv with the columns
    region_code,year,sex,age_from,age_to,count.

    sex is L or P; age_to empty means open-ended (e.g. 75+). A row with the same region, year,
    sex and age_from as a stored one updates it; the age ranges of one region, year and sex may
    not overlap.
    """
    actor = SystemActor("import")
    seen = SeenKeys()
    book = ops.ImportBook()

    def apply_row(line: int, row: dict[str, str]) -> str:
        year = _integer(line, row, "year")
        age_from = _integer(line, row, "age_from")
        age_to = _integer(line, row, "age_to") if row["age_to"] else None
        count = _integer(line, row, "count")
        key = (row["region_code"], year, row["sex"].upper(), age_from)
        earlier = seen.first_line(key, line)
        if earlier is not None:
            raise ImportRowError(
                line,
                gettext(
                    "the same region, year, sex and age_from are already on line %(n)d", n=earlier
                ),
            )
        _, outcome = ops.upsert_population(
            row["region_code"], year, row["sex"], age_from, age_to, count, actor=actor, book=book
        )
        return outcome

    import_command(file, POPULATION_COLUMNS, apply_row, dry_run=dry_run, batched=True, write=_write)
