"""``flask audit verify`` and ``flask audit head``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask.cli import with_appcontext

from app.audit.queries import (
    BadHead,
    ChainHead,
    chain_head,
    expected_head_problem,
    verify_chain,
)

audit_cli = click.Group("audit", help="The audit log.")


if TYPE_CHECKING:
    _HeadParamBase = click.ParamType[ChainHead]
else:  # click's ParamType takes the value's type only since click 8.3
    _HeadParamBase = click.ParamType


class HeadParam(_HeadParamBase):
    name = "ID:HASH"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> ChainHead:
        if isinstance(value, ChainHead):
            return value
        try:
            return ChainHead.parse(str(value))
        except BadHead as exc:
            self.fail(str(exc), param, ctx)


@audit_cli.command("verify")
@click.option(
    "--expect",
    type=HeadParam(),
    default=None,
    help="A head kept outside the database (`flask audit head`, ID:HASH): the chain must "
    "still hold that entry with that hash.",
)
@with_appcontext
def verify(expect: ChainHead | None) -> None:
    """Recompute the hash and HMAC of every audit entry and check the chain.

    Prints ``ok: N entries`` and the head of the chain (keep it somewhere else: an entry deleted
    from the end leaves no gap the chain can show), or ``entry ID: problem`` for each edited,
    deleted, re-sealed, unsealed or forged entry and exits 1. With ``--expect ID:HASH`` (a head
    kept earlier) it also exits 1 when the chain no longer holds that entry with that hash: the
    log was cut back at its end, or rebuilt. Entries from which personal data was removed later
    are counted as redacted when a sealed ``audit.redact`` entry attests exactly what they hold
    now.
    """
    report = verify_chain(remember=expect.entry_id if expect is not None else None)
    if report.unsealed_before:
        click.echo(f"{report.unsealed_before} earlier entries were written before the chain")
    if report.redacted:
        click.echo(
            f"{len(report.redacted)} entries redacted, each attested by a sealed audit.redact entry"
        )
    head_problem = expected_head_problem(report, expect) if expect is not None else None
    if not report.ok or head_problem:
        for entry_id, problem in report.problems:
            click.echo(f"entry {entry_id}: {problem}")
        if head_problem:
            click.echo(head_problem)
        raise SystemExit(1)
    click.echo(f"ok: {report.sealed} entries")
    if report.head_id is not None:
        click.echo(f"head: entry {report.head_id} {report.head_hash}")
    if expect is not None:
        click.echo(f"expected head: entry {expect.entry_id} is in the chain")


@audit_cli.command("head")
@with_appcontext
def head() -> None:
    """Print the head of the chain as ``ID:HASH`` (the last sealed entry; ``0:000…`` while the
    log is empty). Keep it outside the database, e.g. daily: ``flask audit verify --expect
    ID:HASH`` later proves the log still holds that entry unchanged. Does not check the chain
    (``flask audit verify`` does)."""
    click.echo(str(chain_head()))
