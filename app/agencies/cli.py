"""``flask agencies import|taskforce-create|member-add|member-remove``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from app.agencies import operations as ops
from app.agencies.models import Agency, SubTaskForce
from app.agencies.queries import get_agency_by_code, get_sub_task_force, get_task_force_for_region
from app.audit.operations import SystemActor, write_batch
from app.core.cli import import_command
from app.core.enums import SubTaskForceKey
from app.core.errors import DomainError, ImportRowError
from app.core.i18n import gettext
from app.core.imports import SeenKeys
from app.extensions import db
from app.regions.queries import get_region_by_code

T = TypeVar("T")

COLUMNS = ("code", "name", "type", "region_code", "services")

agencies_cli = click.Group("agencies", help="Agencies (lembaga) and task forces (GT P2TPPO).")


def _write() -> None:
    """The file's rows, written together (new rows inserted table by table)."""
    write_batch(db.session)


def parse_services(value: str) -> list[str]:
    """``"pengaduan; rehabilitasi_sosial"`` → ``["pengaduan", "rehabilitasi_sosial"]``."""
    return [part.strip() for part in value.split(";") if part.strip()]


@agencies_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row, print the counts, write nothing.")
@with_appcontext
def import_agencies(file: Path, dry_run: bool) -> None:
    """Upsert agencies from a CSV file with the columns code,name,type,region_code,services
    (services: service types separated by ';', may be empty). A file with any bad row writes
    nothing."""
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
        _, outcome = ops.upsert_agency(
            code,
            row["name"],
            row["type"],
            row["region_code"],
            parse_services(row["services"]),
            actor=actor,
            book=book,
        )
        return outcome

    import_command(file, COLUMNS, apply_row, dry_run=dry_run, batched=True, write=_write)


@contextmanager
def _one_command() -> Iterator[None]:
    """Run a command's work in the default locale; on any refusal roll back and exit non-zero
    with the reason on one line; otherwise commit."""
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        try:
            yield
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(" ".join(str(exc.message).split())) from exc
        except click.ClickException:
            db.session.rollback()
            raise
    db.session.commit()


def _need(value: T | None, message: Callable[[], str]) -> T:
    if value is None:
        raise click.ClickException(message())
    return value


def _find_sub_task_force(region_code: str, key: str) -> SubTaskForce:
    if key not in {k.value for k in SubTaskForceKey}:
        raise click.ClickException(
            gettext(
                "unknown Sub GT key %(key)s (one of: %(keys)s)",
                key=repr(key),
                keys=", ".join(k.value for k in SubTaskForceKey),
            )
        )
    _need(
        get_region_by_code(region_code),
        lambda: gettext("there is no region with the code %(code)s", code=repr(region_code)),
    )
    _need(
        get_task_force_for_region(region_code),
        lambda: gettext(
            "region %(code)s has no task force (create it with "
            "'flask agencies taskforce-create %(code)s')",
            code=region_code,
        ),
    )
    return _need(
        get_sub_task_force(region_code, key),
        lambda: gettext("the task force has no Sub GT %(key)s", key=key),
    )


def _find_agency(code: str) -> Agency:
    return _need(
        get_agency_by_code(code),
        lambda: gettext("there is no agency with the code %(code)s", code=repr(code)),
    )


@agencies_cli.command("taskforce-create")
@click.argument("region_code")
@click.option("--name", default=None, help='Default: "GT P2TPPO <region name>".')
@with_appcontext
def taskforce_create(region_code: str, name: str | None) -> None:
    """Create the task force (GT P2TPPO) of a province or regency/city with its six Sub GTs."""
    with _one_command():
        task_force = ops.create_task_force(region_code, name=name, actor=SystemActor("cli"))
        message = (
            f"created task force {task_force.id} ({task_force.name}) for "
            f"{task_force.region.code} with {len(task_force.sub_task_forces)} Sub GTs"
        )
    click.echo(message)


@agencies_cli.command("member-add")
@click.argument("region_code")
@click.argument("subgt_key")
@click.argument("agency_code")
@with_appcontext
def member_add(region_code: str, subgt_key: str, agency_code: str) -> None:
    """Make AGENCY_CODE a member of the Sub GT SUBGT_KEY of the task force of REGION_CODE."""
    with _one_command():
        sub_task_force = _find_sub_task_force(region_code, subgt_key)
        agency = _find_agency(agency_code)
        ops.add_member(sub_task_force, agency, actor=SystemActor("cli"))
    click.echo(f"added {agency_code} to {region_code}/{subgt_key}")


@agencies_cli.command("member-remove")
@click.argument("region_code")
@click.argument("subgt_key")
@click.argument("agency_code")
@with_appcontext
def member_remove(region_code: str, subgt_key: str, agency_code: str) -> None:
    """Remove AGENCY_CODE from the Sub GT SUBGT_KEY of the task force of REGION_CODE."""
    with _one_command():
        sub_task_force = _find_sub_task_force(region_code, subgt_key)
        agency = _find_agency(agency_code)
        ops.remove_member(sub_task_force, agency, actor=SystemActor("cli"))
    click.echo(f"removed {agency_code} from {region_code}/{subgt_key}")
