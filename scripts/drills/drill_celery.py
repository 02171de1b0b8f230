"""The Celery app of the worker drill: the application's own, with Redis told to hand an
unacknowledged message to another worker after 20 s instead of TASK_VISIBILITY_TIMEOUT_MINUTES
(10 minutes), so the drill does not wait that long. See docs/reliability.md §2."""

from wsgi import celery

celery.conf.broker_transport_options = {
    "visibility_timeout": 20,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
