"""Where the monthly reports are kept: the ``REPORT_DIR`` file store (``app.core.storage``),
outside the web root, each file under a new random name with mode 0600; removed again when the
job that wrote it is rolled back."""

from __future__ import annotations

from typing import IO

from app.core.storage import FileStore, reports
from app.indicators.models import ReportJob


def report_files() -> FileStore:
    return reports()


def store(content: bytes, extension: str) -> str:
    """Write ``content`` under a new random name (``<hex>.<extension>``); its name."""
    return report_files().put_bytes(content, suffix=f".{extension}")


def stored(job: ReportJob) -> bool:
    """Whether the finished job's file is there to be downloaded."""
    return bool(job.stored_name) and report_files().exists(job.stored_name or "")


def open_report(job: ReportJob) -> IO[bytes]:
    """The job's file for reading; ``FileNotFoundError`` when it is missing."""
    return report_files().open(job.stored_name or "")


def download_name(job: ReportJob) -> str:
    region = job.region.code.replace(".", "") if job.region is not None else "nasional"
    return f"laporan-{region}-{job.period}.{job.format}"
