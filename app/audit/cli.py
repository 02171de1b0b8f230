"""``flask audit verify``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.audit.queries import verify_chain

audit_cli = click.Group("audit", help="The audit log.")


@audit_cli.command("verify")
@with_appcontext
def verify() -> None:
    """Recompute the hash and HMAC of every audit entry and check the chain.

    Prints ``ok: N entries`` and the head of the chain (keep it somewhere else: an entry deleted
    from the end leaves no gap the chain can show), or ``entry ID: problem`` for each edited,
    deleted, re-sealed or unsealed entry and exits 1. Entries from which personal data was
    removed later are counted as redacted when a sealed ``audit.redact`` entry attests exactly
    what they hold now.
    """
    report = verify_chain()
    if report.unsealed_before:
        click.echo(f"{report.unsealed_before} earlier entries were written before the chain")
    if report.redacted:
        click.echo(
            f"{len(report.redacted)} entries redacted, each attested by a sealed audit.redact entry"
        )
    if not report.ok:
        for entry_id, problem in report.problems:
            click.echo(f"entry {entry_id}: {problem}")
        raise SystemExit(1)
    click.echo(f"ok: {report.sealed} entries")
    if report.head_id is not None:
        click.echo(f"head: entry {report.head_id} {report.head_hash}")
