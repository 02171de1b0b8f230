"""Writing the audit trail. Called by operations, inside their transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request

from app.audit.models import AuditEntry
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User


class SystemActor:
    """The actor of work no person did directly (CLI imports, demo data, periodic tasks)."""

    id = None
    is_authenticated = False

    def __init__(self, label: str = "system") -> None:
        self.label = label


def record(
    actor: User | SystemActor,
    action: str,
    object_type: str,
    object_id: object,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id,
        actor_label=actor.label if isinstance(actor, SystemActor) else "user",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=_jsonable(changes or {}),
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
