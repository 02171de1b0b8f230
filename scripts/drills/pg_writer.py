"""Committed writes through the application's own session (pool_pre_ping on), one row per
number, for ``DURATION`` seconds. A write whose commit fails is retried until it commits; a
retry that finds its row already there means the failed commit had in fact gone through.
Prints the numbers the client saw committed, then checks every one of them is in the database."""

import sys
import time

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from wsgi import app

DURATION = float(sys.argv[1]) if len(sys.argv) > 1 else 12.0

with app.app_context():
    from app.extensions import db

    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE IF NOT EXISTS drill_writes"
                " (n int PRIMARY KEY, at timestamptz DEFAULT now())"
            )
        )
    acked: list[int] = []
    errors: list[str] = []
    n, deadline = 0, time.monotonic() + DURATION
    while time.monotonic() < deadline:
        n += 1
        while True:
            try:
                db.session.execute(sa.text("INSERT INTO drill_writes (n) VALUES (:n)"), {"n": n})
                db.session.commit()
                acked.append(n)
                break
            except IntegrityError:  # the earlier, failed-looking commit had gone through
                db.session.rollback()
                acked.append(n)
                errors.append(f"{n}: already committed")
                break
            except DBAPIError as error:
                db.session.rollback()
                errors.append(f"{n}: {type(error.orig).__name__}")
                time.sleep(0.2)
        time.sleep(0.005)
    db.session.remove()
    with db.engine.connect() as conn:
        stored = set(conn.scalars(sa.text("SELECT n FROM drill_writes")))
    missing = sorted(set(acked) - stored)
    print(f"writes acknowledged: {len(acked)}, rows stored: {len(stored)}, missing: {missing}")
    more = " ..." if len(errors) > 3 else ""
    print(f"failed attempts retried: {len(errors)}: {errors[:3]}{more}")
    print("RESULT:", "no committed write lost" if not missing else "LOST WRITES")
    sys.exit(1 if missing else 0)
