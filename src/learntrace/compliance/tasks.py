"""Background work of compliance: standings follow the records, periods are judged and frozen."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from learntrace.compliance import services
from learntrace.core.locks import one_at_a_time

# The minute's and the hourly refresh share a lock: both write the same standings.


@db_periodic_task(crontab(minute="*"))
@one_at_a_time("compliance-refresh")
def refresh_changed_standings() -> None:
    services.refresh_changed()


@db_periodic_task(crontab(minute="*/5"))
@one_at_a_time("compliance-periods")
def judge_periods() -> None:
    services.process_periods()


@db_periodic_task(crontab(minute="7"))
@one_at_a_time("compliance-refresh")
def refresh_open_standings() -> None:
    services.refresh_open()
