"""Background work of reports: writing large exports, failing those whose writer died, and deleting
them after a day."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.reports import services


@db_task()
def run_export(job_id) -> None:
    services.run_export(job_id=job_id)


@db_periodic_task(crontab(minute="*"))
def fail_abandoned_exports() -> None:
    services.fail_abandoned_exports()


@db_periodic_task(crontab(minute="23"))
def delete_expired_exports_hourly() -> None:
    services.delete_expired_exports()
