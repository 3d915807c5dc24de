"""Background work of the records: old beats archived each night (ARCHIVE_BEATS_AFTER_MONTHS)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from learntrace.core.locks import one_at_a_time
from learntrace.records import archive


@db_periodic_task(crontab(hour="2", minute="37"))
@one_at_a_time(archive.LOCK)
def archive_old_beats() -> None:
    """Nothing when ARCHIVE_BEATS_AFTER_MONTHS is 0."""
    archive.archive_by_retention()
