"""Background work of compliance: standings follow the records, periods are judged and frozen."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from learntrace.compliance import services


@db_periodic_task(crontab(minute="*"))
@lock_task("compliance-refresh")
def refresh_changed_standings() -> None:
    services.refresh_changed()


@db_periodic_task(crontab(minute="*/5"))
@lock_task("compliance-periods")
def judge_periods() -> None:
    services.process_periods()


@db_periodic_task(crontab(minute="7"))
@lock_task("compliance-refresh")
def refresh_open_standings() -> None:
    services.refresh_open()
