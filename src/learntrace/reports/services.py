"""Export jobs: asked for in a page, written by the worker into the shared storage (the folder or the
bucket), downloaded through any web node by the person who asked (and nobody else), deleted after a day."""

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation

from learntrace.core import locks
from learntrace.core.files import remove, store
from learntrace.core.spreadsheets import write_csv, write_xlsx
from learntrace.reports import exports
from learntrace.reports.forms import ReportFilterForm
from learntrace.reports.models import ExportJob
from learntrace.reports.selectors import Scope

log = logging.getLogger(__name__)


def stored_name(job: ExportJob) -> str:
    return f"exports/{job.pk}.{job.file_format}"


def file_name(report: exports.Report, file_format: str) -> str:
    return f"{report.key}-{timezone.localdate():%Y%m%d}.{file_format}"


def request_export(*, user, report: str, file_format: str, query: dict, language: str,
                   total_rows: int) -> ExportJob:
    """Record the request; the worker starts once the row is committed."""
    from learntrace.reports.tasks import run_export

    job = ExportJob.objects.create(requested_by=user, report=report, file_format=file_format, query=query,
                                   language=language, total_rows=total_rows)
    transaction.on_commit(lambda: run_export(job_id=str(job.pk)))
    return job


def _query_dict(query: dict) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in query.items():
        data[name] = value
    return data


def _writer_lock(job_id) -> str:
    return f"export-{job_id}"


@contextmanager
def claimed_export(job_id) -> Iterator[bool]:
    """Claim a queued job for writing: True when this process is its writer. The writer holds the
    job's lock from before the claim until the job is finished, so a running job whose lock is free
    has lost its writer (see fail_abandoned_exports)."""
    with locks.exclusive(_writer_lock(job_id)) as held:
        yield held and bool(ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
            status=ExportJob.Status.RUNNING))  # else delivered twice, or already taken by another worker
    if held:  # never the file of a lock someone else holds
        locks.forget(_writer_lock(job_id))


def run_export(*, job_id) -> ExportJob | None:
    with claimed_export(job_id) as claimed:
        return _write_export(job_id) if claimed else None


def _write_export(job_id) -> ExportJob:
    """Write the file of a claimed job. The scope is the requester's as it is now: someone who lost a
    role since asking gets only what they may still read."""
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    report = exports.REPORTS[job.report]
    folder = tempfile.TemporaryDirectory(prefix="learntrace-export-")  # written here, then stored
    path = Path(folder.name) / f"{job.pk}.{job.file_format}"

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done_rows=done)

    try:
        with translation.override(job.language):
            user = get_user_model().objects.get(pk=job.requested_by_id)
            form = ReportFilterForm(_query_dict(job.query), user=user)
            if not form.is_valid():
                raise ValueError("the filters are no longer valid")
            scope, filters = Scope.of(user), form.filters()
            if report.needs_course and filters.course is None:
                raise ValueError("a course is needed")
            writer = write_xlsx if job.file_format == "xlsx" else write_csv
            count = writer(path, report.headers(), report.rows(scope, filters), progress,
                           **({"sheet_name": str(report.title)} if job.file_format == "xlsx" else {}))
            with path.open("rb") as handle:
                name = store(stored_name(job), handle)
    except Exception as exc:
        log.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, finished_at=timezone.now(),
                                                   error=str(exc)[:300])
        return ExportJob.objects.get(pk=job.pk)
    finally:
        folder.cleanup()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, done_rows=count, total_rows=count, stored_path=name,
        file_name=file_name(report, job.file_format), finished_at=timezone.now())
    return ExportJob.objects.get(pk=job.pk)


def fail_abandoned_exports(*, now=None) -> int:
    """A worker killed or restarted while writing leaves its job "writing" for good: mark such jobs
    failed (the page then offers to ask again) and remove what was written. A job whose writer
    lives keeps its lock, so it is never taken for abandoned."""
    failed = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.RUNNING):
        with locks.exclusive(_writer_lock(job.pk)) as held:
            if held and ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
                    status=ExportJob.Status.FAILED, finished_at=now or timezone.now(),
                    error="the worker stopped while writing"):
                remove(stored_name(job))  # stored just before the writer stopped, if at all
                failed += 1
        if held:
            locks.forget(_writer_lock(job.pk))
    return failed


def delete_expired_exports(*, now=None) -> int:
    """Export files hold personal data: they and their jobs go a day after they were asked for."""
    cutoff = (now or timezone.now()) - settings.REPORTS_EXPORT_LIFETIME
    deleted = 0
    for job in ExportJob.objects.filter(created_at__lt=cutoff):
        if job.stored_path:
            remove(job.stored_path)
        job.delete()
        deleted += 1
    return deleted
