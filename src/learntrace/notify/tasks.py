"""Background work of reminders: the scheduler's pass every five minutes, and one task per send."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.notify import services


@db_periodic_task(crontab(minute="*/5"))
def send_reminders() -> None:
    services.run_reminders()


@db_task()
def send_delivery_task(delivery_id: int) -> None:
    services.send_delivery(delivery_id=delivery_id)
