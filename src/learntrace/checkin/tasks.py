"""Background upkeep of check-in: tickets of old scans are deleted (their check-in events stay)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from learntrace.checkin import services


@db_periodic_task(crontab(minute="41"))
def forget_old_tickets() -> None:
    services.forget_old_tickets()
