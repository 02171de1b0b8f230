"""``job.py start PERIOD`` queues a rollup job as a person would (through the outbox, sent after
the commit) and prints its id; ``job.py show ID`` prints its state, progress and message."""

import sys

import sqlalchemy as sa

from wsgi import app

with app.app_context():
    from app.auth.models import User
    from app.core.outbox import OutboxMessage
    from app.extensions import db
    from app.indicators.models import ReportJob
    from app.indicators.operations import start_job

    if sys.argv[1] == "start":
        actor = db.session.scalars(sa.select(User).order_by(User.id)).first()
        job = start_job("rollup", sys.argv[2], None, actor=actor)
        db.session.commit()
        sent = db.session.scalars(
            sa.select(OutboxMessage.sent_at).where(OutboxMessage.task_name == "indicators.run_job")
        ).all()
        print(f"job {job.id} queued; outbox row sent_at={sent[-1]}")
    else:
        job = db.session.get(ReportJob, int(sys.argv[2]))
        print(f"job {job.id}: state={job.state} progress={job.progress} message={job.message!r}")
