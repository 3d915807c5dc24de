"""Directory syncs run by the worker: one an admin started (checked, then confirmed on the import
page), the scheduled one, and the syncs of changes the platforms' events announce (both applied when
the check finds nothing wrong)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.directory.services import sync_begin, sync_run
from learntrace.directory.sources import DirectoryError
from learntrace.org.models import ImportBatch

log = logging.getLogger(__name__)

SCHEDULE_KEY = "directory-sync:scheduled"


def _waiting(batch_id) -> ImportBatch | None:
    return ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.VALIDATING, stored_path="").first()


@db_task()
def check_sync(batch_id) -> None:
    batch = _waiting(batch_id)
    if batch is not None:
        sync_run(batch, apply=False)


@db_task()
def apply_sync(batch_id, user_ids=(), department_ids=()) -> None:
    batch = _waiting(batch_id)
    if batch is not None:
        sync_run(batch, apply=True, user_ids=list(user_ids), department_ids=list(department_ids))


def scheduled_sync_due(now=None) -> bool:
    """True once per interval: the cache key claims the turn (add is atomic across processes)."""
    minutes = settings.DIRECTORY_SYNC_INTERVAL_MINUTES
    if not settings.DIRECTORY_SYNC_SOURCE or minutes <= 0:
        return False
    # A few seconds short of the interval, so that a minute's tick does not find the key still there.
    return cache.add(SCHEDULE_KEY, True, int(timedelta(minutes=minutes).total_seconds()) - 5)


def run_scheduled_sync() -> ImportBatch | None:
    if not scheduled_sync_due():
        return None
    try:
        batch = sync_begin(source=settings.DIRECTORY_SYNC_SOURCE,
                           deactivate_missing=settings.DIRECTORY_SYNC_DEACTIVATE_MISSING)
    except DirectoryError as exc:
        log.warning("scheduled directory sync not started: %s", exc)
        return None
    return sync_run(batch, apply=True)


@db_periodic_task(crontab(minute="*"))
def directory_sync_every_minute() -> None:
    run_scheduled_sync()
