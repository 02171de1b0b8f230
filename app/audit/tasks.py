"""The daily record of the chain's head (``flask audit head`` by hand)."""

from __future__ import annotations

import logging

from app.audit.queries import chain_head
from app.core.tasks import task

log = logging.getLogger(__name__)


@task(name="audit.log_head")
def log_head(now: str | None = None) -> dict[str, str]:
    """Write the head of the chain to the application log, which leaves the server (journald
    forwarded to a log host, docs/operations.md): a later ``flask audit verify --expect`` holds
    the log to it. Reads one row; the full check is ``flask audit verify``."""
    head = chain_head()
    log.info("audit chain head: %s", head)
    return {"head": str(head)}
