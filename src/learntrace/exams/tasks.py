"""Background work of exams: sittings whose client disappeared are submitted when their time is up."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from learntrace.core.locks import one_at_a_time
from learntrace.exams import services


@db_periodic_task(crontab(minute="*"))
@one_at_a_time("exams-close-overdue")
def close_overdue_sittings() -> None:
    services.close_overdue()
