"""Background work of webhooks: one task per send, and a sweep every minute for sends that were
interrupted or whose task was lost."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from learntrace.webhooks import services


@db_periodic_task(crontab(minute="*"))
def sweep_webhooks() -> None:
    services.sweep()


@db_task()
def deliver_task(delivery_id: int) -> None:
    services.send_delivery(delivery_id=delivery_id)
