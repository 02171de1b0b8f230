"""Count the SQL statements the code sends to the database, to put ceilings on pages.

    with count_statements() as counted:
        client.get(url)
    assert counted.n <= 40, counted.report()

The count is of the statements sent on the application's engine (``db.engine``) by the thread
that opened the block (a request of the test client runs in it; the in-process scheduler's
thread does not count): every ``cursor.execute`` / ``executemany``, savepoints included.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.statements)

    @property
    def own(self) -> list[str]:
        """The statements of the code under test: the test's savepoints around it left out."""
        return [s for s in self.statements if not s.startswith(("SAVEPOINT", "RELEASE"))]

    def report(self, top: int = 10) -> str:
        """The most repeated statements (their first line), to find an N+1 in a failure."""
        heads = Counter(" ".join(s.split())[:160] for s in self.statements)
        lines = [f"{self.n} statements; the most repeated:"]
        lines += [f"{n:5d} x {text}" for text, n in heads.most_common(top)]
        return "\n".join(lines)


@contextmanager
def count_statements(engine: Engine | None = None) -> Iterator[Counted]:
    """Record the statements sent on ``engine`` (default: the application's) in the block."""
    if engine is None:
        from app.extensions import db

        engine = db.engine
    counted = Counted()
    thread = threading.get_ident()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == thread:
            counted.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", record)
