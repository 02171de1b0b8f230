"""The indicator pages, by job: ``dashboard`` (the dashboard and one indicator's detail),
``jobs`` (rollup jobs and closing a period), ``targets`` (yearly targets, by hand and by file),
``reports`` (the monthly report). Each registers its routes on the blueprint when imported."""

from app.indicators.views import dashboard, jobs, reports, targets

__all__ = ["dashboard", "jobs", "reports", "targets"]
