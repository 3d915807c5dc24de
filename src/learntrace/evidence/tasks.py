"""Sealing in the background, and verification on request."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.core.locks import one_at_a_time
from learntrace.evidence import archive, services


@db_periodic_task(crontab(minute="*/5"))
def seal_new_facts() -> None:
    services.seal_pending(via="worker")


@db_task()
def verify_now() -> None:
    started = timezone.now()
    services.record_verification(report=services.verify(), started_at=started)


@db_periodic_task(crontab(hour="2", minute="37"))
@one_at_a_time("evidence-archive")
def archive_old_beats() -> None:
    """ARCHIVE_BEATS_AFTER_MONTHS: nothing when it is 0."""
    archive.archive_by_retention()
