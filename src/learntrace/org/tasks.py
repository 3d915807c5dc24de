"""Background work of the organisation: running uploaded imports, and removing
uploaded files (they hold personal data) once they are no longer needed.

An import's file is in the shared storage (written by the web node that received it, or by the sync
that read a directory); each step reads a local copy of it on whichever worker runs the step."""

import logging
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.core.files import local_copy, remove
from learntrace.core.logs import log_failure
from learntrace.org.importing import UNEXPECTED_ERROR, ImportFileError, ImportResult, OrgImport
from learntrace.org.models import ImportBatch
from learntrace.org.snapshots import DirectoryImport

log = logging.getLogger(__name__)


def progress_key(batch_id) -> str:
    return f"import-progress:{batch_id}"


def _progress_writer(batch_id):
    # The real import runs in one transaction, so its progress cannot be read
    # from the batch row until it commits; the shared cache carries it instead.
    state = {"last": -1}

    def write(done: int, total: int) -> None:
        if done - state["last"] >= 500 or done >= total:
            state["last"] = done
            cache.set(progress_key(batch_id), (done, total), 3600)

    return write


def remove_stored_file(batch: ImportBatch) -> None:
    # A directory sync that failed before the directory answered has no file.
    if batch.stored_path:
        remove(batch.stored_path)


def finish(batch: ImportBatch, status: str, result=None, file_error: str = "") -> None:
    batch.status = status
    batch.finished_at = timezone.now()
    if result is not None:
        batch.summary = result.counts
        batch.errors = result.errors
        batch.error_count = result.error_count
        batch.changed_rows = result.changed_rows
        batch.changed_row_count = result.changed_row_count
        batch.total_rows = result.total_rows
        batch.processed_rows = result.total_rows
    if file_error:
        batch.errors = [{"row": 0, "column": "", "message": file_error, "sheet": ""}]
        batch.error_count = 1
    batch.save()
    cache.delete(progress_key(batch.pk))
    if status != ImportBatch.Status.VALIDATED:
        # Only a checked file waiting for confirmation is read again.
        remove_stored_file(batch)


def _claim(batch_id, from_statuses: tuple[str, ...], to_status: str, **fields) -> ImportBatch | None:
    # Conditional update: a task delivered twice, or two workers, run the batch once.
    if not ImportBatch.objects.filter(pk=batch_id, status__in=from_statuses).update(status=to_status, **fields):
        return None
    return ImportBatch.objects.get(pk=batch_id)


def _run(batch: ImportBatch, step, done_status: str) -> None:
    """Run one step of the import and always end the batch: a file that cannot be read, or
    anything unexpected, fails it with a reason in the uploader's language."""
    with translation.override(batch.language):
        try:
            result = step()
        except ImportFileError as exc:
            finish(batch, ImportBatch.Status.FAILED, file_error=str(exc))
            return
        except Exception as exc:
            log_failure(log, f"organisation import {batch.pk} failed", exc)
            finish(batch, ImportBatch.Status.FAILED, file_error=str(UNEXPECTED_ERROR))
            return
        finish(batch, done_status if result.ok else ImportBatch.Status.INVALID, result)


FILE_GONE = gettext_lazy("The uploaded file can no longer be read from the shared storage; nothing was changed. "
                         "Upload the file again.")


def on_stored_file(batch: ImportBatch, step: Callable[[OrgImport], ImportResult]) -> Callable[[], ImportResult]:
    """`step` of the import that reads a local copy of this batch's stored file: an uploaded file, or a
    directory's snapshot."""
    kind = OrgImport if batch.source == ImportBatch.Source.FILE else DirectoryImport

    def run() -> ImportResult:
        with ExitStack() as copied:
            try:
                path = copied.enter_context(local_copy(batch.stored_path))
            except OSError as exc:
                log_failure(log, f"organisation import {batch.pk}: its stored file cannot be read", exc)
                raise ImportFileError(str(FILE_GONE)) from exc
            return step(kind(path, batch.file_name, deactivate_missing=batch.deactivate_missing,
                             progress=_progress_writer(batch.pk)))

    return run


def check_batch(batch: ImportBatch) -> None:
    """The dry run of a batch that is being checked; ends it validated, invalid or failed."""
    _run(batch, on_stored_file(batch, lambda run: run.dry_run()), ImportBatch.Status.VALIDATED)


def confirm_import(*, batch_id, actor) -> bool:
    """Start importing a checked batch: it becomes "import started" at once (so its page follows the
    import instead of offering it again) and the worker applies it. False if it was not waiting for
    confirmation, e.g. a second click or a second tab: it is imported once."""
    started = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.VALIDATED).update(
        status=ImportBatch.Status.QUEUED, applying_since=timezone.now())
    if started:
        actor_id = actor.pk
        transaction.on_commit(lambda: apply_import(batch_id, actor_id))
    return bool(started)


def apply_batch(batch_id, actor) -> None:
    """Apply a confirmed (or, for a directory sync, validated) batch once (claimed), all or nothing."""
    batch = _claim(batch_id, (ImportBatch.Status.QUEUED, ImportBatch.Status.VALIDATED), ImportBatch.Status.APPLYING,
                   applying_since=timezone.now())
    if batch is None:
        return
    _run(batch, on_stored_file(batch, lambda run: run.apply(actor=actor)), ImportBatch.Status.APPLIED)


@db_task()
def validate_import(batch_id) -> None:
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.VALIDATING).first()
    if batch is None:
        return
    check_batch(batch)


@db_task()
def apply_import(batch_id, actor_id) -> None:
    from django.contrib.auth import get_user_model

    apply_batch(batch_id, get_user_model().objects.filter(pk=actor_id).first())


UNCONFIRMED_UPLOAD_LIFETIME = timedelta(days=1)


def expire_unconfirmed_imports(now=None) -> int:
    """Files checked but never confirmed are deleted after a day; the batch says so."""
    cutoff = (now or timezone.now()) - UNCONFIRMED_UPLOAD_LIFETIME
    expired = 0
    for batch in ImportBatch.objects.filter(status=ImportBatch.Status.VALIDATED, created_at__lt=cutoff):
        if ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.VALIDATED).update(
                status=ImportBatch.Status.EXPIRED):
            remove_stored_file(batch)
            expired += 1
    return expired


# 100 000 rows are checked and imported in minutes; a step still running after this lost its
# worker (a restart, a crash) and would leave the page waiting forever.
STALLED_AFTER = timedelta(hours=6)
STALLED_ERROR = gettext_lazy("The check or import stopped without finishing (the background worker was interrupted); "
                             "nothing was written. Upload the file again.")


def fail_stalled_imports(now=None) -> int:
    cutoff = (now or timezone.now()) - STALLED_AFTER
    stalled = ImportBatch.objects.filter(Q(status=ImportBatch.Status.VALIDATING, created_at__lt=cutoff)
                                         | Q(status__in=[ImportBatch.Status.QUEUED, ImportBatch.Status.APPLYING],
                                             applying_since__lt=cutoff))
    failed = 0
    for batch in stalled:
        with translation.override(batch.language):
            error = [{"row": 0, "column": "", "message": str(STALLED_ERROR), "sheet": ""}]
        if ImportBatch.objects.filter(pk=batch.pk, status=batch.status).update(
                status=ImportBatch.Status.FAILED, errors=error, error_count=1, finished_at=timezone.now()):
            remove_stored_file(batch)
            cache.delete(progress_key(batch.pk))
            failed += 1
    return failed


@db_periodic_task(crontab(minute="17"))
def expire_unconfirmed_imports_hourly() -> None:
    expire_unconfirmed_imports()
    fail_stalled_imports()
